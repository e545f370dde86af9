import { NativeConnection, type Worker } from '@temporalio/worker';
import { join } from 'node:path';
import type { RetrainConfig } from '../lib/config';
import { checkStore, createStore } from '../store/index';
import { installRuntime } from '../workers/runtime';
import { createWorkers } from '../workers/worker';
import { adoptDevServer, devServerStateFile, isServing, recordedDevServer, startDevServer, type DevServer } from './dev-server';
import { ensurePythonEnv, ensureTemporalCli } from '../scripts/provision.mjs';
import { describeTemporal, serverUnreachableError, temporalConnectionOptions } from '../client/temporal-connection';

/** The Temporal server and in-process workers that {@link startLocalStack} started or reused. */
export interface LocalStack {
  /** Temporal frontend address, `host:port`. */
  address: string;
  /** Web UI of the dev server started here; null when none was started. */
  uiUrl: string | null;
  /**
   * True when `stop()` stops the server: started here, or taken over from a `retrain dev` that
   * crashed and left it running. False for a server that was already running and stays.
   */
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
  const stateFile = devServerStateFile(config.projectDir);
  // Before starting anything: an unreadable certificate is a configuration error.
  const connectOptions = temporalConnectionOptions(config);
  let server: DevServer | null = null;
  let address = config.temporalAddress;
  let uiUrl: string | null = null;
  const remote = config.temporalTls !== false || config.temporalApiKey !== undefined;
  if (remote) {
    say(`Using the Temporal server at ${describeTemporal(config)}.`);
  } else if (await isServing(address)) {
    const reused = reuseServer(stateFile, address);
    say(reused.message);
    server = reused.adopted;
    uiUrl = reused.adopted?.uiUrl ?? null;
  } else {
    const port = Number(address.split(':').pop());
    say(`Starting a Temporal dev server on ${address} (state in .retrain/temporal/dev.db)…`);
    server = await startDevServer({
      port,
      uiPort: port + 1000,
      dbFile: join(stateDir, 'temporal', 'dev.db'),
      logFile: join(stateDir, 'logs', 'temporal.log'),
      stateFile,
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

/**
 * A server already answers at `address`: says whose it is and what stopping will do. One left
 * running by a `retrain dev` that crashed is taken over (`adopted`: its `stop()` stops it) and
 * stopped with this one; one that another running `retrain dev` owns, or that no `retrain dev`
 * started, is left running (`adopted` is null).
 */
export function reuseServer(stateFile: string, address: string): { message: string; adopted: DevServer | null } {
  const found = recordedDevServer(stateFile, address);
  if (found.kind === 'orphaned') {
    const { pid, ownerPid, startedAt } = found.state;
    return {
      message:
        `Reusing the Temporal dev server at ${address} that an earlier \`retrain dev\` (pid ${ownerPid}, gone) left running ` +
        `(server pid ${pid}, since ${startedAt}); it is stopped when this stops.`,
      adopted: adoptDevServer(stateFile, found.state),
    };
  }
  if (found.kind === 'in-use')
    return {
      message:
        `Using the Temporal dev server at ${address} of the \`retrain dev\` running as pid ${found.state.ownerPid} ` +
        `(server pid ${found.state.pid}); it keeps running when this stops.`,
      adopted: null,
    };
  return {
    message: `Using the Temporal server already running at ${address} (not started by \`retrain dev\`; it keeps running when this stops).`,
    adopted: null,
  };
}
