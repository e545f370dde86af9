import { GracefulShutdownPeriodExpiredError, NativeConnection } from '@temporalio/worker';
import { z } from 'zod';
import { storeLocation } from '../../lib/config';
import { loadConfig } from '../../services/config';
import { checkStore, createStore } from '../../store/index';
import { installRuntime } from '../../workers/runtime';
import { announceShutdown } from '../../workers/shutdown';
import { createWorkers, HAND_BACK_SECONDS, runWorkers, type QueueRole } from '../../workers/worker';
import { parseCommandArgs } from '../args';
import { describeTemporal, serverUnreachableError, temporalConnectionOptions } from '../../client/temporal-connection';

export const usage = () => 'worker [--queues retrain,training] [--concurrency N (default RETRAIN_MAX_CONCURRENT_TRAININGS)]';

const schema = z.object({
  positionals: z.array(z.string()).max(0, 'worker takes no arguments'),
  queues: z
    .string()
    .default('retrain,training')
    .transform((s) => s.split(',').map((q) => q.trim()))
    .pipe(z.array(z.enum(['retrain', 'training'])).min(1)),
  // No default here: RETRAIN_MAX_CONCURRENT_TRAININGS is the default.
  concurrency: z.coerce.number().int().min(1).max(64).optional(),
});

/**
 * A long-running worker against RETRAIN_TEMPORAL_ADDRESS. Run one with `--queues retrain` for
 * orchestration and as many `--queues training` as you have training machines.
 * SIGINT/SIGTERM stop it gracefully: running activities get RETRAIN_SHUTDOWN_GRACE_SECONDS to
 * finish, then are cancelled and retried on another worker; it then exits 0.
 */
export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs('worker', argv, { queues: { type: 'string' }, concurrency: { type: 'string' } }, schema);
  const config = loadConfig();
  const say = (line: string) => process.stderr.write(line + '\n');
  const connectOptions = temporalConnectionOptions(config);
  const { metricsUrl } = await installRuntime({ level: config.logLevel, metricsAddress: config.metricsAddress });
  const store = createStore(config);
  const storeWarning = await checkStore(store);
  if (storeWarning) say(`retrain worker: warning: ${storeWarning}`);
  let connection: NativeConnection;
  try {
    connection = await NativeConnection.connect(connectOptions);
  } catch (err) {
    throw serverUnreachableError(config, err);
  }
  const roles = args.queues as QueueRole[];
  const concurrency = args.concurrency ?? config.maxConcurrentTrainings;
  const workers = await createWorkers({ config, store, connection, roles, maxConcurrentTrainings: concurrency });
  const queues = roles.map((r) => (r === 'retrain' ? `"${config.taskQueue}" (workflows)` : `"${config.trainingTaskQueue}" (training, ${concurrency} at once)`));
  say(`retrain worker: task queues ${queues.join(' + ')} on ${describeTemporal(config)}; store ${storeLocation(config.store)}`);
  if (metricsUrl) say(`retrain worker: Prometheus metrics at ${metricsUrl}`);
  const stopListening = announceShutdown({ graceSeconds: config.shutdownGraceSeconds, say });
  try {
    await runWorkers(workers);
  } catch (err) {
    if (!(err instanceof GracefulShutdownPeriodExpiredError)) throw err;
    say(`retrain worker: activities still running ${HAND_BACK_SECONDS}s after the grace ended and they were cancelled; exiting anyway (Temporal retries them after their heartbeat timeout).`);
    return 1;
  } finally {
    stopListening();
  }
  await connection.close();
  say('retrain worker: stopped (running activities finished or were handed back)');
  return 0;
}
