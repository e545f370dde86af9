import { z } from 'zod';
import { loadConfig } from '../../services/config';
import { defineCommand } from '../command';
import { jsonFlag, pipelineArgument, requestedByFlag } from '../common-args';
import { connectClient, rollbackModel } from '../../client/client';
import { output } from '../format';
import { rootCause } from '../../client/follow';
import { loadPipeline } from '../../services/pipelines';

/** Restores the previous champion (or a named version) through the audited rollback workflow. */
export const rollbackCommand = defineCommand({
  name: 'rollback',
  summary: 'restore the previous champion (or a named version)',
  details:
    "Runs the rollback workflow: the champion pointer moves back, the change is audited and the\npipeline's retraining owner is told.",
  positionals: [pipelineArgument],
  flags: {
    reason: {
      type: 'string',
      schema: z.string({ error: 'say why: --reason "…" (it goes into the audit log)' }).min(1),
      placeholder: 'TEXT',
      description: 'why; it goes into the audit log',
    },
    to: {
      type: 'string',
      schema: z
        .string()
        .regex(/^v[0-9a-f]{12}$/, 'expected a version id like v1a2b3c4d5e6f (see `retrain versions`)')
        .optional(),
      placeholder: 'VERSION',
      description: 'the version to restore, one of `retrain versions`',
      shownDefault: 'the previous champion',
    },
    by: requestedByFlag('who rolls back, for the audit log'),
    json: jsonFlag,
  },
  examples: [
    'retrain rollback churn --reason "accuracy dropped in production"',
    'retrain rollback churn --to v1a2b3c4d5e6f --reason "back to the March model"',
  ],
  async run(args) {
    const config = loadConfig();
    const pipeline = await loadPipeline(config.projectDir, args.pipeline);
    const client = await connectClient(config);
    try {
      const pointer = await rollbackModel(client, config, {
        model: pipeline.name,
        to: args.to,
        reason: args.reason,
        requestedBy: args.by,
        notify: pipeline.owners.retraining,
      });
      const change = pointer.history[pointer.history.length - 1];
      output(
        args.json,
        pointer,
        () =>
          `Rolled back ${pipeline.name}: champion ${change.from ?? 'none'} → ${pointer.champion}.\nNext: npx retrain versions ${pipeline.name}`,
      );
      return 0;
    } catch (err) {
      process.stderr.write(`retrain: rollback of ${pipeline.name} failed: ${rootCause(err as Error).message}\n`);
      return 1;
    }
  },
});
