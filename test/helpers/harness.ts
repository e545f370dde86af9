import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { type RetrainConfig, type S3Config, type StoreConfig } from '../../lib/config';
import { loadConfig } from '../../services/config';
import { createStore, type Store } from '../../store';
import { createWorkers } from '../../workers/worker';
import { REPO } from './pipelines';

export { REPO, testPipeline, TRIVIAL_PREDICT, TRIVIAL_TRAINER } from './pipelines';

let runtimeInstalled = false;

/** Recorded workflow histories that test/replay.test.ts replays. */
export const HISTORY_DIR = join(REPO, 'test/fixtures/histories');

export interface Harness {
  client: Client;
  config: RetrainConfig;
  store: Store;
  connection: NativeConnection;
  workers: Worker[];
  /** Starts the workers again (after `stopWorkers`), e.g. to simulate a restarted machine; `roles` limits their queues. */
  startWorkers(roles?: ('retrain' | 'training')[]): Promise<void>;
  stopWorkers(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A real worker on the shared dev server, with its own task queues and store (a fresh local
 * directory unless `store` names another), so test files can run side by side without seeing
 * each other's work. `projectDir` is the project whose `pipelines/<model>.ts` the workers load
 * for runs started by model name (default: this repository).
 */
export async function startHarness(
  opts: { runWorkers?: boolean; store?: StoreConfig; s3?: S3Config; projectDir?: string } = {},
): Promise<Harness> {
  if (!runtimeInstalled) {
    // Tests read logs only when something fails: keep warnings and errors.
    Runtime.install({ logger: new DefaultLogger('WARN') });
    runtimeInstalled = true;
  }
  const address = inject('temporalAddress');
  const id = randomUUID().slice(0, 8);
  const config: RetrainConfig = {
    ...loadConfig({ RETRAIN_PROJECT_DIR: opts.projectDir ?? REPO }),
    temporalAddress: address,
    store: opts.store ?? { kind: 'local', dir: mkdtempSync(join(tmpdir(), 'retrain-store-')) },
    ...(opts.s3 ? { s3: opts.s3 } : {}),
    ...(opts.projectDir ? { projectDir: opts.projectDir } : {}),
    workDir: mkdtempSync(join(tmpdir(), 'retrain-work-')),
    taskQueue: `retrain-${id}`,
    trainingTaskQueue: `training-${id}`,
  };
  const store = createStore(config);
  const connection = await NativeConnection.connect({ address });
  const client = new Client({ connection: await Connection.connect({ address }) });
  /** The workers' run() promises (settled: the worker released the connection). */
  let running: Promise<unknown>[] = [];
  const harness: Harness = {
    client,
    config,
    store,
    connection,
    workers: [],
    async startWorkers(roles) {
      harness.workers = await createWorkers({
        config,
        store,
        connection,
        ...(roles ? { roles } : {}),
        workflowBundle: { codePath: inject('workflowBundlePath') },
      });
      running = harness.workers.map((w) => w.run().catch(() => undefined));
    },
    async stopWorkers() {
      await Promise.all(
        harness.workers.map(async (w) => {
          if (w.getState() === 'RUNNING') w.shutdown();
          while (w.getState() !== 'STOPPED' && w.getState() !== 'FAILED') await new Promise((r) => setTimeout(r, 50));
        }),
      );
      // A worker lets go of the connection when run() settles, a moment after it reports STOPPED.
      await Promise.all(running);
      running = [];
      harness.workers = [];
    },
    async close() {
      await harness.stopWorkers();
      await client.connection.close();
      await connection.close();
    },
  };
  if (opts.runWorkers !== false) await harness.startWorkers();
  return harness;
}
