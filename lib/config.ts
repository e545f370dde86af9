import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { formatIssues, InvalidInputError } from './errors';
import { isS3Url, parseS3Url } from './s3-url';
import { TaskQueue } from './task-queues';

/** Where Retrain itself is installed (holds training/ with the default scikit-learn scripts). */
export const RETRAIN_HOME = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');

/** host:port with a port from 1 to 65535 (addresses in the environment and in flags). */
export const hostPort = z
  .string()
  .regex(/^[^\s:/]+:\d{1,5}$/, 'expected host:port')
  .refine(
    (v) => {
      const port = Number(/:(\d+)$/.exec(v)?.[1] ?? 1);
      return port >= 1 && port <= 65_535;
    },
    { message: 'expected host:port with a port from 1 to 65535' },
  );
const flag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'expected true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const httpUrl = z.url({ protocol: /^https?$/, message: 'expected an http:// or https:// URL' });

/** Log levels of the worker's JSON log lines, least severe first. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
/** How much the worker logs: `debug` shows subprocess output, `info` one line per step. */
export type LogLevel = (typeof LOG_LEVELS)[number];

const envSchema = z
  .object({
    /**
     * Project with pipelines/.
     * @default the nearest directory upwards from here that has one
     */
    RETRAIN_PROJECT_DIR: z.string().min(1).optional(),
    RETRAIN_TEMPORAL_ADDRESS: hostPort.default('localhost:7233'),
    RETRAIN_NAMESPACE: z.string().min(1).default('default'),
    /** TLS to the Temporal frontend (implied by a client certificate or an API key). */
    RETRAIN_TEMPORAL_TLS: flag.optional(),
    /** mTLS client certificate and key (PEM files), e.g. for Temporal Cloud. */
    RETRAIN_TEMPORAL_TLS_CERT: z.string().min(1).optional(),
    RETRAIN_TEMPORAL_TLS_KEY: z.string().min(1).optional(),
    /** CA bundle for a server certificate not signed by a public CA. */
    RETRAIN_TEMPORAL_TLS_CA: z.string().min(1).optional(),
    RETRAIN_TEMPORAL_TLS_SERVER_NAME: z.string().min(1).optional(),
    /** Temporal Cloud API key (sent as a bearer token over TLS). */
    RETRAIN_TEMPORAL_API_KEY: z.string().min(1).optional(),
    /**
     * A local directory, or s3://bucket[/prefix].
     * @default <project>/.retrain/store
     */
    RETRAIN_STORE: z
      .string()
      .min(1)
      .transform((value, ctx) => {
        // Anything else with a scheme is a mistake, not a local directory named "ftp:".
        const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value)?.[1];
        if (scheme !== undefined && scheme !== 's3') {
          ctx.addIssue({
            code: 'custom',
            message: `"${value}" is a ${scheme}:// URL, but a store is a local directory or s3://bucket/prefix`,
          });
          return z.NEVER;
        }
        if (!isS3Url(value)) return value;
        const url = parseS3Url(value);
        if (url.ok) return url;
        ctx.addIssue({ code: 'custom', message: url.error });
        return z.NEVER;
      })
      .optional(),
    /**
     * S3-compatible endpoint (MinIO, Ceph, R2…).
     * @default AWS S3 of the region
     */
    RETRAIN_S3_ENDPOINT: httpUrl.optional(),
    AWS_ENDPOINT_URL_S3: httpUrl.optional(),
    AWS_ENDPOINT_URL: httpUrl.optional(),
    RETRAIN_S3_REGION: z.string().min(1).optional(),
    AWS_REGION: z.string().min(1).optional(),
    AWS_DEFAULT_REGION: z.string().min(1).optional(),
    /** Path-style URLs (endpoint/bucket/key), which most self-hosted servers need. */
    RETRAIN_S3_FORCE_PATH_STYLE: flag.optional(),
    AWS_ACCESS_KEY_ID: z.string().min(1).optional(),
    AWS_SECRET_ACCESS_KEY: z.string().min(1).optional(),
    /**
     * Python for `$PYTHON` in commands.
     * @default the project venv, else python3
     */
    RETRAIN_PYTHON: z.string().min(1).optional(),
    RETRAIN_TASK_QUEUE: z.string().min(1).default(TaskQueue.RETRAIN),
    RETRAIN_TRAINING_TASK_QUEUE: z.string().min(1).default(TaskQueue.TRAINING),
    /** Training/predict subprocesses one worker runs at once. */
    RETRAIN_MAX_CONCURRENT_TRAININGS: z.coerce.number().int().min(1).max(64).default(2),
    /**
     * Hours of a partitioned drift check one worker summarises at once: CPU-bound work, so about
     * one per core the process can use; a low limit also spreads a check evenly over workers.
     */
    RETRAIN_MAX_CONCURRENT_PARTITIONS: z.coerce.number().int().min(1).max(64).default(2),
    /**
     * Start `$PYTHON script.py` commands as forks of a Python that has imported the libraries
     * once (training/fork_server.py), instead of a fresh interpreter each time.
     */
    RETRAIN_PYTHON_FORK_SERVER: flag.default(true),
    /** The modules that Python imports before it forks, comma-separated (default: scikit-learn's, pandas, numpy, joblib). */
    RETRAIN_PYTHON_PRELOAD: z
      .string()
      .regex(/^[A-Za-z_][\w.]*(,[A-Za-z_][\w.]*)*$/, {
        message: 'expected Python module names separated by commas, e.g. numpy,sklearn.ensemble',
      })
      .optional(),
    /** On SIGTERM, how long running activities may go on before they are cancelled and handed back. */
    RETRAIN_SHUTDOWN_GRACE_SECONDS: z.coerce.number().int().min(0).max(86_400).default(30),
    /** host:port for the worker's Prometheus /metrics endpoint (off when unset). */
    RETRAIN_METRICS_ADDRESS: hostPort.optional(),
    /** Where drift alerts go when a pipeline names no alertWebhook. */
    RETRAIN_ALERT_WEBHOOK: httpUrl.optional(),
    /** Scratch space for training and predict subprocesses. */
    RETRAIN_WORK_DIR: z.string().min(1).optional(),
    RETRAIN_LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
    /** host:port `retrain serve` listens on; loopback unless you mean to expose it (put TLS in a reverse proxy). */
    RETRAIN_API_ADDRESS: hostPort.default('127.0.0.1:8080'),
    /**
     * The API's bearer tokens (hashed), written by `retrain token add`.
     * @default <project>/.retrain/api-tokens.json
     */
    RETRAIN_API_TOKENS_FILE: z.string().min(1).optional(),
    /** The tokens file's JSON itself (a secret of the platform, e.g. Kubernetes); when set, the file is not read. */
    RETRAIN_API_TOKENS: z.string().min(1).optional(),
    /** Where `retrain check` finds the HTTP API (e.g. http://127.0.0.1:8080); unset: the API is not checked. */
    RETRAIN_API_URL: httpUrl.optional(),
    /** Signs outgoing alert webhooks (HMAC-SHA256 of timestamp and body, header Retrain-Signature). */
    RETRAIN_WEBHOOK_SECRET: z.string().min(16, 'use at least 16 characters (e.g. openssl rand -hex 32)').optional(),
    /**
     * Signs the console's sign-in cookies. Unset: a random key per process, so sign-ins end when
     * `retrain serve` restarts and are not shared between two API processes.
     */
    RETRAIN_SESSION_SECRET: z.string().min(32, 'use at least 32 characters (e.g. openssl rand -hex 32)').optional(),
    /** The Temporal UI, for the console's links to runs (e.g. http://localhost:8233); unset: no links. */
    RETRAIN_TEMPORAL_UI_URL: httpUrl.optional(),
  })
  .superRefine((e, ctx) => {
    const pair = (a: keyof typeof e, b: keyof typeof e, why: string) => {
      if ((e[a] === undefined) !== (e[b] === undefined)) {
        const missing = e[a] === undefined ? a : b;
        ctx.addIssue({ code: 'custom', path: [missing], message: `must be set together with ${missing === a ? b : a} (${why})` });
      }
    };
    pair('RETRAIN_TEMPORAL_TLS_CERT', 'RETRAIN_TEMPORAL_TLS_KEY', 'a client certificate needs its key');
    pair('AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'S3 credentials are a key id and its secret');
    if (e.RETRAIN_TEMPORAL_TLS === false && (e.RETRAIN_TEMPORAL_TLS_CERT || e.RETRAIN_TEMPORAL_API_KEY)) {
      ctx.addIssue({
        code: 'custom',
        path: ['RETRAIN_TEMPORAL_TLS'],
        message: 'is false, but a client certificate or API key is set, and those need TLS',
      });
    }
  });

/** Where the store is: a local directory, or an S3 bucket and key prefix. */
export type StoreConfig = { kind: 'local'; dir: string } | { kind: 's3'; bucket: string; prefix: string };

/** How to reach S3 (for an s3:// store and s3:// data sources). Credentials come from the AWS chain. */
export interface S3Config {
  endpoint?: string;
  region: string;
  forcePathStyle: boolean;
}

/** TLS to the Temporal frontend: PEM file paths and a server name override, all optional. */
export interface TemporalTlsConfig {
  certPath?: string;
  keyPath?: string;
  caPath?: string;
  serverName?: string;
}

/** What the configuration needs to know about the machine it runs on (services/config.ts gives the real one). */
export interface ConfigHost {
  /** Where relative paths and the search for pipelines/ start. */
  cwd: string;
  /** Whether a file or directory exists (to find pipelines/ and the project venv). */
  exists: (path: string) => boolean;
  /** What is at a path: a directory, something else, or nothing (to check a local store). */
  kind: (path: string) => 'file' | 'dir' | 'missing';
  /** The system's temporary directory (default parent of the work dir). */
  tmpdir: string;
}

/**
 * The schema of Retrain's environment, transformed into the configuration every part uses:
 * `RetrainConfig` is its output type, so the two cannot drift apart.
 */
export function configSchema(host: ConfigHost) {
  return envSchema.transform((e, ctx) => {
    const projectDir = resolve(host.cwd, e.RETRAIN_PROJECT_DIR ?? findProjectDir(host.cwd, host.exists));
    const venvPython = join(projectDir, '.retrain', 'venv', 'bin', 'python');
    const homeVenvPython = join(RETRAIN_HOME, '.retrain', 'venv', 'bin', 'python');
    const fromProject = (p: string | undefined) => (p === undefined ? undefined : resolve(projectDir, p));
    const tlsWanted =
      e.RETRAIN_TEMPORAL_TLS ?? Boolean(e.RETRAIN_TEMPORAL_TLS_CERT || e.RETRAIN_TEMPORAL_API_KEY || e.RETRAIN_TEMPORAL_TLS_CA);
    const endpoint = e.RETRAIN_S3_ENDPOINT ?? e.AWS_ENDPOINT_URL_S3 ?? e.AWS_ENDPOINT_URL;
    const store = e.RETRAIN_STORE;
    const temporalTls: TemporalTlsConfig | false = tlsWanted
      ? dropUndefined({
          certPath: fromProject(e.RETRAIN_TEMPORAL_TLS_CERT),
          keyPath: fromProject(e.RETRAIN_TEMPORAL_TLS_KEY),
          caPath: fromProject(e.RETRAIN_TEMPORAL_TLS_CA),
          serverName: e.RETRAIN_TEMPORAL_TLS_SERVER_NAME,
        })
      : false;
    const defaultStoreDir = join(projectDir, '.retrain', 'store');
    const storeConfig: StoreConfig =
      typeof store === 'object'
        ? { kind: 's3', bucket: store.bucket, prefix: store.key }
        : { kind: 'local', dir: resolve(projectDir, store ?? defaultStoreDir) };
    const storeProblem = storeConfig.kind === 'local' ? localStoreProblem(storeConfig.dir, defaultStoreDir, host) : undefined;
    if (storeProblem) ctx.addIssue({ code: 'custom', path: ['RETRAIN_STORE'], message: storeProblem });
    const s3: S3Config = dropUndefined({
      endpoint,
      region: e.RETRAIN_S3_REGION ?? e.AWS_REGION ?? e.AWS_DEFAULT_REGION ?? 'us-east-1',
      // Self-hosted servers rarely have wildcard DNS for virtual-host buckets; AWS prefers them.
      forcePathStyle: e.RETRAIN_S3_FORCE_PATH_STYLE ?? endpoint !== undefined,
    });
    return {
      /** Project with pipelines/; relative data paths resolve against it. */
      projectDir,
      temporalAddress: e.RETRAIN_TEMPORAL_ADDRESS,
      namespace: e.RETRAIN_NAMESPACE,
      /** TLS settings, or false for plaintext (the local dev server). */
      temporalTls,
      temporalApiKey: e.RETRAIN_TEMPORAL_API_KEY as string | undefined,
      store: storeConfig,
      s3,
      /** Python for `$PYTHON` in commands: RETRAIN_PYTHON, else the project venv, else python3. */
      python: e.RETRAIN_PYTHON ?? [venvPython, homeVenvPython].find((p) => host.exists(p)) ?? 'python3',
      taskQueue: e.RETRAIN_TASK_QUEUE,
      trainingTaskQueue: e.RETRAIN_TRAINING_TASK_QUEUE,
      maxConcurrentTrainings: e.RETRAIN_MAX_CONCURRENT_TRAININGS,
      maxConcurrentPartitions: e.RETRAIN_MAX_CONCURRENT_PARTITIONS,
      /** Read by the command launcher from the environment; here so that a bad value stops the worker at start. */
      pythonForkServer: e.RETRAIN_PYTHON_FORK_SERVER,
      pythonPreload: e.RETRAIN_PYTHON_PRELOAD as string | undefined,
      shutdownGraceSeconds: e.RETRAIN_SHUTDOWN_GRACE_SECONDS,
      metricsAddress: e.RETRAIN_METRICS_ADDRESS as string | undefined,
      alertWebhook: e.RETRAIN_ALERT_WEBHOOK as string | undefined,
      /** Scratch space of subprocesses (one folder per attempt). */
      workDir: resolve(host.cwd, e.RETRAIN_WORK_DIR ?? join(host.tmpdir, 'retrain-work')),
      logLevel: e.RETRAIN_LOG_LEVEL,
      apiAddress: e.RETRAIN_API_ADDRESS,
      apiTokensFile: resolve(projectDir, e.RETRAIN_API_TOKENS_FILE ?? join('.retrain', 'api-tokens.json')),
      apiTokens: e.RETRAIN_API_TOKENS as string | undefined,
      apiUrl: e.RETRAIN_API_URL as string | undefined,
      webhookSecret: e.RETRAIN_WEBHOOK_SECRET as string | undefined,
      sessionSecret: e.RETRAIN_SESSION_SECRET as string | undefined,
      temporalUiUrl: e.RETRAIN_TEMPORAL_UI_URL as string | undefined,
    };
  });
}

/** Retrain's configuration, as every part of it sees it. */
export type RetrainConfig = z.output<ReturnType<typeof configSchema>>;

/**
 * Validates Retrain's environment variables against `host`; a bad value names the variable.
 * An empty variable (FOO= in a compose file or a shell) means "not set", not "set to nothing".
 */
export function parseConfig(env: NodeJS.ProcessEnv, host: ConfigHost): RetrainConfig {
  const set = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = configSchema(host).safeParse(set);
  if (!parsed.success) throw new InvalidInputError(formatIssues('environment', parsed.error.issues), { step: 'config' });
  return dropUndefined(parsed.data);
}

/** Where the store is, for people: a directory or an s3:// URL. */
export function storeLocation(store: StoreConfig): string {
  return store.kind === 'local' ? store.dir : `s3://${store.bucket}${store.prefix ? `/${store.prefix}` : ''}`;
}

/** Where one key of the store is, for people (a file path or an s3:// URL). */
export function storeKeyLocation(store: StoreConfig, key: string): string {
  return store.kind === 'local' ? join(store.dir, key) : `${storeLocation(store)}/${key}`;
}

/**
 * Why a local store directory cannot be used, if it cannot: it is a file, or it does not exist.
 * The default directory may not exist yet (the local store creates it); one that was named must,
 * so that a typo does not quietly start an empty store.
 */
function localStoreProblem(dir: string, defaultDir: string, host: ConfigHost): string | undefined {
  const kind = host.kind(dir);
  if (kind === 'file') return `${dir} is a file, not a directory`;
  if (kind === 'missing' && dir !== defaultDir)
    return `${dir} does not exist (create it, or leave RETRAIN_STORE unset for the default ${defaultDir})`;
  return undefined;
}

/** The nearest directory at or above `start` that holds pipelines/, so commands work from subfolders. */
function findProjectDir(start: string, exists: (path: string) => boolean): string {
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    if (exists(join(dir, 'pipelines'))) return dir;
    if (dirname(dir) === dir) return resolve(start);
  }
}

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
