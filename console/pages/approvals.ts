import { z } from 'zod';
import type { ApiContext } from '../../api/context';
import { allows, type Identity } from '../../lib/api-tokens';
import type { Pipeline } from '../../lib/pipeline';
import type { RunStatus } from '../../shared/status';
import { html, type SafeHtml } from '../html';
import { runState, waitsForApproval, type RunState } from '../run-state';
import { href, num, when } from '../views/layout';

/** A form's decision: which action, why, and the version the person saw (so a newer candidate is not decided blind). */
export const decisionFormSchema = z.object({
  action: z.enum(['approve', 'reject'], { error: 'choose Approve or Reject' }),
  reason: z.string().trim().max(2000, 'keep the reason under 2,000 characters').default(''),
  version: z.string().min(1).max(200),
  csrf: z.string().max(200).optional(),
});
export type DecisionForm = z.infer<typeof decisionFormSchema>;

/** One model that asks for approvals, and where its run stands. */
export interface ApprovalItem {
  pipeline: Pipeline;
  run: RunState;
}

export async function loadApprovals(ctx: ApiContext): Promise<ApprovalItem[]> {
  const pipelines = await Promise.all(ctx.models.list().map((m) => ctx.models.pipeline(m)));
  const manual = pipelines.filter((p) => p.approval.mode === 'manual');
  return Promise.all(manual.map(async (pipeline) => ({ pipeline, run: await runState(ctx.temporal, pipeline.name) })));
}

/** Whether `who` may decide for this model, and if not, why (shown beside the disabled buttons). */
export function mayDecide(pipeline: Pipeline, who: Identity): { ok: true } | { ok: false; why: string } {
  if (pipeline.approval.mode !== 'manual') return { ok: false, why: 'promotion is automatic for this model' };
  if (!allows(who, `approve:${pipeline.name}`))
    return { ok: false, why: `your token (${who.name}) lacks the scope approve:${pipeline.name}` };
  if (!pipeline.approval.approvers.includes(who.name))
    return {
      ok: false,
      why: `${who.name} is not a listed approver of ${pipeline.name} (approvers: ${pipeline.approval.approvers.join(', ')})`,
    };
  return { ok: true };
}

function candidate(p: Pipeline, s: RunStatus, who: Identity, csrf: string | null): SafeHtml {
  const metric = p.metrics.primary;
  const names = Object.keys(s.metrics?.challenger ?? {}).sort((a, b) => (a === metric ? -1 : b === metric ? 1 : a.localeCompare(b)));
  const may = mayDecide(p, who);
  const formId = `decide-${p.name}`;
  const disabled = !may.ok || !csrf;
  return html`<article class="card approval" aria-labelledby="${formId}-h">
<h2 id="${formId}-h"><a href="${href('models', p.name)}">${p.name}</a>: candidate <a href="${href('models', p.name, 'versions', s.version ?? '')}"><code>${s.version}</code></a></h2>
<p>Asked by ${s.requestedBy ?? '–'}${s.reason ? html` (“${s.reason}”)` : null}; waiting since ${when(s.steps.find((x) => x.step === 'approval')?.startedAt)}. Approvers: ${p.approval.mode === 'manual' ? p.approval.approvers.join(', ') : '–'}.</p>
<table>
<caption>Holdout metrics, candidate beside the champion${s.championBefore ? html` <code>${s.championBefore}</code>` : ' (none yet)'}</caption>
<thead><tr><th scope="col">Metric</th><th scope="col">Candidate</th><th scope="col">Champion</th></tr></thead>
<tbody>${names.map(
    (m) =>
      html`<tr><th scope="row">${m}${m === metric ? html` <span class="muted small">(primary)</span>` : null}</th><td>${num((s.metrics?.challenger as Record<string, number | null>)[m])}</td><td>${num(s.metrics?.champion ? (s.metrics.champion as Record<string, number | null>)[m] : null)}</td></tr>`,
  )}</tbody></table>
<p>Gate: <span class="badge ${s.gate?.passed ? 'good' : 'bad'}">${s.gate?.passed ? 'passed' : 'rejected'}</span> ${s.gate?.reason ?? ''}</p>
<form method="post" action="${href('models', p.name, 'decision')}" class="decision">
  <input type="hidden" name="csrf" value="${csrf ?? ''}">
  <input type="hidden" name="version" value="${s.version ?? ''}">
  <label for="${formId}-reason">Reason (kept in the run and the audit log)</label>
  <textarea id="${formId}-reason" name="reason" rows="2" maxlength="2000" ${disabled ? html`disabled` : null}></textarea>
  <div class="buttons">
    <button type="submit" name="action" value="approve" class="approve" ${disabled ? html`disabled aria-describedby="${formId}-why"` : null}>Approve</button>
    <button type="submit" name="action" value="reject" class="reject" ${disabled ? html`disabled aria-describedby="${formId}-why"` : null}>Reject</button>
  </div>
  ${!may.ok ? html`<p id="${formId}-why" class="muted small">You cannot decide: ${may.why}.</p>` : !csrf ? html`<p id="${formId}-why" class="muted small">Sign in to decide (a bearer token reads pages only).</p>` : null}
</form>
</article>`;
}

/** The Approvals page's content: every waiting candidate, then the models that wait for nothing. */
export function renderApprovals(items: ApprovalItem[], who: Identity, csrf: string | null): SafeHtml {
  const waiting = items.filter((i) => waitsForApproval(i.run));
  const rest = items.filter((i) => !waitsForApproval(i.run));
  return html`<h1>Approvals</h1>
${
  items.length === 0
    ? html`<p>No model asks for manual approval (set <code>approval: { mode: 'manual', approvers: […] }</code> in a pipeline).</p>`
    : waiting.length === 0
      ? html`<p class="lede">No candidate waits for a decision.</p>`
      : html`<p class="lede">${waiting.length} candidate${waiting.length === 1 ? ' waits' : 's wait'} for a decision.</p>`
}
${waiting.map((i) => (i.run.kind === 'known' ? candidate(i.pipeline, i.run.status, who, csrf) : null))}
${
  rest.length
    ? html`<h2>Nothing waiting</h2><ul>${rest.map(
        (i) =>
          html`<li><a href="${href('models', i.pipeline.name)}">${i.pipeline.name}</a>: ${
            i.run.kind === 'known'
              ? `last run ${i.run.status.outcome}${i.run.status.outcome === 'running' ? ` (${i.run.status.step})` : ''}`
              : i.run.kind === 'none'
                ? 'no run yet'
                : i.run.kind === 'no-worker'
                  ? 'no worker polls its run'
                  : 'Temporal unreachable'
          }</li>`,
      )}</ul>`
    : null
}`;
}

/** The answer to a decision, as the run gave it. */
export function decisionAnswer(model: string, action: 'approve' | 'reject', s: RunStatus): string {
  const verb = action === 'approve' ? 'Approved' : 'Rejected';
  if (s.outcome === 'running') return `${verb} ${s.version} of ${model}: the run goes on (now at ${s.step}).`;
  return `${verb} ${s.version} of ${model}: the run ended ${s.outcome}.`;
}
