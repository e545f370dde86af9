import { z } from 'zod';
import type { ExplainResult } from '../../services/explain';
import { html, type SafeHtml } from '../html';
import { href, num, when } from '../views/layout';

/** The lookup form: an id, and optionally the model and the day it was logged (which narrows the search a lot on a long log). */
export const lookupQuerySchema = z.object({
  id: z.string().trim().max(200, 'a prediction id has at most 200 characters').optional(),
  model: z.string().trim().max(200).optional(),
  day: z
    .string()
    .trim()
    .regex(/^(\d{4}-\d{2}-\d{2})?$/, 'give the day as YYYY-MM-DD')
    .optional(),
  contributions: z.enum(['on']).optional().catch(undefined),
});
export type LookupQuery = z.infer<typeof lookupQuerySchema>;

function form(q: LookupQuery, models: string[]): SafeHtml {
  return html`<form method="get" action="/ui/predictions" class="lookup">
  <div><label for="p-id">Prediction id</label> <input id="p-id" name="id" value="${q.id ?? ''}" size="40" required autofocus></div>
  <div><label for="p-model">Model</label> <select id="p-model" name="model"><option value="">any</option>${models.map((m) => html`<option ${q.model === m ? html`selected` : null}>${m}</option>`)}</select>
  <label for="p-day">Logged on (UTC day, optional)</label> <input id="p-day" name="day" type="date" value="${q.day ?? ''}"></div>
  <div><input type="checkbox" id="p-contrib" name="contributions" value="on" ${q.contributions ? html`checked` : null}> <label for="p-contrib">Also compute which features pushed it (runs the model)</label></div>
  <button type="submit">Explain</button>
</form>
<p class="muted small">Without a day, the search reads the prediction log newest first and stops at the first match: recent predictions come back fast, old ones faster with their day.</p>`;
}

/** The Prediction lookup page: the form, and the `explain` answer when an id was given. */
export function renderPrediction(q: LookupQuery, models: string[], result: ExplainResult | null, problem: string | null): SafeHtml {
  let answer: SafeHtml | null = null;
  if (problem) answer = html`<p class="notice error" role="alert">${problem}</p>`;
  else if (result && !result.found)
    answer = html`<p class="notice error" role="alert">${result.invalid ? `A line with id “${q.id}” is logged but is not a valid prediction line: ${result.invalid}` : `No prediction “${q.id}” in ${num(result.files)} batch file${result.files === 1 ? '' : 's'} of the log${q.model ? ` of ${q.model}` : ''}${q.day ? ` on ${q.day}` : ''}.`}</p>`;
  else if (result && result.found) answer = explanation(result.explanation);
  return html`<h1>Prediction lookup</h1>${form(q, models)}${answer ? html`<section aria-live="polite" aria-labelledby="answer-h"><h2 id="answer-h">Why this decision</h2>${answer}</section>` : null}`;
}

function explanation(e: Extract<ExplainResult, { found: true }>['explanation']): SafeHtml {
  const p = e.prediction;
  const model = p.model;
  return html`<dl class="facts">
  <div><dt>Prediction</dt><dd><strong>${String(p.prediction)}</strong>${p.score !== undefined ? html` <span class="muted">score ${typeof p.score === 'number' ? num(p.score) : JSON.stringify(p.score)}</span>` : null}</dd></div>
  <div><dt>When</dt><dd>${when(p.timestamp)}</dd></div>
  <div><dt>Model version</dt><dd><a href="${href('models', model, 'versions', p.version)}"><code>${model} ${p.version}</code></a></dd></div>
  <div><dt>Champion then / now</dt><dd>${e.champion.atPrediction ? html`<code>${e.champion.atPrediction}</code>` : '–'} / ${e.champion.current ? html`<code>${e.champion.current}</code>` : '–'}${e.champion.isChampion ? ' (still the champion)' : ''}</dd></div>
  ${p.action ? html`<div><dt>Action taken</dt><dd>${p.action}</dd></div>` : null}
  ${p.context ? html`<div><dt>Context</dt><dd><code>${JSON.stringify(p.context)}</code></dd></div>` : null}
  <div><dt>Latency / cost</dt><dd>${num(p.latencyMs, 3)} ms${p.cost !== undefined ? ` / ${num(p.cost)}` : ''}</dd></div>
  <div><dt>Logged in</dt><dd><code>${e.loggedIn.key}</code> line ${e.loggedIn.line}</dd></div>
</dl>
<h3>Features</h3>
<table><thead><tr><th scope="col">Feature</th><th scope="col">Value</th></tr></thead>
<tbody>${Object.entries(p.features).map(([k, v]) => html`<tr><th scope="row">${k}</th><td>${v === null ? '–' : String(v)}</td></tr>`)}</tbody></table>
${
  e.contributions
    ? e.contributions.available
      ? html`<h3>What pushed it</h3><p class="muted small">${e.contributions.method} on ${e.contributions.output}${e.contributions.class ? ` of class ${e.contributions.class}` : ''}: base ${num(e.contributions.base)} → ${num(e.contributions.value)}. ${e.contributions.note}</p>
<table><thead><tr><th scope="col">Feature</th><th scope="col">Contribution</th></tr></thead><tbody>${e.contributions.top.map((c) => html`<tr><th scope="row">${c.feature}</th><td>${c.contribution > 0 ? '+' : ''}${num(c.contribution)}</td></tr>`)}</tbody></table>`
      : html`<p class="muted">Contributions not available: ${e.contributions.reason}</p>`
    : null
}
<h3>The version that decided</h3>
${
  e.version
    ? html`<p>Trained ${when(e.version.createdAt)} on snapshot <code>${e.version.lineage.datasetSha256.slice(0, 12)}</code>, code <code>${e.version.lineage.trainingCodeVersion}</code>.</p>`
    : html`<p class="bad">Not in the registry.</p>`
}
${
  e.evaluation
    ? html`<p>Holdout: ${Object.entries(e.evaluation.metrics)
        .map(([k, v]) => `${k} ${num(v)}`)
        .join(', ')}${e.evaluation.champion ? html` (against <code>${e.evaluation.champion}</code>)` : null}.</p>`
    : null
}
${e.gate.map((g) => html`<p>Gate ${when(g.at)}: <span class="badge ${g.passed ? 'good' : 'bad'}">${g.passed ? 'passed' : 'rejected'}</span> ${g.reason}</p>`)}
${e.approval.map((a) => html`<p>Approval ${when(a.at)}: <span class="badge ${a.decision === 'approved' ? 'good' : 'bad'}">${a.decision}</span> by ${a.by ?? '–'}${a.reason ? html`: “${a.reason}”` : null}</p>`)}
${e.champion.changes.map((c) => html`<p class="small">${when(c.at)}: ${c.action} from <code>${c.from ?? 'none'}</code> to <code>${c.to ?? 'none'}</code> by ${c.actor} (${c.reason})</p>`)}`;
}
