import { NativeConnection } from '@temporalio/worker';
import { z } from 'zod';
import { loadConfig, storeLocation } from '../../lib/config';
import { createStore } from '../../store';
import { installJsonLogger } from '../../workers/logger';
import { createWorkers, runWorkers, type QueueRole } from '../../workers/worker';
import { parseCommandArgs } from '../args';

export const usage = () => 'worker [--queues retrain,training] [--concurrency N]';

const schema = z.object({
  positionals: z.array(z.string()).max(0, 'worker takes no arguments'),
  queues: z
    .string()
    .default('retrain,training')
    .transform((s) => s.split(',').map((q) => q.trim()))
    .pipe(z.array(z.enum(['retrain', 'training'])).min(1)),
  concurrency: z.coerce.number().int().min(1).max(64).default(2),
});

/**
 * A long-running worker against RETRAIN_TEMPORAL_ADDRESS. Run one with `--queues retrain` for
 * orchestration and as many `--queues training` as you have training machines.
 * SIGINT/SIGTERM stop it gracefully (running activities finish or are handed back).
 */
export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs('worker', argv, { queues: { type: 'string' }, concurrency: { type: 'string' } }, schema);
  const config = loadConfig();
  installJsonLogger({ level: config.logLevel });
  let connection: NativeConnection;
  try {
    connection = await NativeConnection.connect({ address: config.temporalAddress });
  } catch (err) {
    process.stderr.write(`retrain: no Temporal server at ${config.temporalAddress} (${(err as Error).message}). Start one with \`npx retrain dev\` or set RETRAIN_TEMPORAL_ADDRESS.\n`);
    return 1;
  }
  const workers = await createWorkers({ config, store: createStore(config), connection, roles: args.queues as QueueRole[], maxConcurrentTrainings: args.concurrency });
  process.stderr.write(`retrain worker: ${args.queues.join(' + ')} on ${config.temporalAddress}, store ${storeLocation(config.store)}\n`);
  await runWorkers(workers);
  await connection.close();
  return 0;
}
