import { ScheduleNotFoundError } from '@temporalio/client';
import { z } from 'zod';
import { loadConfig } from '../../services/config';
import { InvalidInputError } from '../../lib/errors';
import { driftScheduleId } from '../../lib/workflow-ids';
import { parseCommandArgs } from '../args';
import { connectClient } from '../../client/client';
import { output } from '../format';
import { listPipelines, loadPipeline } from '../../services/pipelines';
import { applySchedules, listSchedules } from '../../client/schedules';

export const usage = () => 'schedules apply [--prune] | list | pause <pipeline> [--reason TEXT] | unpause <pipeline> | trigger <pipeline> | delete <pipeline>   [--json]';

const ACTIONS = ['apply', 'list', 'pause', 'unpause', 'trigger', 'delete'] as const;

const schema = z.object({
  positionals: z
    .array(z.string())
    .min(1, `say what to do: ${ACTIONS.join(', ')}`)
    .refine((p) => (ACTIONS as readonly string[]).includes(p[0]), { message: `the first argument must be one of ${ACTIONS.join(', ')}` })
    .refine((p) => (['apply', 'list'].includes(p[0]) ? p.length === 1 : p.length === 2), { message: 'apply and list take no pipeline; pause, unpause, trigger and delete take exactly one' }),
  prune: z.boolean().default(false),
  reason: z.string().optional(),
  json: z.boolean().default(false),
});

/** Drift-check schedules as code: `apply` makes the server match pipelines/, the rest operate one schedule. */
export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs('schedules', argv, { prune: { type: 'boolean' }, reason: { type: 'string' }, json: { type: 'boolean' } }, schema);
  const [action, model] = args.positionals as [(typeof ACTIONS)[number], string | undefined];
  const config = loadConfig();
  const client = await connectClient(config);
  const say = (data: unknown, human: () => string) => output(args.json, data, human);

  if (action === 'apply') {
    const pipelines = await Promise.all(listPipelines(config.projectDir).map((name) => loadPipeline(config.projectDir, name)));
    const results = await applySchedules(client, config, pipelines, args.prune);
    say(results, () =>
      results.map((r) => `${r.scheduleId.padEnd(24)} ${r.action.padEnd(8)} ${r.cron ?? ''}${r.reason ? `  (${r.reason})` : ''}`).join('\n') +
        '\n\nNext: npx retrain schedules list   ·   npx retrain schedules trigger <pipeline> to run a check now',
    );
    return 0;
  }
  if (action === 'list') {
    const rows = await listSchedules(client);
    say(rows, () =>
      rows.length === 0
        ? 'no drift schedules yet. Create them from pipelines/ with: npx retrain schedules apply'
        : rows.map((r) => `${r.scheduleId.padEnd(24)} ${r.cron.join(' ').padEnd(14)} ${r.paused ? `PAUSED${r.note ? ` (${r.note})` : ''}` : 'active'}  next: ${r.nextRuns[0] ?? '—'}`).join('\n'),
    );
    return 0;
  }

  await loadPipeline(config.projectDir, model!); // an unknown pipeline gets the usual clear error
  const handle = client.schedule.getHandle(driftScheduleId(model!));
  try {
    if (action === 'pause') await handle.pause(args.reason ?? `paused with retrain schedules pause by ${process.env.USER ?? 'cli'}`);
    if (action === 'unpause') await handle.unpause(args.reason ?? 'unpaused with retrain schedules unpause');
    if (action === 'trigger') await handle.trigger('SKIP');
    if (action === 'delete') await handle.delete();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) throw new InvalidInputError(`no drift schedule for ${model}. Create it with: npx retrain schedules apply`, { model, step: 'schedules' });
    throw err;
  }
  const done = { pause: 'Paused', unpause: 'Unpaused', trigger: 'Triggered a drift check of', delete: 'Deleted the drift schedule of' }[action];
  say({ scheduleId: handle.scheduleId, action }, () => `${done} ${model}.${action === 'trigger' ? `\nNext: npx retrain audit ${model}   (the check's result and report)` : ''}`);
  return 0;
}
