import type { ApiContext } from '../../api/context';
import { attentionReasons, byAttention, type AttentionReason } from '../../lib/console/attention';
import type { DriftHistoryEntry } from '../../lib/console/drift-history';
import type { ServingSummary } from '../../lib/drift/report';
import { holdoutBaseline, readPointer } from '../../services/registry';
import { driftHistory } from '../../services/model-history';
import { html, type SafeHtml } from '../html';
import { runState, waitsForApproval, type RunState } from '../run-state';
import { ago, href, num, when } from '../views/layout';

/** One row of the Models page. */
export interface ModelRow {
  name: string;
  task: string;
  primaryMetric: string;
  owners: Record<string, string | undefined>;
  champion: { version: string; since: string | null; value: number | null } | null;
  lastCheck: DriftHistoryEntry | null;
  /** The champion's figures in the last check's window. */
  serving: ServingSummary | null;
  run: RunState;
  reasons: AttentionReason[];
}

/** Every model, what needs attention first. */
export async function loadModels(ctx: ApiContext, now: number): Promise<ModelRow[]> {
  const rows = await Promise.all(ctx.models.list().map((name) => loadModelRow(ctx, name, now)));
  return byAttention(rows);
}

async function loadModelRow(ctx: ApiContext, name: string, now: number): Promise<ModelRow> {
  const pipeline = await ctx.models.pipeline(name);
  const metric = pipeline.metrics.primary;
  const { pointer } = await readPointer(ctx.store, name);
  // One evaluation read for the champion's metric, not every version's (the Model page reads those).
  const [value, checks, run] = await Promise.all([
    pointer.champion ? holdoutBaseline(ctx.store, name, pointer.champion, metric) : null,
    driftHistory(ctx.store, name),
    runState(ctx.temporal, name),
  ]);
  const lastCheck = checks.at(-1) ?? null;
  const serving = lastCheck?.serving.find((s) => s.version === pointer.champion) ?? null;
  const reasons = attentionReasons(
    {
      hasChampion: pointer.champion !== null,
      approvalWaiting: waitsForApproval(run),
      lastRunOutcome: run.kind === 'known' ? run.status.outcome : null,
      lastCheck: lastCheck && {
        at: lastCheck.at,
        drifted: lastCheck.drifted,
        enoughData: lastCheck.enoughData,
        estimatedDrop: lastCheck.estimated?.dropped ?? false,
      },
      overBudget: lastCheck?.overBudget ?? false,
    },
    now,
  );
  return {
    name,
    task: pipeline.task,
    primaryMetric: metric,
    owners: pipeline.owners as Record<string, string | undefined>,
    champion: pointer.champion ? { version: pointer.champion, since: pointer.updatedAt, value } : null,
    lastCheck,
    serving,
    run,
    reasons,
  };
}

/** A drift verdict in words and a badge class. */
export function verdict(check: DriftHistoryEntry | null): { text: string; cls: string } {
  if (!check) return { text: 'never checked', cls: 'muted' };
  if (!check.enoughData) return { text: 'not enough data', cls: 'muted' };
  return check.drifted ? { text: 'drift', cls: 'bad' } : { text: 'no drift', cls: 'good' };
}

/** The run's step in words, for a table cell. */
export function runCell(run: RunState): SafeHtml {
  switch (run.kind) {
    case 'none':
      return html`<span class="muted">no run yet</span>`;
    case 'unreachable':
      return html`<span class="muted" title="${run.why}">Temporal unreachable</span>`;
    case 'no-worker':
      return html`<span class="warn" title="${run.why}">${run.description.workflowStatus.toLowerCase()}, no worker</span>`;
    case 'known': {
      const s = run.status;
      if (s.outcome === 'running')
        return waitsForApproval(run)
          ? html`<a class="badge warn" href="/ui/approvals">waiting for approval</a>`
          : html`<span class="badge info">running: ${s.step}</span>`;
      return html`<span class="badge ${s.outcome === 'promoted' || s.outcome === 'unchanged' ? 'good' : 'bad'}">${s.outcome}</span>`;
    }
  }
}

function facet(label: string, value: boolean | null | undefined): SafeHtml {
  if (value === null || value === undefined) return html`<li><span class="muted">${label}: –</span></li>`;
  return html`<li>${label}: <span class="${value ? 'bad' : 'good'}">${value ? 'drifted' : 'stable'}</span></li>`;
}

/** The Models page's content. */
export function renderModels(rows: ModelRow[], now: number): SafeHtml {
  if (rows.length === 0)
    return html`<h1>Models</h1><p>No pipelines in this project yet: add <code>pipelines/&lt;model&gt;.ts</code> (see the README).</p>`;
  return html`<h1>Models</h1>
<p class="lede">${rows.length} model${rows.length === 1 ? '' : 's'}, what needs attention first.</p>
<div class="table-wrap"><table class="models">
<caption class="visually-hidden">Models, most in need of attention first</caption>
<thead><tr>
  <th scope="col">Model</th><th scope="col">Needs attention</th><th scope="col">Champion</th><th scope="col">Primary metric</th>
  <th scope="col">Last drift check</th><th scope="col">Cost / 1,000</th><th scope="col">p95 latency</th>
  <th scope="col">Owners</th><th scope="col">Retraining</th>
</tr></thead>
<tbody>
${rows.map((r) => {
  const v = verdict(r.lastCheck);
  const c = r.lastCheck;
  const cost = r.serving?.cost.perPrediction;
  return html`<tr>
  <th scope="row"><a href="${href('models', r.name)}">${r.name}</a><div class="muted small">${r.task}</div></th>
  <td>${r.reasons.length ? html`<ul class="reasons">${r.reasons.map((x) => html`<li>${x.text}</li>`)}</ul>` : html`<span class="good">all well</span>`}</td>
  <td>${r.champion ? html`<a href="${href('models', r.name, 'versions', r.champion.version)}"><code>${r.champion.version}</code></a><div class="muted small">since ${ago(r.champion.since, now)}</div>` : html`<span class="muted">none</span>`}</td>
  <td>${r.primaryMetric} ${r.champion ? html`<strong>${num(r.champion.value)}</strong>` : null}</td>
  <td>${
    c
      ? html`<span class="badge ${v.cls}">${v.text}</span> <span class="muted small">${ago(c.at, now)}</span>
    <ul class="facets">${facet('data', c.dataDrifted)}${facet('prediction', c.predictionDrifted)}${facet('concept', c.conceptDrifted)}${
      c.estimated
        ? html`<li>estimated ${c.estimated.metric}: <span class="${c.estimated.dropped ? 'bad' : 'good'}">${num(c.estimated.value, 3)}</span> <span class="muted">(holdout ${num(c.estimated.baseline, 3)})</span></li>`
        : null
    }</ul>`
      : html`<span class="badge muted">${v.text}</span>`
  }</td>
  <td>${cost === null || cost === undefined ? '–' : num(cost * 1000)}</td>
  <td>${r.serving ? `${num(r.serving.latencyMs.p95, 3)} ms` : '–'}</td>
  <td><ul class="owners">${Object.entries(r.owners)
    .filter(([, who]) => who)
    .map(([role, who]) => html`<li><span class="muted">${role}:</span> ${who}</li>`)}</ul></td>
  <td>${runCell(r.run)}</td>
</tr>`;
})}
</tbody></table></div>
<p class="muted small">Checked at ${when(new Date(now).toISOString())}. Drift figures are the latest check's; cost and latency are the champion's in that check's window.</p>`;
}
