import { GracefulShutdownPeriodExpiredError, NativeConnection } from '@temporalio/worker';
import { z } from 'zod';
import { storeLocation } from '../../lib/config';
import { loadConfig } from '../../services/config';
import { checkStore, createStore } from '../../store/index';
import { installRuntime } from '../../workers/runtime';
import { announceShutdown } from '../../workers/shutdown';
import { createWorkers, HAND_BACK_SECONDS, runWorkers, type QueueRole } from '../../workers/worker';
import { defineCommand } from '../command';
import { describeTemporal, serverUnreachableError, temporalConnectionOptions } from '../../client/temporal-connection';

/** `retrain worker`: a long-running worker for one or both task queues; exits 0 after a graceful stop. */
export const workerCommand = defineCommand({
  name: 'worker',
  summary: 'run a worker against RETRAIN_TEMPORAL_ADDRESS (SIGTERM: graceful stop)',
  details:
    'Run one with --queues retrain for orchestration, and one --queues training per training machine.\n' +
    'SIGINT/SIGTERM stop it gracefully: running activities get RETRAIN_SHUTDOWN_GRACE_SECONDS to finish,\n' +
    'then are cancelled and retried on another worker.',
  flags: {
    queues: {
      type: 'string',
      schema: z
        .string()
        .transform((s) => s.split(',').map((q) => q.trim()))
        .pipe(z.array(z.enum(['retrain', 'training'])).min(1)),
      default: 'retrain,training',
      placeholder: 'QUEUES',
      description: 'the task queues to serve, comma-separated: retrain (workflows), training (training activities)',
    },
    concurrency: {
      type: 'string',
      schema: z.coerce.number().int().min(1).max(64).optional(),
      placeholder: 'N',
      description: 'how many trainings this worker runs at once, 1 to 64',
      shownDefault: 'RETRAIN_MAX_CONCURRENT_TRAININGS',
    },
  },
  examples: ['retrain worker', 'retrain worker --queues training --concurrency 4'],
  async run(args) {
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
    const roles: QueueRole[] = args.queues;
    const concurrency = args.concurrency ?? config.maxConcurrentTrainings;
    const workers = await createWorkers({ config, store, connection, roles, maxConcurrentTrainings: concurrency });
    const queues = roles.map((r) =>
      r === 'retrain' ? `"${config.taskQueue}" (workflows)` : `"${config.trainingTaskQueue}" (training, ${concurrency} at once)`,
    );
    say(`retrain worker: task queues ${queues.join(' + ')} on ${describeTemporal(config)}; store ${storeLocation(config.store)}`);
    if (metricsUrl) say(`retrain worker: Prometheus metrics at ${metricsUrl}`);
    const stopListening = announceShutdown({ graceSeconds: config.shutdownGraceSeconds, say });
    try {
      await runWorkers(workers);
    } catch (err) {
      if (!(err instanceof GracefulShutdownPeriodExpiredError)) throw err;
      say(
        `retrain worker: activities still running ${HAND_BACK_SECONDS}s after the grace ended and they were cancelled; exiting anyway (Temporal retries them after their heartbeat timeout).`,
      );
      return 1;
    } finally {
      stopListening();
    }
    await connection.close();
    say('retrain worker: stopped (running activities finished or were handed back)');
    return 0;
  },
});
