import { storeKeyLocation } from '../../lib/config';
import { loadConfig } from '../../services/config';
import { keys } from '../../lib/keys';
import { driftScheduleId } from '../../lib/workflow-ids';
import type { DriftCheckSummary } from '../../shared/inputs';
import type { driftCheck } from '../../workflows/drift-check';
import { defineCommand } from '../command';
import { jsonFlag, pipelineArgument } from '../common-args';
import { connectClient } from '../../client/client';
import { output } from '../format';
import { rootCause } from '../../client/follow';
import { requirePollers } from '../../client/pollers';
import { loadPipeline } from '../../services/pipelines';

/** Runs a drift check of the pipeline's champion now (the same workflow the schedule starts) and prints the verdict. */
export const driftCommand = defineCommand({
  name: 'drift',
  summary: 'run a drift check of the champion now (report, alert, retrain)',
  details:
    "The same check the pipeline's schedule runs: the prediction log's window against the\nchampion's reference; on drift, the report, the alert and (onDrift: 'retrain') a retraining run.",
  positionals: [pipelineArgument],
  flags: { json: jsonFlag },
  examples: ['retrain drift churn'],
  async run(args) {
    const config = loadConfig();
    const pipeline = await loadPipeline(config.projectDir, args.pipeline);
    const client = await connectClient(config);
    // The check is a workflow on the retrain queue: without a worker it would wait, silently.
    await requirePollers(client, config, [{ name: config.taskQueue, tasks: 'workflow' }], { detail: 'No drift check was started' });
    let summary: DriftCheckSummary;
    try {
      summary = await client.workflow.execute<typeof driftCheck>('driftCheck', {
        taskQueue: config.taskQueue,
        workflowId: `${driftScheduleId(pipeline.name)}-now-${Date.now()}`,
        args: [{ pipeline, trigger: `retrain drift by ${process.env.USER ?? 'cli'}` }],
      });
    } catch (err) {
      process.stderr.write(`retrain: drift check of ${pipeline.name} failed: ${rootCause(err as Error).message}\n`);
      return 1;
    }
    output(args.json, summary, () => {
      const lines = [`${pipeline.name}: ${summary.outcome.toUpperCase().replace(/-/g, ' ')}`, `  ${summary.message}`];
      if (summary.result) {
        lines.push(
          `  champion: ${summary.version}; predictions in the window: ${summary.result.predictions}; drifted feature share: ${summary.result.datasetDriftShare.toFixed(2)}`,
        );
        if (summary.result.accuracy) lines.push(`  accuracy: ${summary.result.accuracy}`);
        lines.push(`  report: ${storeKeyLocation(config.store, keys.driftReport(pipeline.name, summary.result.checkId, 'html'))}`);
      }
      if (summary.alert)
        lines.push(
          `  alert: ${summary.alert.delivered === 'webhook' ? `sent to ${summary.alert.url}` : 'logged (no webhook configured)'} for ${pipeline.owners.monitoring}`,
        );
      if (summary.retrain)
        lines.push(
          `  retrain: ${summary.retrain.joined ? 'joined' : 'started'} ${summary.retrain.workflowId}. Follow it: npx retrain status ${pipeline.name}`,
        );
      return lines.join('\n');
    });
    return 0;
  },
});
