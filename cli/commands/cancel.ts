import { cancelRun, connectClient } from '../../client/client';
import { noWorkerMessage } from '../../client/pollers';
import { NotFoundError } from '../../lib/errors';
import { loadConfig } from '../../services/config';
import { listPipelines, loadPipeline } from '../../services/pipelines';
import { defineCommand } from '../command';
import { jsonFlag, pipelineArgument } from '../common-args';
import { shellQuote } from '../../lib/shell-quote';
import { output } from '../format';

/** Cancels the running retraining run of a pipeline (its workflow, `retrain-<pipeline>`). */
export const cancelCommand = defineCommand({
  name: 'cancel',
  summary: 'cancel the running retraining run of a pipeline',
  details:
    'Asks the running run (workflow retrain-<pipeline>) to stop. It ends CANCELLED at the step it is in: a\ntraining subprocess is stopped, a run waiting for approval stops waiting, and a promotion already sent\nis seen through and then rolled back by the workflow, so the previous champion stays. Exit 1 when the\npipeline has no running run.',
  positionals: [pipelineArgument],
  flags: { json: jsonFlag },
  examples: ['retrain cancel churn', 'retrain cancel churn --json'],
  async run(args) {
    const config = loadConfig();
    const client = await connectClient(config);
    let cancelled: Awaited<ReturnType<typeof cancelRun>>;
    try {
      cancelled = await cancelRun(client, args.pipeline);
    } catch (err) {
      // A run may outlive its pipeline file; without a run, a name that is no pipeline is the likelier mistake.
      if (err instanceof NotFoundError && !listPipelines(config.projectDir).includes(args.pipeline))
        await loadPipeline(config.projectDir, args.pipeline); // fails naming the pipelines there are
      throw err;
    }
    const { workflowId, runId, taskQueue, step, workerPolling } = cancelled;
    output(args.json, { workflowId, runId, step, cancelRequested: true, workerPolling }, () =>
      [
        `Cancelling ${workflowId} (run ${runId}${step ? `, step: ${step}` : ''}).`,
        'The run ends CANCELLED at the step it is in: a training subprocess is stopped, a wait for approval ends,',
        'and a promotion already sent is seen through, then rolled back by the workflow (the previous champion stays).',
        ...(workerPolling ? [] : [`Note: ${noWorkerMessage([{ name: taskQueue, tasks: 'workflow' }])}; the run ends when one does.`]),
        `Next: npx retrain status ${shellQuote(args.pipeline)}`,
      ].join('\n'),
    );
    return 0;
  },
});
