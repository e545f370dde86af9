// A worker in its own process, so a test can SIGKILL it mid-activity like a crashed machine
// (an in-process worker can only shut down gracefully, which waits for its activities).
// Configured by environment variables; prints "ready" on stdout once it polls.
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { resolve } from 'node:path';
import { type RetrainConfig } from '../../lib/config';
import { loadConfig } from '../../services/config';
import { createStore } from '../../store';
import { createWorkers, runWorkers } from '../../workers/worker';

/** What `spawnWorkerProcess` passes down. */
export interface WorkerProcessEnv {
  TEST_WORKER_ADDRESS: string;
  TEST_WORKER_TASK_QUEUE: string;
  TEST_WORKER_TRAINING_TASK_QUEUE: string;
  TEST_WORKER_STORE_DIR: string;
  TEST_WORKER_WORK_DIR: string;
  TEST_WORKER_BUNDLE: string;
}

function required(name: keyof WorkerProcessEnv): string {
  const value = process.env[name];
  if (!value) throw new Error(`worker-process: ${name} is not set`);
  return value;
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN', (e) => process.stderr.write(`[${e.level}] ${e.message}\n`)) });
  const address = required('TEST_WORKER_ADDRESS');
  const config: RetrainConfig = {
    ...loadConfig({ RETRAIN_PROJECT_DIR: resolve(import.meta.dirname, '../..') }),
    temporalAddress: address,
    taskQueue: required('TEST_WORKER_TASK_QUEUE'),
    trainingTaskQueue: required('TEST_WORKER_TRAINING_TASK_QUEUE'),
    store: { kind: 'local', dir: required('TEST_WORKER_STORE_DIR') },
    workDir: required('TEST_WORKER_WORK_DIR'),
  };
  const connection = await NativeConnection.connect({ address });
  const workers = await createWorkers({
    config,
    store: createStore(config),
    connection,
    workflowBundle: { codePath: required('TEST_WORKER_BUNDLE') },
  });
  const running = runWorkers(workers);
  process.stdout.write('ready\n');
  await running;
  await connection.close();
}

main().catch((err) => {
  process.stderr.write(`worker-process failed: ${err?.stack ?? err}\n`);
  process.exit(1);
});
