import { z } from 'zod';
import { loadConfig } from '../../services/config';
import { onePipeline, parseCommandArgs } from '../args';
import { connectClient, startRetrain } from '../../client/client';
import { describeRun, output } from '../format';
import { followRun } from '../../client/follow';
import { loadPipeline } from '../../services/pipelines';

export const usage = () => 'run <pipeline> [--wait] [--by WHO] [--reason TEXT] [--json]';

const schema = z.object({
  positionals: onePipeline,
  wait: z.boolean().default(false),
  by: z.string().min(1).default(process.env.USER ?? 'cli'),
  reason: z.string().optional(),
  json: z.boolean().default(false),
});

/** Starts the retraining run of a pipeline (or joins the one already running) and optionally waits. */
export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs('run', argv, { wait: { type: 'boolean' }, by: { type: 'string' }, reason: { type: 'string' }, json: { type: 'boolean' } }, schema);
  const config = loadConfig();
  const pipeline = await loadPipeline(config.projectDir, args.positionals);
  const client = await connectClient(config);
  const { handle, joined } = await startRetrain(client, config, pipeline, { requestedBy: args.by, reason: args.reason });
  const say = (line: string) => !args.json && process.stdout.write(line + '\n');
  say(joined ? `A run of ${pipeline.name} is already in progress (${handle.workflowId}); following it instead of starting a second.` : `Started ${handle.workflowId} for ${pipeline.name}.`);
  if (!args.wait) {
    output(args.json, { workflowId: handle.workflowId, joined }, () => `Next: npx retrain status ${pipeline.name}   (or add --wait to follow it)`);
    return 0;
  }
  const { status, failed } = await followRun(handle, { print: say });
  output(args.json, { ...status, error: failed?.message ?? null }, () => describeRun(status) + (failed && status.outcome === 'failed' ? `\n  error: ${failed.message}` : ''));
  return failed ? 1 : 0;
}
