import { storeLocation, type RetrainConfig } from '../lib/config';
import { RetrainError } from '../lib/errors';
import { LocalStore } from './local-store';
import { createS3Client } from './s3-client';
import { S3Store } from './s3-store';
import type { Store } from './store';

/** The store RETRAIN_STORE names: a local directory (the default) or an s3:// bucket and prefix. */
export function createStore(config: Pick<RetrainConfig, 'store' | 's3'>): Store {
  const { store } = config;
  if (store.kind === 'local') return new LocalStore(store.dir);
  return new S3Store({ client: createS3Client(config.s3), bucket: store.bucket, prefix: store.prefix });
}

/**
 * Checks at start that the store can be used, so a worker with a wrong bucket or credentials
 * stops with the reason instead of failing every activity later. A configuration error
 * (StoreMisconfigured) is thrown; anything else (an endpoint not up yet) is returned as a
 * warning: the activities retry it.
 */
export async function checkStore(store: Store): Promise<string | null> {
  try {
    await store.list('registry/');
    return null;
  } catch (err) {
    if (err instanceof RetrainError && !err.retryable) throw err;
    return `the store ${store.location} is not reachable yet (${(err as Error).message}); steps that need it will retry`;
  }
}

export { storeLocation };
export type { Store };
