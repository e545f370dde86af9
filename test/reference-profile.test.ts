import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { detectDrift } from '../lib/drift/dataset-drift';
import { isAscending } from '../lib/drift/sort';
import { keys } from '../lib/keys';
import {
  buildReferenceProfile,
  decodeFloat64,
  encodeFloat64,
  MAX_REFERENCE_VALUES,
  referenceColumns,
  type ReferenceProfile,
} from '../lib/reference-profile';
import { mulberry32 } from '../lib/split';
import type { Table } from '../lib/table';
import { loadReferenceColumns, saveReferenceProfile } from '../services/reference-profiles';
import { LocalStore } from '../store/local-store';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const COLUMNS = [
  { name: 'spend', kind: 'numeric' as const },
  { name: 'tickets', kind: 'numeric' as const },
  { name: 'plan', kind: 'categorical' as const },
];

/** Rows in a seeded random order, a few cells missing. */
function table(rows: number, seed: number): Table {
  const r = mulberry32(seed);
  return {
    columns: COLUMNS.map((c) => c.name),
    rows: Array.from({ length: rows }, () => [
      r() < 0.05 ? null : (Math.round(r() * 20_000) / 100 - 40).toString(),
      r() < 0.02 ? null : String(Math.floor(r() * 6)),
      r() < 0.5 ? 'basic' : 'pro',
    ]),
  };
}

describe('reference profiles store numeric columns sorted', () => {
  it('the builder hands out each numeric column ascending and says so', () => {
    const { profile, values } = buildReferenceProfile({ model: 'm', version: 'v1', table: table(3000, 1), columns: COLUMNS });
    for (const name of ['spend', 'tickets']) {
      const col = profile.columns[name];
      expect(col).toMatchObject({ kind: 'numeric', sorted: true, count: values[name].length });
      expect(isAscending(values[name]), name).toBe(true);
    }
    // The same multiset as the row order kept.
    const spend = table(3000, 1)
      .rows.map((row) => row[0])
      .filter((cell): cell is string => cell !== null)
      .map(Number);
    expect(Array.from(values.spend)).toEqual(spend.sort((a, b) => a - b));
  });

  it('a sampled column is sorted too, and the same rows give the same bytes', () => {
    const rows = MAX_REFERENCE_VALUES + 5000;
    const big: Table = { columns: ['spend'], rows: Array.from({ length: rows }, (_, i) => [String((i * 7919) % 100_003)]) };
    const build = () => buildReferenceProfile({ model: 'm', version: 'v1', table: big, columns: [COLUMNS[0]] });
    const a = build();
    expect(a.profile.columns.spend).toMatchObject({ sampled: true, sorted: true, count: MAX_REFERENCE_VALUES });
    expect(isAscending(a.values.spend)).toBe(true);
    expect(encodeFloat64(build().values.spend).equals(encodeFloat64(a.values.spend))).toBe(true);
  });

  it('referenceColumns sorts the values of a profile stored before they were kept sorted', () => {
    const { profile, values } = buildReferenceProfile({ model: 'm', version: 'v1', table: table(2000, 2), columns: COLUMNS });
    const legacy = legacyProfile(profile);
    const shuffled = shuffledValues(values, 3);
    const fromLegacy = referenceColumns(legacy, shuffled);
    const fromNew = referenceColumns(profile, values);
    for (const name of ['spend', 'tickets']) {
      const col = fromLegacy[name] as Float64Array;
      expect(Array.from(col), name).toEqual(Array.from(fromNew[name] as Float64Array));
      // Values ascending, then one NaN per missing value.
      const missing = (profile.columns[name] as { missing: number }).missing;
      expect(isAscending(col.subarray(0, col.length - missing))).toBe(true);
      expect(col.subarray(col.length - missing).every(Number.isNaN)).toBe(true);
    }
    // A stored-sorted column is taken as it is.
    expect(referenceColumns(profile, { ...values, spend: shuffled.spend }).spend).not.toEqual(fromNew.spend);
  });
});

describe('stored and loaded through the store', () => {
  it('new profiles and profiles stored unsorted (no `sorted`) give the same drift results', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'retrain-reference-profile-'));
    dirs.push(dir);
    const store = new LocalStore(dir);
    const profile = await saveReferenceProfile(store, {
      model: 'm',
      version: 'v1',
      name: 'features',
      table: table(4000, 5),
      columns: COLUMNS,
    });
    expect(profile.columns.spend).toMatchObject({ sorted: true });
    const stored = await store.get(keys.referenceValues('m', 'v1', 'features', (profile.columns.spend as { file: string }).file));
    expect(isAscending(decodeFloat64(stored!))).toBe(true);

    // The same version as an older Retrain stored it: values in row order, no `sorted` field.
    const values: Record<string, Float64Array> = {};
    for (const [name, col] of Object.entries(profile.columns)) {
      if (col.kind !== 'numeric') continue;
      values[name] = decodeFloat64((await store.get(keys.referenceValues('m', 'v1', 'features', col.file)))!);
    }
    const shuffled = shuffledValues(values, 6);
    for (const [name, col] of Object.entries(profile.columns)) {
      if (col.kind === 'numeric') await store.put(keys.referenceValues('m', 'v2', 'features', col.file), encodeFloat64(shuffled[name]));
    }
    await store.put(keys.referenceProfile('m', 'v2', 'features'), JSON.stringify(legacyProfile({ ...profile, version: 'v2' })));

    const current = table(3000, 7);
    const currentColumns = {
      spend: Float64Array.from(current.rows, (row) => (row[0] === null ? NaN : Number(row[0]) + 20)),
      tickets: Float64Array.from(current.rows, (row) => (row[1] === null ? NaN : Number(row[1]))),
      plan: current.rows.map((row) => row[2]),
    };
    const results = [];
    for (const version of ['v1', 'v2']) {
      const loaded = (await loadReferenceColumns(store, 'm', version, 'features'))!;
      for (const name of ['spend', 'tickets'])
        expect(isAscending((loaded.columns[name] as Float64Array).filter((v) => !Number.isNaN(v)))).toBe(true);
      results.push(
        detectDrift({
          reference: loaded.columns,
          current: currentColumns,
          features: [
            { name: 'spend', kind: 'numeric', method: 'ks' },
            { name: 'tickets', kind: 'numeric', method: 'wasserstein' },
            { name: 'plan', kind: 'categorical' },
          ],
        }),
      );
    }
    expect(results[1]).toEqual(results[0]);
    expect(results[0].features[0].drifted).toBe(true); // spend moved by 20
  });
});

/** The profile as stored before `sorted` was recorded. */
function legacyProfile(profile: ReferenceProfile): ReferenceProfile {
  const columns = Object.fromEntries(
    Object.entries(profile.columns).map(([name, col]) => {
      if (col.kind !== 'numeric') return [name, col];
      const { sorted: _sorted, ...rest } = col;
      return [name, rest];
    }),
  );
  return { ...profile, columns };
}

/** Each column's values in a seeded random order (Fisher–Yates). */
function shuffledValues(values: Record<string, Float64Array>, seed: number): Record<string, Float64Array> {
  const r = mulberry32(seed);
  return Object.fromEntries(
    Object.entries(values).map(([name, v]) => {
      const out = v.slice();
      for (let i = out.length - 1; i > 0; i--) {
        const j = Math.floor(r() * (i + 1));
        [out[i], out[j]] = [out[j], out[i]];
      }
      return [name, out];
    }),
  );
}
