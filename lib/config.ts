import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { formatIssues, InvalidInputError } from './errors';

/** Where Retrain itself is installed (holds training/ with the default scikit-learn scripts). */
export const RETRAIN_HOME = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');

const envSchema = z.object({
  /** Project with pipelines/ (default: the nearest directory upwards from here that has one). */
  RETRAIN_PROJECT_DIR: z.string().min(1).optional(),
  RETRAIN_TEMPORAL_ADDRESS: z.string().regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port').default('localhost:7233'),
  RETRAIN_NAMESPACE: z.string().min(1).default('default'),
  /** Local store directory (default: <project>/.retrain/store). */
  RETRAIN_STORE_DIR: z.string().min(1).optional(),
  /** Python for `$PYTHON` in commands (default: the project venv, else python3). */
  RETRAIN_PYTHON: z.string().min(1).optional(),
  RETRAIN_TASK_QUEUE: z.string().min(1).default('retrain'),
  RETRAIN_TRAINING_TASK_QUEUE: z.string().min(1).default('training'),
  /** Scratch space for training and predict subprocesses. */
  RETRAIN_WORK_DIR: z.string().min(1).optional(),
  RETRAIN_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
});

export interface RetrainConfig {
  projectDir: string;
  temporalAddress: string;
  namespace: string;
  storeDir: string;
  python: string;
  taskQueue: string;
  trainingTaskQueue: string;
  workDir: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
}

/** Reads and validates Retrain's environment variables; a bad value names the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): RetrainConfig {
  // An empty variable (FOO= in a compose file or a shell) means "not set", not "set to nothing".
  const set = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(set);
  if (!parsed.success) throw new InvalidInputError(formatIssues('environment', parsed.error.issues), { step: 'config' });
  const e = parsed.data;
  const projectDir = resolve(e.RETRAIN_PROJECT_DIR ?? findProjectDir(process.cwd()));
  const venvPython = join(projectDir, '.retrain', 'venv', 'bin', 'python');
  const homeVenvPython = join(RETRAIN_HOME, '.retrain', 'venv', 'bin', 'python');
  return {
    projectDir,
    temporalAddress: e.RETRAIN_TEMPORAL_ADDRESS,
    namespace: e.RETRAIN_NAMESPACE,
    storeDir: resolve(projectDir, e.RETRAIN_STORE_DIR ?? join('.retrain', 'store')),
    python: e.RETRAIN_PYTHON ?? [venvPython, homeVenvPython].find((p) => existsSync(p)) ?? 'python3',
    taskQueue: e.RETRAIN_TASK_QUEUE,
    trainingTaskQueue: e.RETRAIN_TRAINING_TASK_QUEUE,
    workDir: resolve(e.RETRAIN_WORK_DIR ?? join(tmpdir(), 'retrain-work')),
    logLevel: e.RETRAIN_LOG_LEVEL,
  };
}

/** The nearest directory at or above `start` that holds pipelines/, so commands work from subfolders. */
function findProjectDir(start: string): string {
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'pipelines'))) return dir;
    if (dirname(dir) === dir) return resolve(start);
  }
}
