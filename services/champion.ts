import { applyPromotion, applyRollback, type ChampionPointer } from '../lib/registry';
import type { Store } from '../store/store';
import { readVersion, updatePointer } from './registry';

/** Who changes the champion, why, and the id that makes the change idempotent. */
export interface ChampionChange {
  model: string;
  reason: string;
  /** A workflow id, or a person for manual rollbacks. */
  actor: string;
  /** Applying the same event twice changes nothing. */
  eventId: string;
}

/**
 * Makes `version` the champion if the champion is still `expectedChampion` (compare-and-swap;
 * a concurrent promotion fails with `RegistryConflict`). `applied: false` when this event had
 * already been applied (a retry).
 */
export async function promote(
  store: Store,
  change: ChampionChange & { version: string; expectedChampion: string | null },
): Promise<{ pointer: ChampionPointer; applied: boolean }> {
  return updatePointer(store, change.model, (p) =>
    applyPromotion(p, {
      to: change.version,
      expectedChampion: change.expectedChampion,
      at: new Date().toISOString(),
      reason: change.reason,
      actor: change.actor,
      eventId: change.eventId,
    }),
  );
}

/**
 * Rolls the champion back to `to` (default: the previous champion). An unknown `to` fails with
 * `NotFound` before anything changes.
 */
export async function rollback(
  store: Store,
  change: ChampionChange & {
    to?: string;
    expectedChampion?: string | null;
    /** Withdraw a first champion when there is nothing to roll back to (automatic rollback). */
    allowNoChampion?: boolean;
  },
): Promise<{ pointer: ChampionPointer; applied: boolean }> {
  if (change.to) await readVersion(store, change.model, change.to);
  return updatePointer(store, change.model, (p) =>
    applyRollback(p, {
      to: change.to,
      expectedChampion: change.expectedChampion,
      allowNoChampion: change.allowNoChampion,
      at: new Date().toISOString(),
      reason: change.reason,
      actor: change.actor,
      eventId: change.eventId,
    }),
  );
}
