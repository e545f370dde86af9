import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../services/audit-log';
import { listVersions, readPointer } from '../services/registry';
import { startRetrain } from '../client/client';
import { REPO, startHarness, testPipeline, type Harness } from './helpers/harness';
import { join } from 'node:path';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

describe('the promotion gate', () => {
  it('rejects a worse challenger and keeps the champion', async () => {
    const name = 'gate-worse-challenger';
    const good = await (await startRetrain(h.client, h.config, testPipeline({ name }))).handle.result();
    expect(good.outcome).toBe('promoted');

    // A majority-class model cannot rank customers: its roc_auc is 0.5.
    const dummy = testPipeline({ name, training: { params: { algorithm: 'dummy' } } });
    const summary = await (await startRetrain(h.client, h.config, dummy)).handle.result();

    expect(summary.outcome).toBe('rejected-by-gate');
    expect(summary.version).not.toBe(good.version);
    expect(summary.championBefore).toBe(good.version);
    expect(summary.championAfter).toBe(good.version);
    expect(summary.gate.passed).toBe(false);
    expect(summary.gate.championVersion).toBe(good.version);
    expect(summary.gate.reason).toMatch(/roc_auc/);
    expect(summary.message).toMatch(/roc_auc/);
    expect(summary.metrics.challenger.roc_auc).toBeLessThan(summary.metrics.champion.roc_auc);
    const failed = summary.gate.checks.filter((c: { passed: boolean }) => !c.passed);
    expect(failed).toEqual([expect.objectContaining({ metric: 'roc_auc', rule: 'maxRegression', passed: false })]);
    expect(summary.steps.map((s: { step: string }) => s.step)).not.toContain('promote');

    const { pointer } = await readPointer(h.store, name);
    expect(pointer.champion).toBe(good.version);
    expect(pointer.history.map((c) => c.action)).toEqual(['promote']);
    // The rejected challenger is still registered (with its lineage), just not promoted.
    expect((await listVersions(h.store, name)).map((v) => v.version).sort()).toEqual([good.version, summary.version].sort());
    const gates = (await listAudit(h.store, name)).filter((e) => e.type === 'gate');
    expect(gates.map((e) => e.outcome)).toEqual(['ok', 'rejected']);
    expect(gates[1].summary).toMatch(/roc_auc/);
  });

  it('promotes a regression model and reports rmse, mae and r2', async () => {
    const name = 'gate-house-prices';
    const pipeline = testPipeline({
      name,
      task: 'regression',
      source: { path: join(REPO, 'examples/data/house-prices.csv') },
      idColumn: 'listing_id',
      label: 'price',
      positiveClass: undefined,
      features: [
        { name: 'area_sqm', type: 'numeric' },
        { name: 'bedrooms', type: 'numeric' },
        { name: 'age_years', type: 'numeric' },
        { name: 'distance_km', type: 'numeric' },
        { name: 'neighbourhood', type: 'categorical' },
      ],
      metrics: { primary: 'rmse', others: ['mae', 'r2'] },
      approval: { mode: 'auto' },
    });
    const summary = await (await startRetrain(h.client, h.config, pipeline)).handle.result();

    expect(summary.outcome).toBe('promoted');
    expect(summary.gate.passed).toBe(true);
    expect(summary.gate.reason).toMatch(/no champion yet/);
    const { rmse, mae, r2 } = summary.metrics.challenger;
    expect(rmse).toBeGreaterThan(0);
    expect(mae).toBeGreaterThan(0);
    expect(mae).toBeLessThanOrEqual(rmse);
    expect(r2).toBeGreaterThan(0.5);
    expect(r2).toBeLessThanOrEqual(1);
    expect(summary.metrics.champion).toBeNull();
    const { pointer } = await readPointer(h.store, name);
    expect(pointer.champion).toBe(summary.version);
    const [version] = await listVersions(h.store, name);
    expect(version.task).toBe('regression');
    expect(version.classes).toBeNull();
  });
});
