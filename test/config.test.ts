import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, it, expect } from 'vitest';
import { loadConfig, RETRAIN_HOME } from '../lib/config';
import { InvalidInputError } from '../lib/errors';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function tempProject(): string {
  const dir = mkdtempSync(join(tmpdir(), 'retrain-config-'));
  dirs.push(dir);
  return dir;
}

function configError(env: NodeJS.ProcessEnv): InvalidInputError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidInputError);
    return err as InvalidInputError;
  }
  throw new Error('expected the configuration to be rejected');
}

describe('loadConfig', () => {
  it('uses defaults for everything not set', () => {
    const project = tempProject();
    const homeVenv = join(RETRAIN_HOME, '.retrain', 'venv', 'bin', 'python');
    expect(loadConfig({ RETRAIN_PROJECT_DIR: project })).toEqual({
      projectDir: project,
      temporalAddress: 'localhost:7233',
      namespace: 'default',
      storeDir: join(project, '.retrain', 'store'),
      python: existsSync(homeVenv) ? homeVenv : 'python3',
      taskQueue: 'retrain',
      trainingTaskQueue: 'training',
      workDir: join(tmpdir(), 'retrain-work'),
      logLevel: 'info',
    });
  });

  it('finds the project upwards from the current directory when RETRAIN_PROJECT_DIR is not set', () => {
    const project = tempProject();
    mkdirSync(join(project, 'pipelines'));
    mkdirSync(join(project, 'sub', 'deeper'), { recursive: true });
    const lonely = tempProject();
    const cwd = process.cwd();
    try {
      process.chdir(join(project, 'sub', 'deeper'));
      expect(loadConfig({}).projectDir).toBe(project);
      // No pipelines/ anywhere above: the current directory itself.
      process.chdir(lonely);
      expect(loadConfig({}).projectDir).toBe(lonely);
    } finally {
      process.chdir(cwd);
    }
  });

  it('reads every variable', () => {
    const config = loadConfig({
      RETRAIN_PROJECT_DIR: '/srv/project',
      RETRAIN_TEMPORAL_ADDRESS: 'temporal.internal:7233',
      RETRAIN_NAMESPACE: 'ml',
      RETRAIN_STORE_DIR: 'data/store',
      RETRAIN_PYTHON: '/usr/bin/python3.12',
      RETRAIN_TASK_QUEUE: 'q1',
      RETRAIN_TRAINING_TASK_QUEUE: 'gpu',
      RETRAIN_WORK_DIR: '/scratch/retrain',
      RETRAIN_LOG_LEVEL: 'debug',
    });
    expect(config).toEqual({
      projectDir: '/srv/project',
      temporalAddress: 'temporal.internal:7233',
      namespace: 'ml',
      storeDir: '/srv/project/data/store',
      python: '/usr/bin/python3.12',
      taskQueue: 'q1',
      trainingTaskQueue: 'gpu',
      workDir: '/scratch/retrain',
      logLevel: 'debug',
    });
  });

  it('keeps an absolute store directory as given', () => {
    expect(loadConfig({ RETRAIN_PROJECT_DIR: '/srv/p', RETRAIN_STORE_DIR: '/var/store' }).storeDir).toBe('/var/store');
    expect(loadConfig({ RETRAIN_PROJECT_DIR: 'rel/p' }).projectDir).toBe(resolve('rel/p'));
  });

  it('prefers the project venv python when there is one', () => {
    const project = tempProject();
    const python = join(project, '.retrain', 'venv', 'bin', 'python');
    mkdirSync(join(project, '.retrain', 'venv', 'bin'), { recursive: true });
    writeFileSync(python, '');
    expect(loadConfig({ RETRAIN_PROJECT_DIR: project }).python).toBe(python);
  });

  it('rejects a Temporal address that is not host:port, naming the variable', () => {
    const err = configError({ RETRAIN_TEMPORAL_ADDRESS: 'nonsense' });
    expect(err.message).toContain('environment is invalid');
    expect(err.message).toContain('RETRAIN_TEMPORAL_ADDRESS: expected host:port');
    expect(err.context.step).toBe('config');
    expect(err.retryable).toBe(false);
    expect(configError({ RETRAIN_TEMPORAL_ADDRESS: 'http://localhost:7233' }).message).toContain('RETRAIN_TEMPORAL_ADDRESS');
  });

  it('rejects an unknown log level, naming the variable and the allowed levels', () => {
    const err = configError({ RETRAIN_LOG_LEVEL: 'verbose' });
    expect(err.message).toContain('RETRAIN_LOG_LEVEL');
    expect(err.message).toContain('"debug"');
    expect(err.message).toContain('"error"');
  });

  it('reports every bad variable at once and ignores unrelated ones', () => {
    const err = configError({ RETRAIN_LOG_LEVEL: 'loud', RETRAIN_TEMPORAL_ADDRESS: 'x', PATH: '/bin', HOME: '/root' });
    expect(err.message).toContain('RETRAIN_LOG_LEVEL');
    expect(err.message).toContain('RETRAIN_TEMPORAL_ADDRESS');
    expect(err.message).not.toContain('PATH');
  });
});
