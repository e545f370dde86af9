import type { ApiContext } from '../../api/context';
import { describeSchedule, firstLine } from '../../client/schedules';
import { assessReadiness, type ModelReadiness, type ScheduleEvidence } from '../../lib/readiness';
import { driftScheduleId } from '../../lib/workflow-ids';
import { gatherReadiness } from '../../services/readiness';
import { html, type SafeHtml } from '../html';
import { href } from '../views/layout';

/** The checklist of `retrain readiness` for one model, from the same evidence. */
export async function loadReadiness(ctx: ApiContext, model: string): Promise<ModelReadiness> {
  const pipeline = await ctx.models.pipeline(model);
  const schedule: ScheduleEvidence = await ctx.temporal.get().then(
    (client) => describeSchedule(client, model),
    (err: unknown) => ({ state: 'unknown' as const, scheduleId: driftScheduleId(model), reason: firstLine(err) }),
  );
  return assessReadiness(await gatherReadiness({ store: ctx.store, config: ctx.config }, pipeline, { schedule }));
}

const BADGE = { yes: 'good', no: 'bad', unknown: 'warn' } as const;

/** The Readiness page: each question with its answer, the evidence and what to do. */
export function renderReadiness(r: ModelReadiness): SafeHtml {
  const yes = r.items.filter((i) => i.answer === 'yes').length;
  return html`<nav class="crumbs" aria-label="Breadcrumb"><a href="/ui">Models</a> › <a href="${href('models', r.model)}">${r.model}</a> › readiness</nav>
<h1>${r.model}: production readiness</h1>
<p class="lede"><span class="badge ${r.ready ? 'good' : 'bad'}">${r.ready ? 'ready' : 'not ready'}</span> ${yes} of ${r.items.length} answers are yes. The same checklist as <code>retrain readiness ${r.model}</code>.</p>
<div class="table-wrap"><table>
<thead><tr><th scope="col">Question</th><th scope="col">Answer</th><th scope="col">Evidence</th><th scope="col">To do</th></tr></thead>
<tbody>${r.items.map(
    (i) =>
      html`<tr><th scope="row">${i.question}</th><td><span class="badge ${BADGE[i.answer]}">${i.answer}</span></td><td>${i.evidence}</td><td>${i.todo ? html`<code>${i.todo}</code>` : '–'}</td></tr>`,
  )}</tbody></table></div>`;
}
