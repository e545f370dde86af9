import { storeLocation, type RetrainConfig } from '../lib/config';
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

export { storeLocation };
export type { Store };
