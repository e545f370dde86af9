import { z } from 'zod';
import { loadConfig } from '../../services/config';
import { defineCommand } from '../command';
import { jsonFlag, pipelineArgument, requestedByFlag } from '../common-args';
import { connectClient, startRetrain } from '../../client/client';
import { describeRun, output } from '../format';
import { followRun } from '../../client/follow';
import { noWorkerMessage, NoWorkerPollingError, queuesWithoutPollers, retrainQueues } from '../../client/pollers';
import { loadPipeline } from '../../services/pipelines';

/** Starts the retraining run of a pipeline (or joins the one already running) and optionally waits. */
export const runCommand = defineCommand({
  name: 'run',
  summary: 'start (or join) the retraining run of a pipeline',
  details: 'A pipeline has at most one retraining run at a time: if one is already running, this follows it\ninstead of starting a second.',
  positionals: [pipelineArgument],
  flags: {
    wait: { type: 'boolean', description: 'follow the run step by step until it ends; exit 1 if it fails' },
    by: requestedByFlag('who asks for the run, kept with it'),
    reason: { type: 'string', schema: z.string().optional(), placeholder: 'TEXT', description: 'why, kept with the run' },
    json: jsonFlag,
  },
  examples: ['retrain run churn --wait', 'retrain run churn --by alice@example.com --reason "new labels for March"'],
  async run(args) {
    const config = loadConfig();
    const pipeline = await loadPipeline(config.projectDir, args.pipeline);
    const client = await connectClient(config);
    // A run on queues nobody polls waits without a word: --wait refuses it, a plain start warns.
    const queues = retrainQueues(config);
    const missing = await queuesWithoutPollers(client, config.namespace, queues);
    if (missing.length > 0 && args.wait) throw new NoWorkerPollingError(missing, 'No run was started');
    if (missing.length > 0)
      process.stderr.write(`retrain: warning: ${noWorkerMessage(missing)}. The run is started anyway and waits until one does.\n`);
    const { handle, joined } = await startRetrain(client, config, pipeline, { requestedBy: args.by, reason: args.reason });
    const say = (line: string) => !args.json && process.stdout.write(line + '\n');
    say(
      joined
        ? `A run of ${pipeline.name} is already in progress (${handle.workflowId}); following it instead of starting a second.`
        : `Started ${handle.workflowId} for ${pipeline.name}.`,
    );
    if (!args.wait) {
      output(
        args.json,
        { workflowId: handle.workflowId, joined },
        () => `Next: npx retrain status ${pipeline.name}   (or add --wait to follow it)`,
      );
      return 0;
    }
    const { status, failed } = await followRun(handle, { print: say, workers: queues });
    output(
      args.json,
      { ...status, error: failed?.message ?? null },
      () => describeRun(status) + (failed && status.outcome === 'failed' ? `\n  error: ${failed.message}` : ''),
    );
    return failed ? 1 : 0;
  },
});
