import type { RetrainConfig } from '../lib/config';
import type { Store } from '../store/store';

/** What every activity needs, injected once when the worker starts (tests pass their own). */
export interface ActivityDeps {
  store: Store;
  config: RetrainConfig;
}
