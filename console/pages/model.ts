import { z } from 'zod';
import type { ApiContext } from '../../api/context';
import { AUDIT_EVENT_TYPES } from '../../lib/audit';
import { filterAudit, type AuditEntry } from '../../lib/console/audit-entry';
import type { DriftHistoryEntry } from '../../lib/console/drift-history';
import type { Pipeline } from '../../lib/pipeline';
import { championAt, type ChampionPointer } from '../../lib/registry';
import { auditHistory, driftHistory, versionHistory, type VersionEntry } from '../../services/model-history';
import { readPointer } from '../../services/registry';
import { lineChart, type ChartMarker } from '../charts/line-chart';
import { stripChart } from '../charts/strip-chart';
import { html, type SafeHtml } from '../html';
import { runState, temporalRunUrl, type RunState } from '../run-state';
import { RUN_STEPS } from '../../shared/status';
import { ago, href, num, when } from '../views/layout';
import { runCell, verdict } from './models';

/** Checks per page of the drift charts, versions per page of the metric chart, rows per table page. */
export const CHECKS_PER_PAGE = 500;
export const VERSIONS_PER_CHART = 200;
export const ROWS_PER_PAGE = 25;
export const AUDIT_PER_PAGE = 50;

const AUDIT_TYPES = AUDIT_EVENT_TYPES;

const page = z.coerce.number().int().min(1).max(1_000_000).catch(1);
/** The Model page's query: which pages of its tables, the audit filters, and a time for "which version served then". */
export const modelQuerySchema = z.object({
  at: z.string().max(40).optional(),
  type: z.enum(AUDIT_TYPES).optional().catch(undefined),
  version: z.string().max(200).optional(),
  outcome: z.enum(['ok', 'failed', 'skipped', 'rejected']).optional().catch(undefined),
  audit: page,
  checks: page,
  versions: page,
});
export type ModelQuery = z.infer<typeof modelQuerySchema>;

/** The retrain form's fields. */
export const retrainFormSchema = z.object({
  reason: z.string().trim().max(2000, 'keep the reason under 2,000 characters').default(''),
  csrf: z.string().max(200).optional(),
});

export interface ModelPageData {
  pipeline: Pipeline;
  pointer: ChampionPointer;
  versions: VersionEntry[];
  audit: AuditEntry[];
  checks: DriftHistoryEntry[];
  run: RunState;
  temporalUi: { url: string | undefined; namespace: string };
}

export async function loadModelPage(ctx: ApiContext, model: string): Promise<ModelPageData> {
  const pipeline = await ctx.models.pipeline(model);
  const [{ pointer }, versions, audit, checks, run] = await Promise.all([
    readPointer(ctx.store, model),
    versionHistory(ctx.store, model),
    auditHistory(ctx.store, model),
    driftHistory(ctx.store, model),
    runState(ctx.temporal, model),
  ]);
  return {
    pipeline,
    pointer,
    versions,
    audit,
    checks,
    run,
    temporalUi: { url: ctx.config.temporalUiUrl, namespace: ctx.config.namespace },
  };
}

/** The page of `items` (newest last) to show: page 1 is the newest. */
function newestPage<T>(items: readonly T[], size: number, number: number): { rows: T[]; pages: number; number: number } {
  const pages = Math.max(1, Math.ceil(items.length / size));
  const n = Math.min(number, pages);
  const end = items.length - (n - 1) * size;
  return { rows: items.slice(Math.max(0, end - size), end), pages, number: n };
}

/** A link to the same page with some query values changed; `anchor` keeps the reader where they were. */
function withQuery(
  model: string,
  q: ModelQuery,
  change: Partial<Record<keyof ModelQuery, string | number | undefined>>,
  anchor: string,
): string {
  const merged: Record<string, string | number | undefined> = { ...q, ...change };
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(merged)) {
    if (v === undefined || v === '' || (typeof v === 'number' && v === 1 && k !== 'at')) continue;
    params.set(k, String(v));
  }
  const s = params.toString();
  return `${href('models', model)}${s ? `?${s}` : ''}#${anchor}`;
}

function pager(
  model: string,
  q: ModelQuery,
  key: 'audit' | 'checks' | 'versions',
  p: { pages: number; number: number },
  anchor: string,
  labels: [string, string],
): SafeHtml {
  if (p.pages <= 1) return html``;
  return html`<nav class="pager" aria-label="${labels[0]} and ${labels[1]}">
  ${p.number > 1 ? html`<a href="${withQuery(model, q, { [key]: p.number - 1 }, anchor)}">← ${labels[1]}</a>` : null}
  <span>page ${p.number} of ${p.pages}</span>
  ${p.number < p.pages ? html`<a href="${withQuery(model, q, { [key]: p.number + 1 }, anchor)}">${labels[0]} →</a>` : null}
</nav>`;
}

/** A version turned down by its gate or by an approver. */
function isRejection(e: AuditEntry): e is AuditEntry & { version: string } {
  return e.outcome === 'rejected' && (e.type === 'gate' || e.type === 'approval') && e.version !== null;
}

/** Promotions, rollbacks and rejections of the versions shown, as chart markers. */
function versionMarkers(versions: VersionEntry[], pointer: ChampionPointer, audit: AuditEntry[]): ChartMarker[] {
  const index = new Map(versions.map((v, i) => [v.version, i]));
  const out: ChartMarker[] = [];
  for (const change of pointer.history) {
    const v = change.action === 'promote' ? change.to : change.from;
    const i = v ? index.get(v) : undefined;
    if (i === undefined) continue;
    out.push(
      change.action === 'promote'
        ? { x: i, kind: 'promotion', label: `${v} promoted ${when(change.at)}` }
        : { x: i, kind: 'rollback', label: `${v} rolled back ${when(change.at)}: ${change.reason}` },
    );
  }
  for (const e of audit) {
    if (!isRejection(e)) continue;
    const i = index.get(e.version);
    if (i !== undefined) out.push({ x: i, kind: 'rejection', label: `${e.version} rejected (${e.type}): ${e.summary}` });
  }
  return out;
}

/** What a version became: champion, previous, promoted once, rejected, or only trained. */
function versionStatus(v: VersionEntry, pointer: ChampionPointer, rejected: Set<string>): { text: string; cls: string } {
  if (v.version === pointer.champion) return { text: 'champion', cls: 'good' };
  if (v.version === pointer.previous) return { text: 'previous', cls: 'info' };
  if (pointer.history.some((c) => c.action === 'rollback' && c.from === v.version)) return { text: 'rolled back', cls: 'bad' };
  if (pointer.history.some((c) => c.action === 'promote' && c.to === v.version)) return { text: 'retired', cls: 'muted' };
  if (rejected.has(v.version)) return { text: 'rejected', cls: 'bad' };
  return { text: 'not promoted', cls: 'muted' };
}

/** The run's steps: done, current, and what remains. */
function runSection(d: ModelPageData, now: number): SafeHtml {
  const { run } = d;
  if (run.kind !== 'known' && run.kind !== 'no-worker')
    return html`<p>${runCell(run)}${run.kind === 'unreachable' ? html` <span class="muted small">${run.why}</span>` : null}</p>`;
  const link = temporalRunUrl(d.temporalUi.url, d.temporalUi.namespace, run.description);
  const temporalLink = link
    ? html`<a href="${link}">this run in the Temporal UI</a>`
    : html`<span class="muted small">set RETRAIN_TEMPORAL_UI_URL to link to the Temporal UI</span>`;
  if (run.kind === 'no-worker')
    return html`<p>${runCell(run)} (started ${ago(run.description.startedAt, now)}). ${run.why}</p><p>${temporalLink}</p>`;
  const s = run.status;
  // The steps this run will take: every step but the bookends, approval only when it needs one, rollback only if it happens.
  const planned: string[] = RUN_STEPS.filter(
    (step) => !['starting', 'done', 'rollback'].includes(step) && (step !== 'approval' || s.approval.required),
  );
  const seen = new Map(s.steps.map((x) => [x.step as string, x]));
  const running = s.outcome === 'running';
  const done = planned.filter((p) => seen.has(p) && (p !== s.step || !running)).length;
  return html`<p>${runCell(run)} · version ${s.version ? html`<code>${s.version}</code>` : '–'} · asked by ${s.requestedBy ?? '–'}${s.reason ? html` (“${s.reason}”)` : null} · started ${ago(run.description.startedAt, now)}</p>
<p><label for="run-progress">Progress</label> <progress id="run-progress" max="${planned.length}" value="${running ? done : planned.length}">${done} of ${planned.length} steps</progress> ${running ? `${done} of ${planned.length} steps` : s.outcome}</p>
<ol class="steps">${planned.map((p) => {
    const x = seen.get(p);
    const state = !x ? (running ? 'todo' : 'skipped') : p === s.step && running ? 'current' : 'done';
    return html`<li class="${state}">${p}${x ? html` <span class="muted small">${x.durationMs !== null ? `${num(x.durationMs / 1000, 3)} s` : 'in progress'}</span>` : null}<span class="visually-hidden"> (${state})</span></li>`;
  })}</ol>
${s.message ? html`<p class="muted">${s.message}</p>` : null}
<p>${temporalLink}</p>`;
}

function servingAtSection(d: ModelPageData, q: ModelQuery): SafeHtml {
  let answer: SafeHtml | null = null;
  if (q.at) {
    const t = Date.parse(q.at.length === 16 ? `${q.at}:00Z` : q.at);
    if (!Number.isFinite(t))
      answer = html`<p class="notice error" role="alert">“${q.at}” is not a time: use the picker, or an ISO-8601 time such as 2026-11-02T14:30Z.</p>`;
    else {
      const iso = new Date(t).toISOString();
      const found = championAt(d.pointer, iso);
      const v = found?.version ? d.versions.find((x) => x.version === found.version) : undefined;
      answer = found?.version
        ? html`<div class="notice info" role="status"><p>At ${when(iso)}, <a href="${href('models', d.pipeline.name, 'versions', found.version)}"><code>${found.version}</code></a> was serving: ${found.change.action === 'promote' ? 'promoted' : 'restored by a rollback'} ${when(found.change.at)} by ${found.change.actor} (${found.change.reason}).</p>
${v ? html`<p>Lineage: trained ${when(v.createdAt)} on snapshot <code>${v.datasetSha256.slice(0, 12)}</code> (${num(v.rows.train)} training rows, ${num(v.rows.holdout)} holdout rows), code <code>${v.trainingCodeVersion}</code>.</p>` : null}</div>`
        : html`<p class="notice info" role="status">At ${when(iso)}, no version of ${d.pipeline.name} was serving yet.</p>`;
    }
  }
  return html`<form method="get" action="${href('models', d.pipeline.name)}#serving-at" class="inline">
  <label for="at">Time (UTC)</label> <input type="datetime-local" id="at" name="at" value="${q.at ?? ''}" required>
  <button type="submit">Which version?</button>
</form>${answer}`;
}

function auditSection(d: ModelPageData, q: ModelQuery): SafeHtml {
  const { rows, total, pages } = filterAudit(
    d.audit,
    { type: q.type, version: q.version || undefined, outcome: q.outcome },
    { number: q.audit, size: AUDIT_PER_PAGE },
  );
  const model = d.pipeline.name;
  return html`<form method="get" action="${href('models', model)}#audit" class="filters">
  <label for="f-type">Event</label> <select id="f-type" name="type"><option value="">any</option>${AUDIT_TYPES.map((t) => html`<option ${q.type === t ? html`selected` : null}>${t}</option>`)}</select>
  <label for="f-outcome">Outcome</label> <select id="f-outcome" name="outcome"><option value="">any</option>${(['ok', 'failed', 'skipped', 'rejected'] as const).map((o) => html`<option ${q.outcome === o ? html`selected` : null}>${o}</option>`)}</select>
  <label for="f-version">Version</label> <input id="f-version" name="version" value="${q.version ?? ''}" size="24">
  <button type="submit">Filter</button> <a href="${href('models', model)}#audit">clear</a>
</form>
<p class="muted small">${num(total)} event${total === 1 ? '' : 's'}${q.type || q.outcome || q.version ? ' match' : ''}, newest first.</p>
<div class="table-wrap"><table>
<thead><tr><th scope="col">When</th><th scope="col">Event</th><th scope="col">Outcome</th><th scope="col">Version</th><th scope="col">By</th><th scope="col">Summary</th></tr></thead>
<tbody>${rows.map(
    (
      e,
    ) => html`<tr><td>${when(e.at)}</td><td>${e.type}</td><td><span class="badge ${e.outcome === 'ok' ? 'good' : e.outcome === 'skipped' ? 'muted' : 'bad'}">${e.outcome}</span></td>
<td>${e.version ? html`<a href="${href('models', model, 'versions', e.version)}"><code>${e.version}</code></a>` : '–'}</td><td>${e.by ?? '–'}</td><td>${e.summary}</td></tr>`,
  )}</tbody></table></div>
${pager(model, q, 'audit', { pages, number: Math.min(q.audit, pages) }, 'audit', ['Older', 'Newer'])}`;
}

/** What the signed-in person may do on the page: start a retrain (with the `retrain` scope and a session's CSRF token). */
export interface ModelPageViewer {
  csrf: string | null;
  mayRetrain: boolean;
}

/** The form that starts a retrain, or why there is none: the same start as `POST /v1/models/{model}/retrain`. */
function retrainForm(model: string, run: RunState, viewer: ModelPageViewer): SafeHtml {
  if (run.kind === 'known' && run.status.outcome === 'running') return html``;
  if (run.kind === 'unreachable') return html``;
  if (!viewer.csrf || !viewer.mayRetrain)
    return html`<p class="muted small">Starting a retrain here needs a signed-in token with the <code>retrain</code> scope.</p>`;
  return html`<form method="post" action="${href('models', model, 'retrain')}" class="inline">
  <input type="hidden" name="csrf" value="${viewer.csrf}">
  <label for="retrain-reason">Reason</label> <input id="retrain-reason" name="reason" maxlength="2000" size="40" placeholder="new labels arrived">
  <button type="submit">Start a retrain</button>
</form>`;
}

/** The Model page's content. */
export function renderModelPage(d: ModelPageData, q: ModelQuery, now: number, viewer: ModelPageViewer): SafeHtml {
  const p = d.pipeline;
  const model = p.name;
  const metric = p.metrics.primary;
  const champion = d.pointer.champion ? d.versions.find((v) => v.version === d.pointer.champion) : undefined;
  const last = d.checks.at(-1) ?? null;
  const rejected = new Set(d.audit.filter(isRejection).map((e) => e.version));

  // The metric per version: the newest VERSIONS_PER_CHART versions of the page asked for.
  const vChart = newestPage(d.versions, VERSIONS_PER_CHART, q.versions);
  const vTable = newestPage(d.versions, ROWS_PER_PAGE, q.versions).rows.reverse();
  const markers = versionMarkers(vChart.rows, d.pointer, d.audit);
  // Drift, cost and latency over time: the checks of the page asked for.
  const cPage = newestPage(d.checks, CHECKS_PER_PAGE, q.checks);
  const checks = cPage.rows;
  const featureNames = [...new Set(checks.flatMap((c) => c.features))];
  const x = (c: DriftHistoryEntry) => Date.parse(c.at);
  const championServing = (c: DriftHistoryEntry) => c.serving.find((s) => s.version === c.version) ?? null;

  return html`<nav class="crumbs" aria-label="Breadcrumb"><a href="/ui">Models</a> › ${model}</nav>
<h1>${model}</h1>
<dl class="facts">
  <div><dt>Task</dt><dd>${p.task}</dd></div>
  <div><dt>Champion</dt><dd>${d.pointer.champion ? html`<a href="${href('models', model, 'versions', d.pointer.champion)}"><code>${d.pointer.champion}</code></a> since ${when(d.pointer.updatedAt)}` : 'none yet'}</dd></div>
  <div><dt>${metric} (holdout)</dt><dd>${num(champion?.holdout?.[metric])}</dd></div>
  <div><dt>Previous</dt><dd>${d.pointer.previous ? html`<a href="${href('models', model, 'versions', d.pointer.previous)}"><code>${d.pointer.previous}</code></a>` : '–'}</dd></div>
  <div><dt>Last drift check</dt><dd>${last ? html`<span class="badge ${verdict(last).cls}">${verdict(last).text}</span> ${ago(last.at, now)}` : 'never'}</dd></div>
  <div><dt>Versions</dt><dd>${num(d.versions.length)}</dd></div>
  <div><dt>Drift checks</dt><dd>${num(d.checks.length)}</dd></div>
  <div><dt>Owners</dt><dd>${Object.entries(p.owners as Record<string, string | undefined>)
    .filter(([, w]) => w)
    .map(([r, w]) => html`<span class="muted">${r}:</span> ${w}<br>`)}</dd></div>
  <div><dt>Approvers</dt><dd>${p.approval.mode === 'manual' ? p.approval.approvers.join(', ') : 'none (promotion is automatic)'}</dd></div>
</dl>
<p><a href="${href('models', model, 'readiness')}">Production readiness checklist</a> <span class="muted small">· JSON: <a href="/v1/models/${encodeURIComponent(model)}">/v1/models/${model}</a> (bearer token)</span></p>

<section aria-labelledby="run"><h2 id="run">Current run</h2>${runSection(d, now)}${retrainForm(model, d.run, viewer)}</section>

<section aria-labelledby="versions"><h2 id="versions">${metric} per version</h2>
${lineChart({
  id: 'metric-per-version',
  title: `${metric} on the holdout, per version`,
  description: `The ${vChart.rows.length} versions of this page, oldest on the left; promotions, rejections and rollbacks marked.`,
  xKind: 'category',
  categories: vChart.rows.map((v) => v.version),
  yLabel: metric,
  series: [
    { name: `${metric} (holdout)`, points: vChart.rows.map((v, i) => ({ x: i, y: v.holdout?.[metric] ?? null })) },
    {
      name: `${metric} of the champion it was compared with`,
      dashed: true,
      points: vChart.rows.map((v, i) => ({ x: i, y: v.against?.metrics[metric] ?? null })),
    },
  ],
  markers,
})}
<div class="table-wrap"><table>
<caption>Versions, newest first</caption>
<thead><tr><th scope="col">Version</th><th scope="col">Trained</th><th scope="col">${metric}</th><th scope="col">Champion then</th><th scope="col">Rows</th><th scope="col">Status</th></tr></thead>
<tbody>${vTable.map((v) => {
    const st = versionStatus(v, d.pointer, rejected);
    return html`<tr><td><a href="${href('models', model, 'versions', v.version)}"><code>${v.version}</code></a></td><td>${when(v.createdAt)}</td><td>${num(v.holdout?.[metric])}</td>
<td>${v.against ? html`<code>${v.against.version}</code> ${num(v.against.metrics[metric])}` : '–'}</td><td>${num(v.rows.train)} / ${num(v.rows.holdout)}</td><td><span class="badge ${st.cls}">${st.text}</span></td></tr>`;
  })}</tbody></table></div>
${pager(model, q, 'versions', newestPage(d.versions, VERSIONS_PER_CHART, q.versions), 'versions', ['Older', 'Newer'])}
</section>

<section aria-labelledby="drift"><h2 id="drift">Drift over time</h2>
<p class="muted small">${num(checks.length)} of ${num(d.checks.length)} checks${checks.length ? `, ${when(checks[0]!.at)} to ${when(checks.at(-1)!.at)}` : ''}.</p>
${lineChart({
  id: 'drift-share',
  title: 'Share of features that drifted, per check',
  description: 'Each drift check’s share of drifted features; checks that called drift are marked.',
  xKind: 'time',
  yLabel: 'share drifted',
  yDomain: [0, 1],
  series: [{ name: 'drifted share', points: checks.map((c) => ({ x: x(c), y: c.datasetDriftShare })) }],
  markers: checks.filter((c) => c.drifted).map((c) => ({ x: x(c), kind: 'drift' as const, label: `${when(c.at)}: ${c.summary}` })),
})}
${stripChart({
  id: 'feature-strip',
  title: 'Drift per feature',
  description: 'One row per feature, one cell per check: which features drifted when.',
  xKind: 'time',
  rows: featureNames.map((f) => ({
    name: f,
    cells: checks.map((c) => ({
      x: x(c),
      state:
        !c.enoughData || !c.features.includes(f)
          ? ('none' as const)
          : c.driftedFeatures.includes(f)
            ? ('drifted' as const)
            : ('stable' as const),
    })),
  })),
})}
<h3 id="checks">Checks and their reports</h3>
<div class="table-wrap"><table>
<thead><tr><th scope="col">When</th><th scope="col">Verdict</th><th scope="col">Version</th><th scope="col">Predictions</th><th scope="col">Drifted features</th><th scope="col">Report</th></tr></thead>
<tbody>${checks
    .slice(-ROWS_PER_PAGE)
    .reverse()
    .map(
      (
        c,
      ) => html`<tr><td>${when(c.at)}</td><td><span class="badge ${verdict(c).cls}">${verdict(c).text}</span></td><td>${c.version ? html`<code>${c.version}</code>` : '–'}</td><td>${num(c.rows)}</td>
<td>${c.driftedFeatures.join(', ') || '–'}</td><td><a href="${href('models', model, 'reports', c.checkId)}">report</a></td></tr>`,
    )}</tbody></table></div>
${pager(model, q, 'checks', cPage, 'drift', ['Older checks', 'Newer checks'])}
</section>

<section aria-labelledby="serving"><h2 id="serving">Cost and latency</h2>
${lineChart({
  id: 'latency',
  title: 'Champion p95 latency per check window (ms)',
  xKind: 'time',
  yLabel: 'ms',
  series: [
    { name: 'p95', points: checks.map((c) => ({ x: x(c), y: championServing(c)?.latencyMs.p95 ?? null })) },
    { name: 'p50', dashed: true, points: checks.map((c) => ({ x: x(c), y: championServing(c)?.latencyMs.p50 ?? null })) },
  ],
})}
${lineChart({
  id: 'cost',
  title: 'Champion cost per 1,000 predictions per check window',
  xKind: 'time',
  yLabel: 'cost / 1,000',
  series: [
    {
      name: 'cost per 1,000',
      points: checks.map((c) => {
        const per = championServing(c)?.cost.perPrediction;
        return { x: x(c), y: per === null || per === undefined ? null : per * 1000 };
      }),
    },
  ],
})}
</section>

<section aria-labelledby="serving-at"><h2 id="serving-at">Which version was serving at…</h2>${servingAtSection(d, q)}</section>

<section aria-labelledby="audit"><h2 id="audit">Audit log</h2>${auditSection(d, q)}</section>`;
}
