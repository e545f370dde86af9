import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPredictionWindow } from '../services/prediction-log';
import { generateChurn } from '../examples/data/generators';
import { serveBatch } from '../examples/serving-app';
import { startRetrain } from '../client/client';
import { startHarness, testPipeline, type Harness } from './helpers/harness';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

describe('examples/serving-app serveBatch', () => {
  it('serves a batch with the champion trained by scikit-learn and logs one valid line per row', async () => {
    // testPipeline's default training and predict commands: the shipped scikit-learn scripts.
    const pipeline = testPipeline({ name: 'serving-app' });
    const trained = await (await startRetrain(h.client, h.config, pipeline)).handle.result();
    expect(trained.outcome).toBe('promoted');
    const rows = generateChurn({ rows: 50, seed: 21, drift: 0.5 });
    const before = new Date();

    const served = await serveBatch({ store: h.store, config: h.config, model: pipeline, rows });

    expect(served.version).toBe(trained.version);
    expect(served.lines.map((l) => l.id)).toEqual(rows.map((r) => r.customer_id));
    const window = await readPredictionWindow(h.store, pipeline.name, {
      from: new Date(before.getTime() - 1_000),
      to: new Date(Date.now() + 1_000),
    });
    expect(window.invalidLines).toBe(0);
    expect(window.rows).toBe(50);
    expect(new Set(window.versions)).toEqual(new Set([trained.version]));
    expect([...window.ids].sort()).toEqual(rows.map((r) => r.customer_id).sort());
    expect(Object.keys(window.features).sort()).toEqual(['monthly_spend', 'plan', 'support_tickets', 'tenure_months']);
    const { no, yes } = window.scores!;
    for (let i = 0; i < window.rows; i++) {
      expect(no[i] + yes[i]).toBeCloseTo(1, 9);
      expect(window.predictions[i]).toBe(yes[i] > no[i] ? 'yes' : 'no');
      expect(window.score![i]).toBe(yes[i]); // the positive class's score
    }
    // One process scores the batch: every line carries the batch average, and its example cost.
    for (const ms of window.latencyMs) expect(Math.abs(ms - served.latencyMsPerRow)).toBeLessThan(0.001);
    expect(window.cost.every((c) => c === served.costPerPrediction && c > 0)).toBe(true);
  });

  it('says there is no champion to serve, before running anything', async () => {
    const pipeline = testPipeline({ name: 'serving-app-untrained' });
    await expect(
      serveBatch({ store: h.store, config: h.config, model: pipeline, rows: generateChurn({ rows: 5, seed: 1 }) }),
    ).rejects.toThrow(/serving-app-untrained has no champion/);
  });
});
