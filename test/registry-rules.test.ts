import { describe, it, expect } from 'vitest';
import { RegistryConflictError } from '../lib/errors';
import { applyPromotion, applyRollback, changeByEventId, emptyPointer, versionIdFor, type ChampionPointer } from '../lib/registry';

let clock = 0;
const at = () => new Date(Date.UTC(2024, 0, 1, 0, 0, clock++)).toISOString();

function promote(
  pointer: ChampionPointer,
  to: string,
  expectedChampion: string | null = pointer.champion,
  eventId = `promote-${to}-${clock}`,
): ChampionPointer {
  const next = applyPromotion(pointer, { to, expectedChampion, eventId, at: at(), reason: 'gate passed', actor: 'wf-1' });
  if (!next) throw new Error('promotion unexpectedly skipped');
  return next;
}

function rollback(
  pointer: ChampionPointer,
  opts: { to?: string; expectedChampion?: string | null; allowNoChampion?: boolean; eventId?: string } = {},
): ChampionPointer {
  const next = applyRollback(pointer, {
    eventId: opts.eventId ?? `rollback-${clock}`,
    at: at(),
    reason: 'bad model',
    actor: 'alice',
    ...opts,
  });
  if (!next) throw new Error('rollback unexpectedly skipped');
  return next;
}

/** A → B → C promoted in order. */
const abc = () => promote(promote(promote(emptyPointer('churn'), 'vA'), 'vB'), 'vC');

function conflict(fn: () => unknown): RegistryConflictError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(RegistryConflictError);
    return err as RegistryConflictError;
  }
  throw new Error('expected a RegistryConflictError');
}

describe('applyPromotion', () => {
  it('makes the first champion of an empty pointer', () => {
    const p = promote(emptyPointer('churn'), 'vA', null, 'e1');
    expect(p.champion).toBe('vA');
    expect(p.previous).toBeNull();
    expect(p.updatedAt).toBe(p.history[0].at);
    expect(p.history).toEqual([
      { action: 'promote', from: null, to: 'vA', eventId: 'e1', at: p.updatedAt, reason: 'gate passed', actor: 'wf-1' },
    ]);
  });

  it('keeps the replaced champion as previous', () => {
    const p = promote(promote(emptyPointer('churn'), 'vA'), 'vB');
    expect(p).toMatchObject({ champion: 'vB', previous: 'vA' });
    expect(p.history.map((h) => [h.from, h.to])).toEqual([
      [null, 'vA'],
      ['vA', 'vB'],
    ]);
  });

  it('does not change the pointer it was given', () => {
    const before = promote(emptyPointer('churn'), 'vA');
    const snapshot = structuredClone(before);
    promote(before, 'vB');
    expect(before).toEqual(snapshot);
  });

  it('refuses with RegistryConflictError when the champion is not the one evaluated against (CAS)', () => {
    const p = promote(emptyPointer('churn'), 'vA');
    const err = conflict(() =>
      applyPromotion(p, { to: 'vB', expectedChampion: null, eventId: 'e2', at: at(), reason: 'r', actor: 'wf-2' }),
    );
    expect(err.type).toBe('RegistryConflict');
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('champion of churn is vA, not none as evaluated');
    expect(err.context).toMatchObject({ model: 'churn', version: 'vB', step: 'promote' });
    expect(
      conflict(() => applyPromotion(p, { to: 'vB', expectedChampion: 'vZ', eventId: 'e3', at: at(), reason: 'r', actor: 'wf-2' })).message,
    ).toContain('not vZ');
  });

  it('returns null for an event already applied, even though the champion has moved on', () => {
    const p = promote(emptyPointer('churn'), 'vA', null, 'event-1');
    // A retried activity repeats the same request: the expected champion no longer matches,
    // but the event id says it is already done, so it is not a conflict.
    expect(applyPromotion(p, { to: 'vA', expectedChampion: null, eventId: 'event-1', at: at(), reason: 'r', actor: 'wf-1' })).toBeNull();
  });
});

describe('applyRollback', () => {
  it('rolls back to the previous champion by default', () => {
    const p = rollback(abc(), { eventId: 'rb-1' });
    expect(p).toMatchObject({ champion: 'vB', previous: 'vA' });
    expect(p.history.at(-1)).toMatchObject({
      action: 'rollback',
      from: 'vC',
      to: 'vB',
      eventId: 'rb-1',
      actor: 'alice',
      reason: 'bad model',
    });
  });

  it('rolls back to a named version, with previous set to what came before it', () => {
    const p = rollback(abc(), { to: 'vA' });
    expect(p).toMatchObject({ champion: 'vA', previous: null });
    const q = rollback(promote(abc(), 'vD'), { to: 'vB' });
    expect(q).toMatchObject({ champion: 'vB', previous: 'vA' });
  });

  it('refuses when expectedChampion does not match', () => {
    const err = conflict(() => rollback(abc(), { expectedChampion: 'vB' }));
    expect(err.message).toContain('champion of churn is vC, not vB');
    expect(err.context).toMatchObject({ model: 'churn', step: 'rollback' });
    expect(rollback(abc(), { expectedChampion: 'vC' }).champion).toBe('vB');
  });

  it('refuses when there is no previous champion', () => {
    const first = promote(emptyPointer('churn'), 'vA');
    expect(conflict(() => rollback(first)).message).toBe('churn has no previous champion to roll back to');
    expect(conflict(() => rollback(emptyPointer('churn'))).message).toContain('no previous champion');
    expect(conflict(() => rollback(emptyPointer('churn'), { allowNoChampion: true })).message).toContain('no previous champion');
  });

  it('refuses to roll back to the current champion', () => {
    expect(conflict(() => rollback(abc(), { to: 'vC' })).message).toBe('vC is already the champion of churn');
  });

  it('withdraws a first champion when allowNoChampion is set', () => {
    const p = rollback(promote(emptyPointer('churn'), 'vA'), { allowNoChampion: true, eventId: 'withdraw' });
    expect(p).toMatchObject({ champion: null, previous: null });
    expect(p.history.at(-1)).toMatchObject({ action: 'rollback', from: 'vA', to: null, eventId: 'withdraw' });
    // The withdrawn version can be promoted again, against no champion.
    expect(promote(p, 'vA2', null).champion).toBe('vA2');
  });

  it('returns null for an event already applied', () => {
    const p = rollback(abc(), { eventId: 'rb-1' });
    expect(applyRollback(p, { eventId: 'rb-1', at: at(), reason: 'r', actor: 'alice' })).toBeNull();
  });

  it('walks down the stack on a second rollback instead of bringing back the removed version', () => {
    const once = rollback(abc());
    expect(once).toMatchObject({ champion: 'vB', previous: 'vA' });
    const twice = rollback(once);
    expect(twice).toMatchObject({ champion: 'vA', previous: null });
    expect(conflict(() => rollback(twice)).message).toContain('no previous champion');
  });

  it('does not bring back a removed version after a rollback and a new promotion', () => {
    // A → B → C, C rolled back (B is champion), D promoted, D rolled back: B again, and
    // the version before B is A, not C, which was removed.
    const p = rollback(promote(rollback(abc()), 'vD'));
    expect(p).toMatchObject({ champion: 'vB', previous: 'vA' });
    expect(rollback(p)).toMatchObject({ champion: 'vA', previous: null });
  });

  it('does not bring back a removed version when the first champion is restored twice', () => {
    // A → B, B rolled back (A), C promoted, C rolled back: A again with nothing before it.
    const p = rollback(promote(rollback(promote(promote(emptyPointer('churn'), 'vA'), 'vB')), 'vC'));
    expect(p).toMatchObject({ champion: 'vA', previous: null });
  });
});

describe('versionIdFor', () => {
  it('is "v" and the first 12 hex digits of the fingerprint', () => {
    const fingerprint = 'abcdef0123456789'.repeat(4);
    expect(versionIdFor(fingerprint)).toBe('vabcdef012345');
    expect(versionIdFor(fingerprint)).toMatch(/^v[0-9a-f]{12}$/);
  });

  it('is the same for the same inputs and differs for others', () => {
    expect(versionIdFor('1'.repeat(64))).toBe(versionIdFor('1'.repeat(64)));
    expect(versionIdFor('1'.repeat(64))).not.toBe(versionIdFor('2'.repeat(64)));
  });
});

describe('changeByEventId', () => {
  it("finds this run's own change even when the last entry is another actor's", () => {
    // A manual rollback of vC by alice, then (before her notification goes out) a promotion by another run.
    const rolledBack = rollback(abc(), { eventId: 'rollback-churn/run-1/rollback' });
    const pointer = applyPromotion(rolledBack, {
      to: 'vD',
      expectedChampion: 'vB',
      eventId: 'retrain-churn/run-2/promote',
      at: at(),
      reason: 'gate passed',
      actor: 'retrain-churn',
    });
    if (!pointer) throw new Error('promotion unexpectedly skipped');
    expect(pointer.history.at(-1)).toMatchObject({ actor: 'retrain-churn', from: 'vB', to: 'vD' });

    const change = changeByEventId(pointer, 'rollback-churn/run-1/rollback');
    expect(change).toMatchObject({ action: 'rollback', actor: 'alice', from: 'vC', to: 'vB', eventId: 'rollback-churn/run-1/rollback' });
    expect(change).not.toBe(pointer.history.at(-1));
  });

  it('is undefined for an event that never applied', () => {
    expect(changeByEventId(abc(), 'no-such-event')).toBeUndefined();
    expect(changeByEventId(emptyPointer('churn'), 'no-such-event')).toBeUndefined();
  });
});
