import { connectClient } from '../../client/client';
import { describeSchedule, firstLine } from '../../client/schedules';
import { storeLocation } from '../../lib/config';
import { allReady, assessReadiness, type ModelReadiness, type ReadinessVerdict } from '../../lib/readiness';
import { driftScheduleId } from '../../lib/workflow-ids';
import { loadConfig } from '../../services/config';
import { listPipelines, loadPipeline } from '../../services/pipelines';
import { gatherReadiness } from '../../services/readiness';
import { createStore } from '../../store/index';
import { defineCommand } from '../command';
import { jsonFlag, pipelineArgument } from '../common-args';
import { output } from '../format';

/** `retrain readiness`: the production-readiness checklist, answered from the store and Temporal. */
export const readinessCommand = defineCommand({
  name: 'readiness',
  summary: 'the production-readiness checklist, answered from evidence (exit 1 unless all yes)',
  details: [
    'Seven questions per model, each answered yes, no or unknown from evidence, with what to do',
    'for a no: a running drift schedule with an alert route; the last retraining run; the cost and',
    'the versions in the prediction log of the last 24 hours; a previous champion whose artefacts',
    'are in the store; an owner per area; `retrain explain` of the newest prediction, with its action.',
    'Exits 1 when any answer for any model is no or unknown (gate a deployment on it), 0 when all are',
    'yes. Without a reachable Temporal server the schedule question is unknown; the rest still answers.',
  ].join('\n'),
  positionals: [{ ...pipelineArgument, optional: true, description: 'one pipeline; every pipeline in pipelines/ when left out' }],
  flags: { json: jsonFlag },
  examples: ['retrain readiness', 'retrain readiness churn', "retrain readiness --json | jq '.models[] | select(.ready | not) | .model'"],
  async run(args) {
    const config = loadConfig();
    // An unknown name fails here with the usual message (exit 2), before anything is read.
    const names = args.pipeline ? [args.pipeline] : listPipelines(config.projectDir);
    const pipelines = await Promise.all(names.map((name) => loadPipeline(config.projectDir, name)));
    if (pipelines.length === 0) {
      process.stderr.write(
        `retrain: no pipelines in ${config.projectDir}/pipelines, so nothing is ready. Add one with definePipeline({...})\n`,
      );
      return 1;
    }
    const store = createStore(config);
    const temporal = await connectClient(config).then(
      (client) => ({ client, reason: null }),
      (err: unknown) => ({ client: null, reason: firstLine(err) }),
    );
    const models: ModelReadiness[] = [];
    try {
      for (const pipeline of pipelines) {
        const schedule = temporal.client
          ? await describeSchedule(temporal.client, pipeline.name)
          : { state: 'unknown' as const, scheduleId: driftScheduleId(pipeline.name), reason: temporal.reason };
        models.push(assessReadiness(await gatherReadiness({ store, config }, pipeline, { schedule })));
      }
    } finally {
      await temporal.client?.connection.close();
    }
    const ready = allReady(models);
    output(args.json, { ready, models }, () => describeReadiness(models, storeLocation(config.store)));
    return ready ? 0 : 1;
  },
});

const MARK: Record<ReadinessVerdict, string> = { yes: '✓', no: '✗', unknown: '?' };

/** The checklist in words: per model a header and one line per question, then the verdict. */
export function describeReadiness(models: ModelReadiness[], store: string): string {
  const blocks = models.map((m) => {
    const yes = m.items.filter((i) => i.answer === 'yes').length;
    const head = `${m.model}: ${m.ready ? 'READY' : 'NOT READY'} (${yes} of ${m.items.length} yes)`;
    const lines = m.items.flatMap((i) => [
      `  ${MARK[i.answer]} ${i.question}: ${i.evidence}`,
      ...(i.todo ? [`      to do: ${i.todo}`] : []),
    ]);
    return [head, ...lines].join('\n');
  });
  const ready = models.filter((m) => m.ready).length;
  const count = models.length === 1 ? '' : `${ready} of ${models.length} models ready. `;
  const verdict = allReady(models) ? 'Ready: every answer is yes' : `${count}Not ready (exit 1): do the "to do" lines, then run this again`;
  return `${blocks.join('\n\n')}\n\n${verdict} (store: ${store}).`;
}
