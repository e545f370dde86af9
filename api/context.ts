import type { RetrainConfig } from '../lib/config';
import type { TokensFile } from '../lib/api-tokens';
import type { IdempotentLog } from '../services/idempotent-log';
import type { Store } from '../store/store';
import type { ModelCatalog } from './model-catalog';
import type { TemporalLink } from './temporal';

/** What every route reads: configuration, the store, the logs it appends to, the models and Temporal. */
export interface ApiContext {
  config: RetrainConfig;
  store: Store;
  tokens: TokensFile;
  models: ModelCatalog;
  temporal: TemporalLink;
  predictionLog: IdempotentLog;
  labelLog: IdempotentLog;
  limits: ApiLimits;
}

/** Sizes a request may have. */
export interface ApiLimits {
  /** Bytes of one request body. */
  bodyBytes: number;
  /** Entries in one POST of predictions or labels. */
  entries: number;
}

export const DEFAULT_LIMITS: ApiLimits = { bodyBytes: 8 * 1024 * 1024, entries: 5_000 };
