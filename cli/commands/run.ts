import { z } from 'zod';
import { loadConfig } from '../../services/config';
import { defineCommand } from '../command';
import { jsonFlag, pipelineArgument, requestedByFlag } from '../common-args';
import { connectClient, startRetrain } from '../../client/client';
import { describeRun, output } from '../format';
import { followRun } from '../../client/follow';
import { noWorkerMessage, NoWorkerPollingError, queuesWithoutPollers, retrainQueues } from '../../client/pollers';
import { loadPipeline } from '../../services/pipelines';
import { InvalidInputError } from '../../lib/errors';
import { asOfProblem, asOfSchema } from '../../lib/time-window';

/** Starts the retraining run of a pipeline (or joins the one already running) and optionally waits. */
export const runCommand = defineCommand({
  name: 'run',
  summary: 'start (or join) the retraining run of a pipeline',
  details: `A pipeline has at most one retraining run at a time: if one is already running, this follows it
instead of starting a second. A run reads its data as of its start; --as-of reads it as it was at
an earlier time (a backfill), for a pipeline whose source has a window. A run in progress that
reads the data as of another time is not joined: the command fails, saying which.`,
  positionals: [pipelineArgument],
  flags: {
    wait: { type: 'boolean', description: 'follow the run step by step until it ends; exit 1 if it fails' },
    by: requestedByFlag('who asks for the run, kept with it'),
    reason: { type: 'string', schema: z.string().optional(), placeholder: 'TEXT', description: 'why, kept with the run' },
    'as-of': {
      type: 'string',
      schema: asOfSchema().optional(),
      placeholder: 'WHEN',
      description:
        'train on the data as it was then (a backfill; the source needs a window)\na date (2026-10-01, midnight UTC) or an ISO-8601 time with its zone',
      shownDefault: 'the run’s start',
    },
    json: jsonFlag,
  },
  examples: [
    'retrain run churn --wait',
    'retrain run churn --by alice@example.com --reason "new labels for March"',
    'retrain run churn --as-of 2026-10-01 --wait',
  ],
  async run(args) {
    const config = loadConfig();
    const pipeline = await loadPipeline(config.projectDir, args.pipeline);
    const asOf = args['as-of'];
    // Before connecting: a backfill of a source without a window would train on today's data.
    const problem = asOf ? asOfProblem(pipeline.name, pipeline.source.window) : null;
    if (problem) throw new InvalidInputError(`--as-of ${asOf}: ${problem}`, { model: pipeline.name, step: 'run' });
    const client = await connectClient(config);
    // A run on queues nobody polls waits without a word: --wait refuses it, a plain start warns.
    const queues = retrainQueues(config);
    const missing = await queuesWithoutPollers(client, config.namespace, queues);
    if (missing.length > 0 && args.wait) throw new NoWorkerPollingError(missing, 'No run was started');
    if (missing.length > 0)
      process.stderr.write(`retrain: warning: ${noWorkerMessage(missing)}. The run is started anyway and waits until one does.\n`);
    const { handle, joined } = await startRetrain(client, config, pipeline, { requestedBy: args.by, reason: args.reason, asOf });
    const say = (line: string) => !args.json && process.stdout.write(line + '\n');
    say(
      joined
        ? `A run of ${pipeline.name} is already in progress (${handle.workflowId}); following it instead of starting a second.`
        : `Started ${handle.workflowId} for ${pipeline.name}${asOf ? `, on the data as of ${asOf}` : ''}.`,
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
