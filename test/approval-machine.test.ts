import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ApprovalMachine, initialApprovalState, type ApprovalPolicy } from '../workflows/approval';
import { checkApprovalDecision, type ApprovalDecision } from '../shared/messages';

const MANUAL: ApprovalPolicy = { mode: 'manual', approvers: ['alice', 'bob'], timeout: '1h', onTimeout: 'reject' };
const NOW = new Date('2024-01-01T10:00:00.000Z');
const LATER = new Date('2024-01-01T11:00:00.000Z');

/** A machine for candidate `v1` whose warnings are kept for inspection. */
function machine(policy: ApprovalPolicy = MANUAL, candidate: string | null = 'v1') {
  const warnings: { message: string; meta?: Record<string, unknown> }[] = [];
  const approvals = new ApprovalMachine(policy, initialApprovalState(policy), {
    model: 'churn',
    candidate: () => candidate,
    log: { warn: (message, meta) => warnings.push({ message, meta }) },
  });
  return { approvals, state: approvals.state, warnings };
}

/** A machine already waiting for a decision. */
function waiting(policy: ApprovalPolicy = MANUAL) {
  const m = machine(policy);
  m.approvals.open();
  return m;
}

function refusalOf(fn: () => void): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected the validator to throw');
}

describe('initialApprovalState', () => {
  it('lists the approvers of a manual pipeline and has nothing decided', () => {
    expect(initialApprovalState(MANUAL)).toEqual({
      required: true,
      approvers: ['alice', 'bob'],
      decision: null,
      by: null,
      reason: null,
      at: null,
      ignored: [],
    });
  });

  it('needs no approver for an automatic pipeline', () => {
    expect(initialApprovalState({ mode: 'auto' })).toMatchObject({ required: false, approvers: [], decision: null });
  });
});

describe('ApprovalMachine decisions (signal handler body)', () => {
  it('counts an approval from a listed approver while waiting', () => {
    const { approvals, state, warnings } = waiting();
    expect(approvals.waiting).toBe(true);
    approvals.decide('approve', { by: 'alice', reason: 'looks good' }, NOW);
    expect(state).toMatchObject({ decision: 'approved', by: 'alice', reason: 'looks good', at: NOW.toISOString(), ignored: [] });
    expect(approvals.waiting).toBe(false);
    expect(approvals.approved).toBe(true);
    expect(approvals.summary()).toBe('approved by alice: looks good');
    expect(warnings).toEqual([]);
  });

  it('counts a rejection, with an empty reason when none is given', () => {
    const { approvals, state } = waiting();
    approvals.decide('reject', { by: 'bob' }, NOW);
    expect(state).toMatchObject({ decision: 'rejected', by: 'bob', reason: '' });
    expect(approvals.approved).toBe(false);
    expect(approvals.summary()).toBe('rejected by bob');
  });

  it('ignores an unlisted approver, records why and logs it', () => {
    const { approvals, state, warnings } = waiting();
    approvals.decide('approve', { by: 'mallory', reason: 'trust me' }, NOW);
    expect(state.decision).toBe('pending');
    expect(state.ignored).toEqual([
      { by: 'mallory', action: 'approve', why: 'mallory is not a listed approver (alice, bob)', at: NOW.toISOString() },
    ]);
    expect(warnings).toEqual([
      {
        message: 'ignored approve from mallory: mallory is not a listed approver (alice, bob)',
        meta: { model: 'churn', version: 'v1', step: 'approval' },
      },
    ]);
  });

  it('ignores a decision sent before the run waits for one', () => {
    const { approvals, state } = machine();
    approvals.decide('approve', { by: 'alice', reason: 'pre-approved' }, NOW);
    expect(state.decision).toBeNull();
    expect(state.ignored).toEqual([expect.objectContaining({ by: 'alice', why: 'the run is not waiting for approval yet' })]);
    // It does not count later either: the wait starts clean.
    approvals.open();
    expect(approvals.waiting).toBe(true);
  });

  it('ignores a second decision once one counted', () => {
    const { approvals, state } = waiting();
    approvals.decide('approve', { by: 'alice' }, NOW);
    approvals.decide('reject', { by: 'bob', reason: 'too late' }, LATER);
    expect(state).toMatchObject({ decision: 'approved', by: 'alice', at: NOW.toISOString() });
    expect(state.ignored).toEqual([{ by: 'bob', action: 'reject', why: 'already approved', at: LATER.toISOString() }]);
  });

  it('ignores a decision for another version than the candidate', () => {
    const { approvals, state } = waiting();
    approvals.decide('approve', { by: 'alice', version: 'v0' }, NOW);
    expect(state.decision).toBe('pending');
    expect(state.ignored).toEqual([expect.objectContaining({ why: 'decision is for v0, but the candidate is v1' })]);
    approvals.decide('approve', { by: 'alice', version: 'v1' }, NOW);
    expect(state.decision).toBe('approved');
  });

  it('records an invalid payload as ignored, naming whoever it claims to be from', () => {
    const { approvals, state } = waiting();
    approvals.decide('approve', { by: '' }, NOW);
    approvals.decide('reject', { by: 'alice', extra: 1 } as unknown as ApprovalDecision, NOW);
    approvals.decide('approve', null as unknown as ApprovalDecision, NOW);
    expect(state.decision).toBe('pending');
    expect(state.ignored.map((i) => [i.by, i.action])).toEqual([
      ['', 'approve'],
      ['alice', 'reject'],
      ['?', 'approve'],
    ]);
    for (const entry of state.ignored) expect(entry.why).toMatch(/^invalid payload: /);
    expect(state.ignored[0].why).toContain('say who decides (--by)');
  });

  it('refuses every decision for an automatic pipeline', () => {
    const { approvals, state } = machine({ mode: 'auto' });
    expect(approvals.required).toBe(false);
    approvals.decide('approve', { by: 'alice' }, NOW);
    expect(state.decision).toBeNull();
    expect(state.ignored).toEqual([expect.objectContaining({ by: 'alice', why: 'this pipeline does not need approval' })]);
    expect(refusalOf(() => approvals.validate({ by: 'alice' }))).toBe('this pipeline does not need approval');
    expect(() => approvals.timeOut(NOW)).toThrow('this pipeline does not need approval');
  });
});

describe('ApprovalMachine validate (update validator)', () => {
  it('accepts a decision that would count, and changes nothing', () => {
    const { approvals, state } = waiting();
    const before = structuredClone(state);
    expect(() => approvals.validate({ by: 'alice', version: 'v1' })).not.toThrow();
    expect(state).toEqual(before);
  });

  it('throws with the reason a decision would not count, and records nothing', () => {
    const { approvals, state, warnings } = waiting();
    expect(refusalOf(() => approvals.validate({ by: 'mallory' }))).toBe('mallory is not a listed approver (alice, bob)');
    expect(refusalOf(() => approvals.validate({ by: 'alice', version: 'v0' }))).toBe('decision is for v0, but the candidate is v1');
    expect(refusalOf(() => approvals.validate({ by: '' }))).toBe('invalid decision: say who decides (--by)');
    expect(state).toMatchObject({ decision: 'pending', ignored: [] });
    expect(warnings).toEqual([]);
  });

  it('refuses before the wait and after a decision', () => {
    const { approvals } = machine();
    expect(refusalOf(() => approvals.validate({ by: 'alice' }))).toBe('the run is not waiting for approval yet');
    approvals.open();
    approvals.decide('reject', { by: 'alice' }, NOW);
    expect(refusalOf(() => approvals.validate({ by: 'bob' }))).toBe('already rejected');
  });
});

describe('ApprovalMachine timeOut', () => {
  it('times the candidate out when the policy is reject', () => {
    const { approvals, state } = waiting({ ...MANUAL, timeout: '2s', onTimeout: 'reject' });
    approvals.timeOut(LATER);
    expect(state).toMatchObject({
      decision: 'timed-out',
      by: 'timeout',
      reason: 'no decision within 2s; policy: reject',
      at: LATER.toISOString(),
    });
    expect(approvals.approved).toBe(false);
    expect(approvals.summary()).toBe('timed-out by timeout: no decision within 2s; policy: reject');
  });

  it('approves the candidate when the policy is approve', () => {
    const { approvals, state } = waiting({ ...MANUAL, timeout: '2s', onTimeout: 'approve' });
    approvals.timeOut(LATER);
    expect(state).toMatchObject({ decision: 'approved', by: 'timeout', reason: 'no decision within 2s; policy: approve' });
    expect(approvals.approved).toBe(true);
  });

  it('leaves no room for a late decision', () => {
    const { approvals, state } = waiting();
    approvals.timeOut(LATER);
    approvals.decide('approve', { by: 'alice' }, LATER);
    expect(state.decision).toBe('timed-out');
    expect(state.ignored).toEqual([expect.objectContaining({ why: 'already timed-out' })]);
  });
});

describe('checkApprovalDecision', () => {
  // The zod schema decisions were checked with before the workflow bundle dropped zod: a run in
  // flight replays its signals, so a decision it counted must still count, and one it ignored
  // must still be ignored.
  const formerSchema = z
    .object({ by: z.string().min(1, 'say who decides (--by)'), reason: z.string().default(''), version: z.string().min(1).optional() })
    .strict();
  const payloads: unknown[] = [
    { by: 'alice' },
    { by: 'alice', reason: 'ok' },
    { by: 'alice', reason: '', version: 'v1' },
    { by: 'alice', reason: undefined, version: undefined },
    { by: '' },
    { by: ' ' },
    { by: 3 },
    { by: null },
    {},
    { reason: 'no one' },
    { by: 'alice', reason: null },
    { by: 'alice', reason: 7 },
    { by: 'alice', version: '' },
    { by: 'alice', version: null },
    { by: 'alice', version: 2 },
    { by: 'alice', extra: 1 },
    { by: 'alice', by2: 'bob', reason: 'x' },
    null,
    undefined,
    'alice',
    ['alice'],
    42,
  ];

  it('accepts and refuses exactly what the former schema did, with the same decision', () => {
    for (const payload of payloads) {
      const former = formerSchema.safeParse(payload);
      const checked = checkApprovalDecision(payload);
      expect(checked.ok, JSON.stringify(payload)).toBe(former.success);
      if (checked.ok && former.success) expect(checked.decision).toEqual(former.data);
    }
  });

  it('names each problem', () => {
    expect(checkApprovalDecision({ by: '' })).toEqual({ ok: false, problems: ['say who decides (--by)'] });
    expect(checkApprovalDecision({ by: 'alice', extra: 1, version: '' })).toEqual({
      ok: false,
      problems: ['version: expected a version id', 'unknown field "extra"'],
    });
    expect(checkApprovalDecision(null)).toEqual({ ok: false, problems: ['expected { by, reason?, version? }'] });
  });
});
