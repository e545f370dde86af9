import type { RetrainConfig } from '../lib/config';
import { LocalStore } from './local-store';
import type { Store } from './store';

/** The store the configuration names (a local directory for now). */
export function createStore(config: RetrainConfig): Store {
  return new LocalStore(config.storeDir);
}

export type { Store };
