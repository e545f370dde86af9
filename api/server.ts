import type { FastifyInstance } from 'fastify';
import type { RetrainConfig } from '../lib/config';
import type { TokensFile } from '../lib/api-tokens';
import { keys } from '../lib/keys';
import { labelKey } from '../lib/label-log';
import { IdempotentLog } from '../services/idempotent-log';
import { createStore } from '../store/index';
import type { Store } from '../store/store';
import { buildApi, type ApiExtension } from './app';
import { DEFAULT_LIMITS, type ApiLimits } from './context';
import { ModelCatalog } from './model-catalog';
import { TemporalLink } from './temporal';

/** A running API: its app, the URL it listens on, and how to stop it. */
export interface RunningApi {
  app: FastifyInstance;
  url: string;
  /** The host it listens on, as configured (127.0.0.1 unless told otherwise). */
  host: string;
  models: ModelCatalog;
  /** Stops taking requests, answers the ones in flight, closes the Temporal connection. */
  close(): Promise<void>;
}

/** Builds the API on `config` and listens on `address` (host:port; port 0 picks a free one). */
export async function startApi(
  config: RetrainConfig,
  opts: {
    tokens: TokensFile;
    address?: string;
    store?: Store;
    limits?: Partial<ApiLimits>;
    logLevel?: string;
    /** Served beside the API (the console, by `retrain serve`). */
    extensions?: readonly ApiExtension[];
  },
): Promise<RunningApi> {
  const store = opts.store ?? createStore(config);
  const models = new ModelCatalog(config.projectDir);
  const temporal = new TemporalLink(config);
  const predictionLog = new IdempotentLog({
    store,
    layout: { partition: keys.predictionPartition, batch: keys.predictionBatch, idOf: (line) => field(line, (l) => l.id) },
  });
  const labelLog = new IdempotentLog({
    store,
    layout: {
      partition: keys.labelPartition,
      batch: keys.labelBatch,
      idOf: (line) =>
        field(line, (l) => (typeof l.id === 'string' && typeof l.knownAt === 'string' ? labelKey({ id: l.id, knownAt: l.knownAt }) : null)),
    },
  });
  const app = await buildApi(
    { config, store, tokens: opts.tokens, models, temporal, predictionLog, labelLog, limits: { ...DEFAULT_LIMITS, ...opts.limits } },
    { logLevel: opts.logLevel, extensions: opts.extensions },
  );
  const address = opts.address ?? config.apiAddress;
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i);
  await app.listen({ host, port: Number(address.slice(i + 1)) });
  const bound = app.server.address();
  const port = typeof bound === 'object' && bound ? bound.port : Number(address.slice(i + 1));
  return {
    app,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    host,
    models,
    async close() {
      await app.close();
      predictionLog.close();
      labelLog.close();
      await temporal.close();
    },
  };
}

/** A field of a stored JSON line, or null when the line is not JSON or lacks it. */
function field(line: string, pick: (value: Record<string, unknown>) => unknown): string | null {
  try {
    const v = pick(JSON.parse(line) as Record<string, unknown>);
    return typeof v === 'string' ? v : null;
  } catch {
    return null;
  }
}
