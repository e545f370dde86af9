import { ScheduleNotFoundError } from '@temporalio/client';
import { z } from 'zod';
import { loadConfig } from '../../services/config';
import { InvalidInputError } from '../../lib/errors';
import { driftScheduleId } from '../../lib/workflow-ids';
import { defineCommand } from '../command';
import { jsonFlag } from '../common-args';
import { connectClient } from '../../client/client';
import { output } from '../format';
import { listPipelines, loadPipeline } from '../../services/pipelines';
import type { Pipeline } from '../../lib/pipeline';
import { applySchedules, listSchedules } from '../../client/schedules';

/** Drift-check schedules as code: `apply` makes the server match pipelines/, the rest operate one schedule. */
export const schedulesCommand = defineCommand({
  name: 'schedules',
  summary: 'drift-check schedules (Temporal Schedules) from pipelines/',
  positionals: [
    {
      name: 'action',
      description: 'what to do:',
      choices: {
        apply: 'create or update a schedule for each pipeline with schedule.cron and drift settings',
        list: 'the drift schedules on the server: cron, paused or active, next run',
        pause: "pause the pipeline's schedule",
        unpause: "resume the pipeline's schedule",
        trigger: "run the pipeline's drift check now",
        delete: "delete the pipeline's schedule",
      },
    },
    { name: 'pipeline', description: 'for pause, unpause, trigger and delete', optional: true },
  ],
  flags: {
    prune: { type: 'boolean', description: 'with apply: also delete the schedules it made for pipelines that no longer have one' },
    reason: {
      type: 'string',
      schema: z.string().optional(),
      placeholder: 'TEXT',
      description: 'with pause or unpause: the note kept on the schedule',
    },
    json: jsonFlag,
  },
  check: ({ action, pipeline }) =>
    (action === 'apply' || action === 'list') === (pipeline === undefined)
      ? undefined
      : 'apply and list take no pipeline; pause, unpause, trigger and delete take exactly one',
  examples: [
    'retrain schedules apply --prune',
    'retrain schedules list',
    'retrain schedules pause churn --reason "data migration until Monday"',
    'retrain schedules trigger churn',
  ],
  async run(args) {
    const { action, pipeline: model } = args;
    const config = loadConfig();
    const client = await connectClient(config);
    const say = (data: unknown, human: () => string) => output(args.json, data, human);

    if (action === 'apply') {
      const pipelines = await Promise.all(listPipelines(config.projectDir).map((name) => loadPipeline(config.projectDir, name)));
      const results = await applySchedules(client, config, pipelines, args.prune);
      say(
        results,
        () =>
          results
            .map((r) => `${r.scheduleId.padEnd(24)} ${r.action.padEnd(8)} ${r.cron ?? ''}${r.reason ? `  (${r.reason})` : ''}`)
            .join('\n') + '\n\nNext: npx retrain schedules list   ·   npx retrain schedules trigger <pipeline> to run a check now',
      );
      return 0;
    }
    if (action === 'list') {
      const rows = await listSchedules(client);
      say(rows, () =>
        rows.length === 0
          ? 'no drift schedules yet. Create them from pipelines/ with: npx retrain schedules apply'
          : rows
              .map(
                (r) =>
                  `${r.scheduleId.padEnd(24)} ${r.cron.join(' ').padEnd(14)} ${r.paused ? `PAUSED${r.note ? ` (${r.note})` : ''}` : 'active'}  next: ${r.nextRuns[0] ?? '—'}`,
              )
              .join('\n'),
      );
      return 0;
    }

    const pipeline = await loadPipeline(config.projectDir, model!); // an unknown pipeline gets the usual clear error
    const handle = client.schedule.getHandle(driftScheduleId(model!));
    try {
      if (action === 'pause') await handle.pause(args.reason ?? `paused with retrain schedules pause by ${process.env.USER ?? 'cli'}`);
      if (action === 'unpause') await handle.unpause(args.reason ?? 'unpaused with retrain schedules unpause');
      if (action === 'trigger') await handle.trigger('SKIP');
      if (action === 'delete') await handle.delete();
    } catch (err) {
      if (err instanceof ScheduleNotFoundError)
        throw new InvalidInputError(missingScheduleMessage(pipeline, action), { model, step: 'schedules' });
      throw err;
    }
    const done = { pause: 'Paused', unpause: 'Unpaused', trigger: 'Triggered a drift check of', delete: 'Deleted the drift schedule of' }[
      action
    ];
    say(
      { scheduleId: handle.scheduleId, action },
      () => `${done} ${model}.${action === 'trigger' ? `\nNext: npx retrain audit ${model}   (the check's result and report)` : ''}`,
    );
    return 0;
  },
});

/**
 * Why a pipeline has no drift schedule, and what to do: `apply` creates one only for a pipeline
 * with schedule.cron and drift settings, so for one without them, "run apply" would do nothing.
 */
function missingScheduleMessage(pipeline: Pipeline, action: string): string {
  const file = `pipelines/${pipeline.name}.ts`;
  const missing = [!pipeline.schedule && 'no schedule.cron', !pipeline.drift && 'no drift settings'].filter(Boolean) as string[];
  const checkNow =
    action === 'trigger' && pipeline.drift ? `; or run a drift check now, without a schedule: npx retrain drift ${pipeline.name}` : '';
  if (missing.length === 0)
    return `no drift schedule for ${pipeline.name} yet: create it (and the others) from pipelines/ with: npx retrain schedules apply${checkNow}`;
  const add = [!pipeline.drift && "drift: { window: '24h' }", !pipeline.schedule && "schedule: { cron: '0 * * * *' }"]
    .filter(Boolean)
    .join(' and ');
  const what = missing.length === 2 ? `${missing[0]} (and ${missing[1]})` : missing[0];
  return `${pipeline.name} has ${what}, so schedules apply makes no drift schedule for it: add ${add} to ${file}, then run npx retrain schedules apply${checkNow}`;
}
