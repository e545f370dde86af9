import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decideAlert, MAX_KEPT_OUTCOMES, rememberOutcome, type CheckOutcome } from '../lib/drift/alert-policy';
import { keys } from '../lib/keys';
import { recordCheckOutcome } from '../services/drift-alert-state';
import { LocalStore } from '../store/local-store';

const HOUR = 3_600_000;
const t = (h: number) => new Date(Date.UTC(2026, 10, 30) + h * HOUR).toISOString();
const outcome = (h: number, drifted: boolean, extra: Partial<CheckOutcome> = {}): CheckOutcome => ({
  checkId: `c${h}`,
  to: t(h),
  drifted,
  enoughData: true,
  alerted: false,
  ...extra,
});
const policy = (alertAfter: number, cooldownHours = 0) => ({ alertAfter, cooldownMs: cooldownHours * HOUR });

describe('decideAlert', () => {
  it('alerts on the first drifted check by default, as before the policy existed', () => {
    expect(decideAlert([], outcome(0, true), policy(1))).toEqual({
      alert: true,
      streak: 1,
      coveredChecks: 1,
      reason: 'drift in this check',
    });
    expect(decideAlert([], outcome(0, false), policy(1))).toMatchObject({ alert: false, reason: 'no drift' });
    expect(decideAlert([], outcome(0, true, { enoughData: false }), policy(1))).toMatchObject({ alert: false });
  });

  it('needs alertAfter consecutive drifted checks; a check without drift breaks the run, one without data does not', () => {
    const history = [outcome(0, true), outcome(1, false), outcome(2, true), outcome(3, true, { enoughData: false })];
    expect(decideAlert(history, outcome(4, true), policy(3))).toMatchObject({
      alert: false,
      streak: 2,
      reason: 'drift in 2 consecutive checks; an alert needs 3 (drift.alertAfter)',
    });
    expect(decideAlert([...history, outcome(4, true)], outcome(5, true), policy(3))).toMatchObject({
      alert: true,
      streak: 3,
      coveredChecks: 3,
      reason: 'drift held for 3 consecutive checks',
    });
  });

  it('holds a second alert within the cooldown and counts the drifted checks since the last one', () => {
    const history = [outcome(0, true, { alerted: true }), outcome(1, true), outcome(2, true)];
    const held = decideAlert(history, outcome(3, true), policy(1, 4));
    expect(held).toMatchObject({ alert: false, streak: 4, coveredChecks: 3 });
    expect(held.reason).toBe(
      `drift continues (3 drifted checks since the alert of check c0); no new alert before ${t(4)} (drift.cooldown)`,
    );
    expect(decideAlert([...history, outcome(3, true)], outcome(4, true), policy(1, 4))).toMatchObject({
      alert: true,
      streak: 5,
      coveredChecks: 4,
      reason: 'drift held for 5 consecutive checks, 4 of them since the last alert',
    });
  });

  it('keeps the cooldown across a short break in drift: a flapping feature does not alert every other check', () => {
    const history = [outcome(0, true, { alerted: true }), outcome(1, false)];
    expect(decideAlert(history, outcome(2, true), policy(1, 24))).toMatchObject({ alert: false, streak: 1, coveredChecks: 1 });
  });

  it('judges a backfilled check on the checks before its window end only', () => {
    const history = [outcome(5, true, { alerted: true }), outcome(6, true)];
    expect(decideAlert(history, outcome(1, true), policy(1, 24))).toMatchObject({ alert: true, streak: 1 });
  });

  it('keeps outcomes ordered by window end, replaces a check recorded again, and keeps the newest only', () => {
    let kept: CheckOutcome[] = [];
    for (let h = MAX_KEPT_OUTCOMES + 10; h > 0; h--) kept = rememberOutcome(kept, outcome(h, h % 2 === 0));
    expect(kept).toHaveLength(MAX_KEPT_OUTCOMES);
    expect(kept[0]!.checkId).toBe('c11');
    expect(kept.at(-1)!.checkId).toBe(`c${MAX_KEPT_OUTCOMES + 10}`);
    expect(rememberOutcome(kept, outcome(11, true, { alerted: true })).filter((o) => o.checkId === 'c11')).toEqual([
      outcome(11, true, { alerted: true }),
    ]);
  });
});

describe('recordCheckOutcome', () => {
  const store = () => new LocalStore(mkdtempSync(join(tmpdir(), 'retrain-alert-state-')));
  const bare = ({ alerted: _, ...o }: CheckOutcome) => o;

  it('gives a retried check the decision it got the first time, so an alert is decided once', async () => {
    const s = store();
    expect((await recordCheckOutcome(s, 'm', bare(outcome(0, true)), policy(1, 24))).alert).toBe(true);
    expect((await recordCheckOutcome(s, 'm', bare(outcome(1, true)), policy(1, 24))).alert).toBe(false);
    // The first check again (an activity retry): still the alert it was, not held by its own cooldown.
    expect((await recordCheckOutcome(s, 'm', bare(outcome(0, true)), policy(1, 24))).alert).toBe(true);
    const state = JSON.parse((await s.get(keys.driftAlertState('m')))!.toString());
    expect(state.outcomes.map((o: CheckOutcome) => [o.checkId, o.alerted])).toEqual([
      ['c0', true],
      ['c1', false],
    ]);
  });

  it('records concurrent checks of one model without losing either', async () => {
    const s = store();
    await Promise.all(Array.from({ length: 6 }, (_, h) => recordCheckOutcome(s, 'm', bare(outcome(h, false)), policy(1))));
    const state = JSON.parse((await s.get(keys.driftAlertState('m')))!.toString());
    expect(state.outcomes).toHaveLength(6);
  });

  it('refuses a damaged history with a message that says what to do', async () => {
    const s = store();
    await s.put(keys.driftAlertState('m'), '{"kind":"retrain.drift-alert-state/v1","outcomes":[{"checkId":""}]}');
    await expect(recordCheckOutcome(s, 'm', bare(outcome(0, true)), policy(1))).rejects.toThrow(
      /drift-alerts\/m\/checks\.json is not a drift alert history \(outcomes\.0\.checkId: .*\): remove it to start afresh/,
    );
    await s.put(keys.driftAlertState('m'), 'not json');
    await expect(recordCheckOutcome(s, 'm', bare(outcome(0, true)), policy(1))).rejects.toThrow(/is not JSON/);
  });
});
