import { RegistryConflictError } from './errors';

/** One trained model in the registry, with everything needed to say where it came from. */
export interface ModelVersion {
  model: string;
  /** Derived from the inputs of training (see versionIdFor): same inputs, same version. */
  version: string;
  createdAt: string;
  task: 'classification' | 'regression';
  /** Store keys of the model's files, by artefact name (at least `model`). */
  artifacts: Record<string, string>;
  classes: string[] | null;
  trainMetrics: Record<string, number>;
  lineage: {
    datasetSha256: string;
    datasetKey: string;
    trainKey: string;
    holdoutKey: string;
    rows: { train: number; holdout: number };
    features: { name: string; type: string }[];
    label: string;
    params: Record<string, unknown>;
    seed: number;
    trainingCommand: string[];
    trainingCodeVersion: string;
    libraryVersions: Record<string, string>;
    workflowId: string;
    runId: string;
  };
}

/** One promotion or rollback in a champion pointer's history. */
export interface RegistryChange {
  action: 'promote' | 'rollback';
  from: string | null;
  /** null only when a first champion is withdrawn and nothing came before it. */
  to: string | null;
  at: string;
  reason: string;
  /** Who or what made the change: a workflow id, or a person for manual rollbacks. */
  actor: string;
  /** Makes the change idempotent: applying the same event twice changes nothing. */
  eventId: string;
}

/** The champion pointer of a model: updated only by compare-and-swap. */
export interface ChampionPointer {
  model: string;
  champion: string | null;
  previous: string | null;
  updatedAt: string | null;
  history: RegistryChange[];
}

/** The pointer of a model that has never had a champion. */
export function emptyPointer(model: string): ChampionPointer {
  return { model, champion: null, previous: null, updatedAt: null, history: [] };
}

/**
 * The change one event made, found by its event id (undefined when it never applied): after a
 * retry or a race, the last history entry may be someone else's.
 */
export function changeByEventId(pointer: ChampionPointer, eventId: string): RegistryChange | undefined {
  return pointer.history.find((h) => h.eventId === eventId);
}

/** A version id: `v` + the first 12 hex digits of the training inputs' hash. */
export function versionIdFor(fingerprint: string): string {
  return `v${fingerprint.slice(0, 12)}`;
}

/**
 * Promotes `to`, provided the champion is still `expectedChampion` (what the gate compared
 * against). Returns null when the same event was already applied (a retried promotion).
 */
export function applyPromotion(
  pointer: ChampionPointer,
  change: Omit<RegistryChange, 'action' | 'from' | 'to'> & { to: string; expectedChampion: string | null },
): ChampionPointer | null {
  if (pointer.history.some((h) => h.eventId === change.eventId)) return null;
  if (pointer.champion !== change.expectedChampion) {
    throw new RegistryConflictError(
      `champion of ${pointer.model} is ${pointer.champion ?? 'none'}, not ${change.expectedChampion ?? 'none'} as evaluated: another promotion or rollback happened meanwhile; run the pipeline again to evaluate against the new champion`,
      { model: pointer.model, version: change.to ?? undefined, step: 'promote' },
    );
  }
  const { expectedChampion: _expected, ...rest } = change;
  return next(pointer, { ...rest, action: 'promote', from: pointer.champion });
}

/**
 * Rolls back to `to`, or to the previous champion when `to` is omitted. `expectedChampion`
 * (when given) guards against undoing someone else's newer promotion.
 * Returns null when the same event was already applied.
 */
export function applyRollback(
  pointer: ChampionPointer,
  change: Omit<RegistryChange, 'action' | 'from' | 'to'> & { to?: string; expectedChampion?: string | null; allowNoChampion?: boolean },
): ChampionPointer | null {
  if (pointer.history.some((h) => h.eventId === change.eventId)) return null;
  const ctx = { model: pointer.model, step: 'rollback' };
  if (change.expectedChampion !== undefined && pointer.champion !== change.expectedChampion) {
    throw new RegistryConflictError(
      `champion of ${pointer.model} is ${pointer.champion ?? 'none'}, not ${change.expectedChampion ?? 'none'}: it changed meanwhile, so the rollback was not applied`,
      ctx,
    );
  }
  const to = change.to ?? pointer.previous;
  // A broken first champion is withdrawn rather than kept: no champion beats a bad one.
  if (!to && !(change.allowNoChampion && pointer.champion)) {
    throw new RegistryConflictError(`${pointer.model} has no previous champion to roll back to`, ctx);
  }
  if (to === pointer.champion)
    throw new RegistryConflictError(`${to} is already the champion of ${pointer.model}`, { ...ctx, version: to ?? undefined });
  const { expectedChampion: _expected, to: _to, allowNoChampion: _allow, ...rest } = change;
  // Rolling back walks down the champion stack: the new `previous` is whatever came before
  // `to` became champion, so a second rollback does not bring back the version just removed.
  // Only promotions say that: a rollback's `from` is the version it removed, so taking it
  // (after rollback, promote, rollback) would bring a removed version back as `previous`.
  const before = to ? ([...pointer.history].reverse().find((h) => h.action === 'promote' && h.to === to)?.from ?? null) : null;
  return next(pointer, { ...rest, action: 'rollback', from: pointer.champion, to }, before === to ? null : before);
}

function next(pointer: ChampionPointer, change: RegistryChange, previous: string | null = pointer.champion): ChampionPointer {
  return {
    model: pointer.model,
    champion: change.to,
    previous,
    updatedAt: change.at,
    history: [...pointer.history, change],
  };
}

/**
 * Which version served at `at` (ISO-8601): the last promotion or rollback at or before it, with
 * that change (who, why); null before the first promotion. The pointer's history is the record.
 */
export function championAt(pointer: ChampionPointer, at: string): { version: string | null; change: RegistryChange } | null {
  const t = Date.parse(at);
  let last: RegistryChange | null = null;
  for (const change of pointer.history) {
    const when = Date.parse(change.at);
    if (when <= t && (!last || when >= Date.parse(last.at))) last = change;
  }
  return last && { version: last.to, change: last };
}
