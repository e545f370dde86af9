import { z } from 'zod';
import { loadConfig } from '../../services/config';
import { onePipeline, parseCommandArgs } from '../args';
import { connectClient, rollbackModel } from '../../client/client';
import { output } from '../format';
import { rootCause } from '../../client/follow';
import { loadPipeline } from '../../services/pipelines';

export const usage = () => 'rollback <pipeline> --reason TEXT [--to VERSION] [--by WHO] [--json]';

const schema = z.object({
  positionals: onePipeline,
  reason: z.string({ error: 'say why: --reason "…" (it goes into the audit log)' }).min(1),
  to: z.string().regex(/^v[0-9a-f]{12}$/, 'expected a version id like v1a2b3c4d5e6f (see `retrain versions`)').optional(),
  by: z.string().min(1).default(process.env.USER ?? 'cli'),
  json: z.boolean().default(false),
});

/** Restores the previous champion (or a named version) through the audited rollback workflow. */
export async function run(argv: string[]): Promise<number> {
  const flags = { reason: { type: 'string' as const }, to: { type: 'string' as const }, by: { type: 'string' as const }, json: { type: 'boolean' as const } };
  const args = parseCommandArgs('rollback', argv, flags, schema);
  const config = loadConfig();
  const pipeline = await loadPipeline(config.projectDir, args.positionals);
  const client = await connectClient(config);
  try {
    const pointer = await rollbackModel(client, config, { model: pipeline.name, to: args.to, reason: args.reason, requestedBy: args.by, notify: pipeline.owners.retraining });
    const change = pointer.history[pointer.history.length - 1];
    output(args.json, pointer, () => `Rolled back ${pipeline.name}: champion ${change.from ?? 'none'} → ${pointer.champion}.\nNext: npx retrain versions ${pipeline.name}`);
    return 0;
  } catch (err) {
    process.stderr.write(`retrain: rollback of ${pipeline.name} failed: ${rootCause(err as Error).message}\n`);
    return 1;
  }
}
