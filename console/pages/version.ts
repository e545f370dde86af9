import type { ApiContext } from '../../api/context';
import type { AuditEvent } from '../../lib/audit';
import type { GateDecision } from '../../lib/gate';
import { keys } from '../../lib/keys';
import type { Pipeline } from '../../lib/pipeline';
import type { ChampionPointer, ModelVersion } from '../../lib/registry';
import type { ServingSummary } from '../../lib/drift/report';
import { auditOfVersion, driftHistory } from '../../services/model-history';
import { readListed, readPointer, readVersion } from '../../services/registry';
import type { ApprovalState } from '../../shared/status';
import type { Evaluation } from '../../shared/results';
import { html, type SafeHtml } from '../html';
import { href, num, when } from '../views/layout';

export interface VersionPageData {
  pipeline: Pipeline;
  version: ModelVersion;
  pointer: ChampionPointer;
  evaluations: Evaluation[];
  events: AuditEvent[];
  /** Its figures in the latest drift check that saw it serve, and how many checks did (windows may overlap, so their predictions are not summed). */
  serving: { latest: ServingSummary & { at: string }; checks: number } | null;
}

export async function loadVersionPage(ctx: ApiContext, model: string, version: string): Promise<VersionPageData> {
  const pipeline = await ctx.models.pipeline(model);
  const v = await readVersion(ctx.store, model, version);
  const [{ pointer }, evaluations, events, checks] = await Promise.all([
    readPointer(ctx.store, model),
    ctx.store.list(keys.evaluationsOf(model, version)).then((listed) => readListed<Evaluation>(ctx.store, listed)),
    auditOfVersion(ctx.store, model, version),
    driftHistory(ctx.store, model),
  ]);
  let seen = 0;
  let latest: (ServingSummary & { at: string }) | null = null;
  for (const c of checks) {
    const s = c.serving.find((x) => x.version === version);
    if (!s) continue;
    seen++;
    latest = { ...s, at: c.at };
  }
  const serving = latest ? { latest, checks: seen } : null;
  return { pipeline, version: v, pointer, evaluations, events, serving };
}

function metricsTable(e: Evaluation, metric: string): SafeHtml {
  const names = [...new Set([...Object.keys(e.challenger), ...Object.keys(e.champion ?? {})])].sort((a, b) =>
    a === metric ? -1 : b === metric ? 1 : a.localeCompare(b),
  );
  return html`<table>
<caption>Holdout metrics (${num(e.holdoutRows)} rows)${e.championVersion ? html`, against <code>${e.championVersion}</code>` : ', no champion to compare with'}</caption>
<thead><tr><th scope="col">Metric</th><th scope="col">This version</th>${e.championVersion ? html`<th scope="col">Champion <code>${e.championVersion}</code></th><th scope="col">Difference</th>` : null}</tr></thead>
<tbody>${names.map((m) => {
    const a = (e.challenger as Record<string, number | null>)[m] ?? null;
    const b = e.champion ? ((e.champion as Record<string, number | null>)[m] ?? null) : null;
    return html`<tr><th scope="row">${m}${m === metric ? html` <span class="muted small">(primary)</span>` : null}</th><td>${num(a)}</td>${e.championVersion ? html`<td>${num(b)}</td><td>${a !== null && b !== null ? num(a - b, 3) : '–'}</td>` : null}</tr>`;
  })}</tbody></table>`;
}

function gateBlock(e: AuditEvent): SafeHtml {
  const g = e.details as Partial<GateDecision>;
  return html`<div class="card"><p><span class="badge ${g.passed ? 'good' : 'bad'}">${g.passed ? 'passed' : 'rejected'}</span> ${when(e.at)}: ${g.reason ?? e.summary}</p>
${
  g.checks?.length
    ? html`<table><thead><tr><th scope="col">Metric</th><th scope="col">Rule</th><th scope="col">Limit</th><th scope="col">This version</th><th scope="col">Champion</th><th scope="col">Result</th></tr></thead>
<tbody>${g.checks.map((c) => html`<tr><td>${c.metric}</td><td>${c.rule}</td><td>${num(c.threshold)}</td><td>${num(c.challenger)}</td><td>${num(c.champion)}</td><td><span class="${c.passed ? 'good' : 'bad'}">${c.passed ? 'passed' : 'failed'}</span> <span class="small">${c.message}</span></td></tr>`)}</tbody></table>`
    : null
}</div>`;
}

function approvalBlock(e: AuditEvent): SafeHtml {
  const a = e.details as Partial<ApprovalState>;
  return html`<div class="card"><p><span class="badge ${a.decision === 'approved' ? 'good' : 'bad'}">${a.decision ?? e.outcome}</span> by ${a.by ?? '–'} ${when(a.at ?? e.at)}${a.reason ? html`: “${a.reason}”` : null}</p>
<p class="muted small">Listed approvers: ${a.approvers?.join(', ') || '–'}</p>
${a.ignored?.length ? html`<p class="small">Not counted: ${a.ignored.map((i) => html`${i.action} by ${i.by} (${i.why}); `)}</p>` : null}</div>`;
}

/** The model card: printable, everything a reviewer asks of one version. */
export function renderVersionPage(d: VersionPageData): SafeHtml {
  const { version: v, pipeline: p, pointer } = d;
  const model = p.name;
  const metric = p.metrics.primary;
  const l = v.lineage;
  const changes = pointer.history.filter((c) => c.to === v.version || c.from === v.version);
  const gates = d.events.filter((e) => e.type === 'gate');
  const approvals = d.events.filter((e) => e.type === 'approval');
  const status = v.version === pointer.champion ? 'the champion' : v.version === pointer.previous ? 'the previous champion' : 'not serving';
  return html`<nav class="crumbs" aria-label="Breadcrumb"><a href="/ui">Models</a> › <a href="${href('models', model)}">${model}</a> › ${v.version}</nav>
<article class="model-card">
<h1>${model} <code>${v.version}</code></h1>
<p class="lede">A ${v.task} model trained ${when(v.createdAt)}; now ${status}. <span class="muted small no-print">Print it from the browser: the card is laid out for paper.</span></p>

<section aria-labelledby="lineage"><h2 id="lineage">Lineage</h2>
<dl class="facts">
  <div><dt>Data snapshot</dt><dd><code>${l.datasetSha256}</code><br><span class="muted small">${l.datasetKey}</span></dd></div>
  <div><dt>Rows</dt><dd>${num(l.rows.train)} training, ${num(l.rows.holdout)} holdout</dd></div>
  <div><dt>Label</dt><dd>${l.label}</dd></div>
  <div><dt>Features</dt><dd>${l.features.map((f) => html`${f.name} <span class="muted small">(${f.type})</span>; `)}</dd></div>
  <div><dt>Parameters</dt><dd><code>${JSON.stringify(l.params)}</code></dd></div>
  <div><dt>Seed</dt><dd>${l.seed}</dd></div>
  <div><dt>Training command</dt><dd><code>${l.trainingCommand.join(' ')}</code></dd></div>
  <div><dt>Code hash</dt><dd><code>${l.trainingCodeVersion}</code></dd></div>
  <div><dt>Libraries</dt><dd>${Object.entries(l.libraryVersions).map(([k, x]) => html`${k} ${x}; `)}</dd></div>
  <div><dt>Trained by run</dt><dd><code>${l.workflowId}</code> / <code>${l.runId}</code></dd></div>
</dl></section>

<section aria-labelledby="metrics"><h2 id="metrics">Metrics against the champion it was to replace</h2>
${d.evaluations.length ? d.evaluations.map((e) => metricsTable(e, metric)) : html`<p class="muted">Not evaluated.</p>`}
<p class="muted small">Training metrics: ${
    Object.entries(v.trainMetrics)
      .map(([k, x]) => `${k} ${num(x)}`)
      .join(', ') || '–'
  }</p></section>

<section aria-labelledby="gate"><h2 id="gate">Gate decision</h2>${gates.length ? gates.map(gateBlock) : html`<p class="muted">No gate decision recorded.</p>`}</section>

<section aria-labelledby="approvals"><h2 id="approvals">Approvals</h2>${
    approvals.length
      ? approvals.map(approvalBlock)
      : html`<p class="muted">${p.approval.mode === 'manual' ? 'No decision recorded.' : 'Promotion is automatic for this model.'}</p>`
  }</section>

<section aria-labelledby="registry"><h2 id="registry">Promotions and rollbacks</h2>${
    changes.length
      ? html`<ul>${changes.map((c) => html`<li>${when(c.at)}: ${c.action} from <code>${c.from ?? 'none'}</code> to <code>${c.to ?? 'none'}</code> by ${c.actor}: ${c.reason}</li>`)}</ul>`
      : html`<p class="muted">Never promoted.</p>`
  }</section>

<section aria-labelledby="owners"><h2 id="owners">Owners</h2><dl class="facts">${Object.entries(
    p.owners as Record<string, string | undefined>,
  ).map(([role, who]) => html`<div><dt>${role}</dt><dd>${who ?? html`<span class="bad">nobody</span>`}</dd></div>`)}</dl></section>

<section aria-labelledby="serving"><h2 id="serving">Serving</h2>${
    d.serving
      ? html`<p>In the latest drift check window that saw it (${when(d.serving.latest.at)}): ${num(d.serving.latest.predictions)} predictions, p50 ${num(d.serving.latest.latencyMs.p50, 3)} ms, p95 ${num(d.serving.latest.latencyMs.p95, 3)} ms, cost per 1,000 ${d.serving.latest.cost.perPrediction === null ? '–' : num(d.serving.latest.cost.perPrediction * 1000)}. Seen serving in ${num(d.serving.checks)} drift check window${d.serving.checks === 1 ? '' : 's'}.</p>`
      : html`<p class="muted">No drift check saw this version serve.</p>`
  }</section>
</article>`;
}
