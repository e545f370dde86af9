import { NativeConnection, type Worker } from '@temporalio/worker';
import { join } from 'node:path';
import type { RetrainConfig } from '../lib/config';
import { checkStore, createStore } from '../store/index';
import { installRuntime } from '../workers/runtime';
import { createWorkers } from '../workers/worker';
import { isServing, startDevServer, type DevServer } from './dev-server';
import { ensurePythonEnv, ensureTemporalCli } from '../scripts/provision.mjs';
import { describeTemporal, serverUnreachableError, temporalConnectionOptions } from '../client/temporal-connection';

/** The Temporal server and in-process workers that {@link startLocalStack} started or reused. */
export interface LocalStack {
  /** Temporal frontend address, `host:port`. */
  address: string;
  /** Web UI of the dev server started here; null when none was started. */
  uiUrl: string | null;
  /** False when a server was already running at the configured address and we reused it. */
  startedServer: boolean;
  /** Path of the workers' JSON-lines log. */
  workerLog: string;
  workers: Worker[];
  /** Shuts the workers down, closes their connection and stops the dev server if one was started. */
  stop(): Promise<void>;
}

/**
 * The embedded default: a Temporal dev server persisted under .retrain/temporal (or the server
 * already answering at RETRAIN_TEMPORAL_ADDRESS) plus a worker for both task queues in this
 * process, logging JSON lines to .retrain/logs/worker.log. With TLS or an API key configured the
 * server is a remote cluster: it is used as configured and no dev server is started.
 */
export async function startLocalStack(config: RetrainConfig, say: (line: string) => void): Promise<LocalStack> {
  ensureTemporalCli();
  config.python = process.env.RETRAIN_PYTHON ?? ensurePythonEnv();
  const stateDir = join(config.projectDir, '.retrain');
  // Before starting anything: an unreadable certificate is a configuration error.
  const connectOptions = temporalConnectionOptions(config);
  let server: DevServer | null = null;
  let address = config.temporalAddress;
  let uiUrl: string | null = null;
  const remote = config.temporalTls !== false || config.temporalApiKey !== undefined;
  if (remote) {
    say(`Using the Temporal server at ${describeTemporal(config)}.`);
  } else if (await isServing(address)) {
    say(`Using the Temporal server already running at ${address}.`);
  } else {
    const port = Number(address.split(':').pop());
    say(`Starting a Temporal dev server on ${address} (state in .retrain/temporal/dev.db)…`);
    server = await startDevServer({
      port,
      uiPort: port + 1000,
      dbFile: join(stateDir, 'temporal', 'dev.db'),
      logFile: join(stateDir, 'logs', 'temporal.log'),
    });
    address = server.address;
    uiUrl = server.uiUrl;
    say(`Temporal UI: ${uiUrl}`);
  }
  const workerLog = join(stateDir, 'logs', 'worker.log');
  const stackConfig = { ...config, temporalAddress: address };
  let connection: NativeConnection;
  let metricsUrl: string | undefined;
  const store = createStore(config);
  try {
    // A store that cannot work (no bucket, bad credentials) stops here, not in every step.
    const storeWarning = await checkStore(store);
    if (storeWarning) say(`Warning: ${storeWarning}.`);
    ({ metricsUrl } = await installRuntime({ level: config.logLevel, logFile: workerLog, metricsAddress: config.metricsAddress }));
    connection = await NativeConnection.connect({ ...connectOptions, address }).catch((err: unknown) => {
      throw serverUnreachableError(stackConfig, err);
    });
  } catch (err) {
    await server?.stop();
    throw err;
  }
  const workers = await createWorkers({ config: stackConfig, store, connection });
  const running = workers.map((w) => w.run());
  say(`Worker running on task queues "${config.taskQueue}" and "${config.trainingTaskQueue}" (logs: ${workerLog}).`);
  if (metricsUrl) say(`Worker metrics (Prometheus): ${metricsUrl}`);
  return {
    address,
    uiUrl,
    startedServer: server !== null,
    workerLog,
    workers,
    async stop() {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await Promise.allSettled(running);
      await connection.close();
      await server?.stop();
    },
  };
}
