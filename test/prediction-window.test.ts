import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readPredictionWindow } from '../services/prediction-log';
import { keys } from '../lib/keys';
import type { PredictionLine } from '../lib/prediction-log';
import { LocalStore } from '../store/local-store';
import type { Store } from '../store/store';

const roots: string[] = [];
afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

/** A local store that records the prefixes it was asked to list. */
function freshStore(): { store: Store; listed: string[] } {
  const root = mkdtempSync(join(tmpdir(), 'retrain-prediction-window-'));
  roots.push(root);
  const inner = new LocalStore(root);
  const listed: string[] = [];
  const store = Object.assign(Object.create(inner) as Store, {
    list: (prefix: string) => {
      listed.push(prefix);
      return inner.list(prefix);
    },
  });
  return { store, listed };
}

let n = 0;
function line(timestamp: string, extra: Partial<PredictionLine> = {}): PredictionLine {
  return {
    id: `p-${++n}`,
    timestamp,
    model: 'churn',
    version: 'v1',
    features: { tenure: 12, plan: 'basic' },
    prediction: 'no',
    latencyMs: 5,
    ...extra,
  };
}

async function writeBatch(
  store: Store,
  lines: (PredictionLine | string)[],
  model = 'churn',
  hour = (lines.find((l) => typeof l !== 'string') as PredictionLine).timestamp.slice(0, 13),
): Promise<string> {
  const key = keys.predictionBatch(model, hour, `batch-${++n}`);
  await store.put(key, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');
  return key;
}

const window = (from: string, to: string) => ({ from: new Date(from), to: new Date(to) });

describe('readPredictionWindow', () => {
  it('keeps from <= timestamp < to across hour partitions and lists only the hours that overlap', async () => {
    const { store, listed } = freshStore();
    await writeBatch(store, [line('2024-05-01T09:59:59.999Z', { id: 'before' })]);
    await writeBatch(store, [line('2024-05-01T10:00:00.000Z', { id: 'first' }), line('2024-05-01T10:30:00Z', { id: 'middle' })]);
    await writeBatch(store, [line('2024-05-01T11:59:59.999Z', { id: 'last' })]);
    await writeBatch(store, [line('2024-05-01T12:00:00.000Z', { id: 'after' })]);
    await writeBatch(store, [line('2024-05-01T10:15:00Z', { id: 'other-model', model: 'prices' })], 'prices');

    const w = await readPredictionWindow(store, 'churn', window('2024-05-01T10:00:00Z', '2024-05-01T12:00:00Z'));
    expect(w.ids).toEqual(['first', 'middle', 'last']);
    expect(w.rows).toBe(3);
    expect(w.files).toBe(2);
    expect(w.invalidLines).toBe(0);
    expect(w.firstInvalid).toBeUndefined();
    expect(listed).toEqual(['predictions/churn/2024-05-01/10/', 'predictions/churn/2024-05-01/11/']);
    expect([...w.timestamps]).toEqual([
      Date.parse('2024-05-01T10:00:00Z'),
      Date.parse('2024-05-01T10:30:00Z'),
      Date.parse('2024-05-01T11:59:59.999Z'),
    ]);
  });

  it('lists a UTC day the window covers whole once, and hours at the ends', async () => {
    const { store, listed } = freshStore();
    await writeBatch(store, [line('2024-05-01T23:10:00Z'), line('2024-05-01T23:20:00Z')]);
    await writeBatch(store, [line('2024-05-02T07:00:00Z')]);
    await writeBatch(store, [line('2024-05-03T00:10:00Z')]);
    const w = await readPredictionWindow(store, 'churn', window('2024-05-01T23:15:00Z', '2024-05-03T00:30:00Z'));
    expect(w.rows).toBe(3);
    expect(listed).toEqual(['predictions/churn/2024-05-01/23/', 'predictions/churn/2024-05-02/', 'predictions/churn/2024-05-03/00/']);
  });

  it('counts invalid lines and says where the first one is and what is wrong', async () => {
    const { store } = freshStore();
    const key = await writeBatch(store, [
      line('2024-05-01T10:00:00Z'),
      '{"id": "broken',
      '',
      line('2024-05-01T10:01:00Z', { latencyMs: -3 }),
      line('2024-05-01T10:02:00Z', { model: 'prices' }),
      line('2024-05-01T10:03:00Z'),
    ]);
    const w = await readPredictionWindow(store, 'churn', window('2024-05-01T10:00:00Z', '2024-05-01T11:00:00Z'));
    expect(w.rows).toBe(2);
    expect(w.invalidLines).toBe(3);
    expect(w.firstInvalid).toMatch(new RegExp(`^${key}:2: not valid JSON`)); // the blank line 3 is not counted
  });

  it('makes numeric columns typed arrays (NaN when missing) and categorical ones arrays of strings (null when missing)', async () => {
    const { store } = freshStore();
    await writeBatch(store, [
      line('2024-05-01T10:00:00Z', {
        features: { tenure: 3, plan: 'basic', zip: 1234 },
        prediction: 'yes',
        score: 0.9,
        scores: { no: 0.1, yes: 0.9 },
        cost: 0.5,
      }),
      line('2024-05-01T10:01:00Z', { features: { tenure: null, plan: null, zip: 'A-99' }, prediction: 'no', latencyMs: 7 }),
      line('2024-05-01T10:02:00Z', { features: { tenure: 8.5, plan: 'pro', late: 1 }, prediction: 'no', score: 0.2 }),
    ]);
    const w = await readPredictionWindow(store, 'churn', window('2024-05-01T10:00:00Z', '2024-05-01T11:00:00Z'));
    expect(Object.keys(w.features)).toEqual(['late', 'plan', 'tenure', 'zip']);
    expect(w.features.tenure).toBeInstanceOf(Float64Array);
    expect([...(w.features.tenure as Float64Array)]).toEqual([3, NaN, 8.5]);
    expect(w.features.plan).toEqual(['basic', null, 'pro']);
    expect(w.features.zip).toEqual(['1234', 'A-99', null]); // mixed: categorical
    expect([...(w.features.late as Float64Array)]).toEqual([NaN, NaN, 1]); // first seen in the last line
    expect(w.predictions).toEqual(['yes', 'no', 'no']);
    expect([...w.score!]).toEqual([0.9, NaN, 0.2]);
    expect(Object.fromEntries(Object.entries(w.scores!).map(([k, v]) => [k, [...v]]))).toEqual({
      no: [0.1, NaN, NaN],
      yes: [0.9, NaN, NaN],
    });
    expect([...w.latencyMs]).toEqual([5, 7, 5]);
    expect([...w.cost]).toEqual([0.5, NaN, NaN]);
    expect(w.versions).toEqual(['v1', 'v1', 'v1']);
  });

  it('gives numeric predictions as a typed array (regression)', async () => {
    const { store } = freshStore();
    await writeBatch(store, [
      line('2024-05-01T10:00:00Z', { prediction: 250_000 }),
      line('2024-05-01T10:01:00Z', { prediction: 199_999.5 }),
    ]);
    const w = await readPredictionWindow(store, 'churn', window('2024-05-01T10:00:00Z', '2024-05-01T11:00:00Z'));
    expect(w.predictions).toBeInstanceOf(Float64Array);
    expect([...(w.predictions as Float64Array)]).toEqual([250_000, 199_999.5]);
    expect(w.score).toBeUndefined();
    expect(w.scores).toBeUndefined();
  });

  it('samples a window of more than maxRows lines down to maxRows, the same rows for the same seed', async () => {
    const { store } = freshStore();
    const lines = Array.from({ length: 30 }, (_, i) => line(`2024-05-01T10:${String(i).padStart(2, '0')}:00Z`, { id: `s-${i}` }));
    await writeBatch(store, lines.slice(0, 20));
    await writeBatch(store, lines.slice(20));
    const sampled = { ...window('2024-05-01T10:00:00Z', '2024-05-01T11:00:00Z'), maxRows: 12, seed: 9 };
    const w = await readPredictionWindow(store, 'churn', sampled);
    expect(w).toMatchObject({ rows: 12, seen: 30, sampled: true, files: 2, invalidLines: 0 });
    expect(new Set(w.ids).size).toBe(12);
    expect(w.ids.every((id) => /^s-\d+$/.test(id))).toBe(true);
    expect((await readPredictionWindow(store, 'churn', sampled)).ids).toEqual(w.ids);
    const whole = await readPredictionWindow(store, 'churn', { ...sampled, maxRows: 30 });
    expect(whole).toMatchObject({ rows: 30, seen: 30, sampled: false });
  });

  it('is empty, not an error, when nothing was logged in the window; rejects from > to', async () => {
    const { store } = freshStore();
    const w = await readPredictionWindow(store, 'churn', window('2024-05-01T10:00:00Z', '2024-05-01T11:00:00Z'));
    expect(w).toMatchObject({ rows: 0, ids: [], features: {}, invalidLines: 0, files: 0 });
    expect(w.latencyMs).toHaveLength(0);
    await expect(readPredictionWindow(store, 'churn', window('2024-05-01T11:00:00Z', '2024-05-01T10:00:00Z'))).rejects.toThrow(
      /from <= to/,
    );
  });
});
