import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, it, expect } from 'vitest';
import { RETRAIN_HOME } from '../lib/config';
import { loadConfig } from '../services/config';
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
      temporalTls: false,
      store: { kind: 'local', dir: join(project, '.retrain', 'store') },
      s3: { region: 'us-east-1', forcePathStyle: false },
      python: existsSync(homeVenv) ? homeVenv : 'python3',
      taskQueue: 'retrain',
      trainingTaskQueue: 'training',
      maxConcurrentTrainings: 2,
      maxConcurrentPartitions: 2,
      pythonForkServer: true,
      pythonPreload: undefined,
      shutdownGraceSeconds: 30,
      workDir: join(tmpdir(), 'retrain-work'),
      logLevel: 'info',
      apiAddress: '127.0.0.1:8080',
      apiTokensFile: join(project, '.retrain', 'api-tokens.json'),
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
    const project = tempProject();
    mkdirSync(join(project, 'data', 'store'), { recursive: true });
    const config = loadConfig({
      RETRAIN_PROJECT_DIR: project,
      RETRAIN_TEMPORAL_ADDRESS: 'temporal.internal:7233',
      RETRAIN_NAMESPACE: 'ml',
      RETRAIN_TEMPORAL_TLS_CERT: 'certs/client.pem',
      RETRAIN_TEMPORAL_TLS_KEY: '/etc/retrain/client.key',
      RETRAIN_TEMPORAL_TLS_CA: 'certs/ca.pem',
      RETRAIN_TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
      RETRAIN_TEMPORAL_API_KEY: 'secret-key',
      RETRAIN_STORE: 'data/store',
      RETRAIN_S3_ENDPOINT: 'http://minio:9000',
      RETRAIN_S3_REGION: 'eu-west-1',
      RETRAIN_S3_FORCE_PATH_STYLE: 'false',
      RETRAIN_PYTHON: '/usr/bin/python3.12',
      RETRAIN_TASK_QUEUE: 'q1',
      RETRAIN_TRAINING_TASK_QUEUE: 'gpu',
      RETRAIN_MAX_CONCURRENT_TRAININGS: '8',
      RETRAIN_MAX_CONCURRENT_PARTITIONS: '3',
      RETRAIN_PYTHON_FORK_SERVER: 'false',
      RETRAIN_PYTHON_PRELOAD: 'numpy,sklearn.ensemble',
      RETRAIN_SHUTDOWN_GRACE_SECONDS: '600',
      RETRAIN_METRICS_ADDRESS: '0.0.0.0:9464',
      RETRAIN_ALERT_WEBHOOK: 'https://alerts.example.test/hook',
      RETRAIN_WORK_DIR: '/scratch/retrain',
      RETRAIN_LOG_LEVEL: 'debug',
      RETRAIN_API_ADDRESS: '0.0.0.0:8080',
      RETRAIN_API_TOKENS_FILE: 'secrets/tokens.json',
      RETRAIN_WEBHOOK_SECRET: 'a-secret-of-32-characters-at-least',
      RETRAIN_SESSION_SECRET: 'a-session-secret-of-32-characters-at-least',
      RETRAIN_TEMPORAL_UI_URL: 'http://temporal-ui.internal:8080',
    });
    expect(config).toEqual({
      projectDir: project,
      temporalAddress: 'temporal.internal:7233',
      namespace: 'ml',
      temporalTls: {
        certPath: join(project, 'certs', 'client.pem'),
        keyPath: '/etc/retrain/client.key',
        caPath: join(project, 'certs', 'ca.pem'),
        serverName: 'temporal.internal',
      },
      temporalApiKey: 'secret-key',
      store: { kind: 'local', dir: join(project, 'data', 'store') },
      s3: { endpoint: 'http://minio:9000', region: 'eu-west-1', forcePathStyle: false },
      python: '/usr/bin/python3.12',
      taskQueue: 'q1',
      trainingTaskQueue: 'gpu',
      maxConcurrentTrainings: 8,
      maxConcurrentPartitions: 3,
      pythonForkServer: false,
      pythonPreload: 'numpy,sklearn.ensemble',
      shutdownGraceSeconds: 600,
      metricsAddress: '0.0.0.0:9464',
      alertWebhook: 'https://alerts.example.test/hook',
      workDir: '/scratch/retrain',
      logLevel: 'debug',
      apiAddress: '0.0.0.0:8080',
      apiTokensFile: join(project, 'secrets', 'tokens.json'),
      webhookSecret: 'a-secret-of-32-characters-at-least',
      sessionSecret: 'a-session-secret-of-32-characters-at-least',
      temporalUiUrl: 'http://temporal-ui.internal:8080',
    });
  });

  it('keeps an absolute store directory as given', () => {
    const store = tempProject();
    expect(loadConfig({ RETRAIN_PROJECT_DIR: '/srv/p', RETRAIN_STORE: store }).store).toEqual({ kind: 'local', dir: store });
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

  it('rejects a Temporal or metrics port outside 1–65535', () => {
    expect(configError({ RETRAIN_TEMPORAL_ADDRESS: '127.0.0.1:99999' }).message).toContain(
      'RETRAIN_TEMPORAL_ADDRESS: expected host:port with a port from 1 to 65535',
    );
    expect(configError({ RETRAIN_TEMPORAL_ADDRESS: 'localhost:0' }).message).toContain('RETRAIN_TEMPORAL_ADDRESS');
    expect(configError({ RETRAIN_METRICS_ADDRESS: '0.0.0.0:65536' }).message).toContain('RETRAIN_METRICS_ADDRESS');
    expect(loadConfig({ RETRAIN_TEMPORAL_ADDRESS: 'temporal:65535' }).temporalAddress).toBe('temporal:65535');
    expect(loadConfig({ RETRAIN_TEMPORAL_ADDRESS: 'temporal:1' }).temporalAddress).toBe('temporal:1');
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

  it('selects an S3 store from an s3:// URL, with or without a prefix', () => {
    expect(loadConfig({ RETRAIN_STORE: 's3://ml-artefacts/teams/churn/' }).store).toEqual({
      kind: 's3',
      bucket: 'ml-artefacts',
      prefix: 'teams/churn',
    });
    expect(loadConfig({ RETRAIN_STORE: 's3://ml-artefacts' }).store).toEqual({ kind: 's3', bucket: 'ml-artefacts', prefix: '' });
  });

  it('rejects a bad s3:// store URL, naming the problem', () => {
    expect(configError({ RETRAIN_STORE: 's3://Bad_Bucket/x' }).message).toMatch(
      /RETRAIN_STORE: "Bad_Bucket" in s3:\/\/Bad_Bucket\/x is not a valid bucket name/,
    );
    expect(configError({ RETRAIN_STORE: 's3://bucket/a/../b' }).message).toContain('"." or ".."');
    expect(configError({ RETRAIN_STORE: 's3:/bucket' }).message).toContain('is not an s3:// URL');
  });

  it('rejects a store URL of another scheme instead of taking it for a directory', () => {
    const project = tempProject();
    const err = configError({ RETRAIN_PROJECT_DIR: project, RETRAIN_STORE: 'ftp://x/y' });
    expect(err.message).toContain('RETRAIN_STORE: "ftp://x/y" is a ftp:// URL, but a store is a local directory or s3://bucket/prefix');
    expect(configError({ RETRAIN_PROJECT_DIR: project, RETRAIN_STORE: 'file:///var/store' }).message).toContain('RETRAIN_STORE');
    expect(configError({ RETRAIN_PROJECT_DIR: project, RETRAIN_STORE: 'S3://bucket/x' }).message).toContain('RETRAIN_STORE');
  });

  it('rejects a store that is a file, or a named store directory that does not exist', () => {
    const project = tempProject();
    writeFileSync(join(project, 'store.txt'), 'not a directory');
    expect(configError({ RETRAIN_PROJECT_DIR: project, RETRAIN_STORE: 'store.txt' }).message).toContain(
      `RETRAIN_STORE: ${join(project, 'store.txt')} is a file, not a directory`,
    );
    expect(configError({ RETRAIN_PROJECT_DIR: project, RETRAIN_STORE: '/etc/passwd' }).message).toContain(
      'RETRAIN_STORE: /etc/passwd is a file, not a directory',
    );
    const missing = configError({ RETRAIN_PROJECT_DIR: project, RETRAIN_STORE: '/nonexistent/dir' });
    expect(missing.message).toContain(
      `RETRAIN_STORE: /nonexistent/dir does not exist (create it, or leave RETRAIN_STORE unset for the default ${join(project, '.retrain', 'store')})`,
    );
    expect(missing.context.step).toBe('config');
    // The default store may not exist yet (the local store creates it), also when it is named.
    expect(existsSync(join(project, '.retrain', 'store'))).toBe(false);
    expect(loadConfig({ RETRAIN_PROJECT_DIR: project }).store).toEqual({ kind: 'local', dir: join(project, '.retrain', 'store') });
    expect(loadConfig({ RETRAIN_PROJECT_DIR: project, RETRAIN_STORE: '.retrain/store' }).store).toEqual({
      kind: 'local',
      dir: join(project, '.retrain', 'store'),
    });
    mkdirSync(join(project, 'store'));
    expect(loadConfig({ RETRAIN_PROJECT_DIR: project, RETRAIN_STORE: 'store' }).store).toEqual({
      kind: 'local',
      dir: join(project, 'store'),
    });
  });

  it('honours the usual AWS variables, with the Retrain ones first', () => {
    expect(loadConfig({ AWS_REGION: 'eu-central-1', AWS_ENDPOINT_URL: 'https://s3.example.test' }).s3).toEqual({
      endpoint: 'https://s3.example.test',
      region: 'eu-central-1',
      forcePathStyle: true,
    });
    expect(
      loadConfig({ AWS_DEFAULT_REGION: 'ap-south-1', AWS_ENDPOINT_URL_S3: 'http://a:1', AWS_ENDPOINT_URL: 'http://b:2' }).s3.endpoint,
    ).toBe('http://a:1');
    expect(
      loadConfig({
        RETRAIN_S3_REGION: 'us-west-2',
        AWS_REGION: 'eu-central-1',
        RETRAIN_S3_ENDPOINT: 'http://c:3',
        AWS_ENDPOINT_URL: 'http://b:2',
      }).s3,
    ).toEqual({
      endpoint: 'http://c:3',
      region: 'us-west-2',
      forcePathStyle: true,
    });
    // AWS S3 itself: virtual-host style unless asked otherwise.
    expect(loadConfig({ RETRAIN_S3_FORCE_PATH_STYLE: 'yes' }).s3.forcePathStyle).toBe(true);
  });

  it('rejects half a credential pair and half a client certificate', () => {
    const err = configError({ AWS_ACCESS_KEY_ID: 'AKIA123', RETRAIN_TEMPORAL_TLS_KEY: 'client.key' });
    expect(err.message).toContain('AWS_SECRET_ACCESS_KEY: must be set together with AWS_ACCESS_KEY_ID');
    expect(err.message).toContain('RETRAIN_TEMPORAL_TLS_CERT: must be set together with RETRAIN_TEMPORAL_TLS_KEY');
  });

  it('turns TLS on for an API key or a certificate, and rejects TLS=false with either', () => {
    expect(loadConfig({ RETRAIN_TEMPORAL_API_KEY: 'k' }).temporalTls).toEqual({});
    expect(loadConfig({ RETRAIN_TEMPORAL_TLS: 'true' }).temporalTls).toEqual({});
    expect(loadConfig({ RETRAIN_TEMPORAL_TLS: '0' }).temporalTls).toBe(false);
    expect(configError({ RETRAIN_TEMPORAL_TLS: 'false', RETRAIN_TEMPORAL_API_KEY: 'k' }).message).toContain(
      'RETRAIN_TEMPORAL_TLS: is false, but',
    );
    expect(configError({ RETRAIN_TEMPORAL_TLS: 'maybe' }).message).toContain('RETRAIN_TEMPORAL_TLS: expected true or false');
  });

  it('rejects bad worker settings and endpoints, naming each variable', () => {
    const err = configError({
      RETRAIN_MAX_CONCURRENT_TRAININGS: '0',
      RETRAIN_MAX_CONCURRENT_PARTITIONS: '65',
      RETRAIN_PYTHON_FORK_SERVER: 'sometimes',
      RETRAIN_PYTHON_PRELOAD: 'numpy; rm -rf /',
      RETRAIN_SHUTDOWN_GRACE_SECONDS: 'soon',
      RETRAIN_METRICS_ADDRESS: 'http://0.0.0.0:9464',
      RETRAIN_S3_ENDPOINT: 'minio:9000',
    });
    for (const name of [
      'RETRAIN_MAX_CONCURRENT_TRAININGS',
      'RETRAIN_MAX_CONCURRENT_PARTITIONS',
      'RETRAIN_PYTHON_FORK_SERVER',
      'RETRAIN_PYTHON_PRELOAD',
      'RETRAIN_SHUTDOWN_GRACE_SECONDS',
      'RETRAIN_METRICS_ADDRESS',
      'RETRAIN_S3_ENDPOINT',
    ]) {
      expect(err.message).toContain(name);
    }
    expect(err.message).toContain('expected an http:// or https:// URL');
  });
});
