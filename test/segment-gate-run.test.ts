import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRetrain } from '../client/client';
import type { GateDecision } from '../lib/gate';
import type { PipelineInput } from '../lib/pipeline';
import { listAudit } from '../services/audit-log';
import { startHarness, testPipeline, TRIVIAL_PREDICT, TRIVIAL_TRAINER, type Harness } from './helpers/harness';

// Real runs through the gate per segment and on predict latency: the trivial model answers "no"
// for everyone, or "yes" for one plan (segment_answer), or sleeps before predicting.
let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

type Params = NonNullable<NonNullable<PipelineInput['training']>['params']>;

function pipeline(name: string, params: Params = {}) {
  return testPipeline({
    name,
    training: { command: TRIVIAL_TRAINER, predictCommand: TRIVIAL_PREDICT, params },
    metrics: { primary: 'accuracy' },
    // The average may fall a lot: what is tested is the gate per segment.
    gates: [{ metric: 'accuracy', maxRegression: 0.5 }],
    segments: ['plan', 'region'],
    segmentGate: { maxRegression: 0.02, minRows: 30 },
    budgets: { maxLatencyRatio: 3 },
  });
}

async function run(name: string, params: Params = {}) {
  return (await startRetrain(h.client, h.config, pipeline(name, params))).handle.result();
}

describe('promotion gated per segment and on predict latency', () => {
  it('rejects a challenger worse in one plan, with the per-segment table in the gate decision and the audit log', async () => {
    const name = 'segment-gate';
    expect((await run(name)).outcome).toBe('promoted');
    // "yes" for every enterprise customer: 17% of them churn, so accuracy there falls from 0.83 to 0.17.
    const rejected = await run(name, { segment_answer: { column: 'plan', value: 'enterprise', prediction: 'yes' } });

    expect(rejected.outcome).toBe('rejected-by-gate');
    expect(rejected.message).toMatch(
      /accuracy in plan=enterprise \(\d+ rows\) 0\.1\d+ vs 0\.8\d+: worse by 0\.\d+, exceeds allowed regression 0\.0200/,
    );
    const table: NonNullable<GateDecision['segments']> = rejected.gate!.segments!;
    expect(
      table.rows
        .filter((r) => r.column === 'plan')
        .map((r) => r.value)
        .sort(),
    ).toEqual(['basic', 'enterprise', 'pro']);
    expect(table.rows.find((r) => r.value === 'enterprise')).toMatchObject({ gated: true, passed: false });
    expect(table.rows.find((r) => r.value === 'basic')).toMatchObject({ gated: true, passed: true });
    expect(table.rows.some((r) => r.column === 'region')).toBe(true);
    const gate = (await listAudit(h.store, name)).filter((e) => e.type === 'gate').at(-1)!;
    expect((gate.details.segments as { rows: unknown[] }).rows.length).toBe(table.rows.length);
  });

  it('rejects a challenger that predicts more than maxLatencyRatio times slower than the champion', async () => {
    const name = 'latency-gate';
    expect((await run(name)).outcome).toBe('promoted');
    const slow = await run(name, { predict_sleep_seconds: 1.5 });
    expect(slow.outcome).toBe('rejected-by-gate');
    const check = (slow.gate as GateDecision).checks.find((c) => c.rule === 'latencyRatio')!;
    expect(check.passed).toBe(false);
    expect(check.challenger! / check.champion!).toBeGreaterThan(3);
    expect(slow.message).toMatch(/predict latency [\d.]+ ms\/row vs [\d.]+ \(v\w+\): [\d.]+×, exceeds allowed 3×/);
  });
});
