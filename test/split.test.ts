import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PipelineInput } from '../lib/pipeline';
import { hash53, HASH53_RANGE, hashRow, RowHasher, rowKey } from '../lib/row-hash';
import { mulberry32, splitPoint, SplitTally } from '../lib/split';
import { parseTable } from '../lib/table';
import { snapshotSource, splitSnapshot, validateSnapshot, type DatasetDeps } from '../services/datasets';
import { LocalStore } from '../store/local-store';
import { testPipeline, TRIVIAL_PREDICT, TRIVIAL_TRAINER } from './helpers/harness';
import { tempDir } from './helpers/runs';

/** The split point of a row held as one id cell. */
const pointOf = (id: string, seed: number) => splitPoint([id], [0], seed);

/** |observed - expected| for a binomial count, in standard deviations. */
function sigmas(observed: number, n: number, p: number): number {
  return Math.abs(observed - n * p) / Math.sqrt(n * p * (1 - p));
}

describe('mulberry32', () => {
  it('is pinned to known output, so data generated from a seed can always be reproduced', () => {
    const random = mulberry32(7);
    expect([random(), random(), random()]).toEqual([0.011704753153026104, 0.06195825757458806, 0.97690763277933]);
  });

  it('gives floats in [0, 1), the same for the same seed', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    for (let i = 0; i < 10_000; i++) {
      const x = a();
      expect(x).toBe(b());
      expect(x >= 0 && x < 1).toBe(true);
    }
  });
});

describe('row hashes', () => {
  it('hashRow is hash53 of rowKey, for any cells and indexes', () => {
    const rand = mulberry32(3);
    const CELLS = [null, 'a', 'B', '', '0', '1.5', 'é', '日本', '😀', 'x,y', 'line\nbreak', '\u0001'];
    for (let t = 0; t < 5000; t++) {
      const row = Array.from({ length: Math.floor(rand() * 6) }, () => CELLS[Math.floor(rand() * CELLS.length)]!);
      const indexes = Array.from({ length: Math.floor(rand() * 4) }, () => Math.floor(rand() * 7));
      const seed = Math.floor(rand() * 100);
      expect(hashRow(row, null, seed), JSON.stringify(row)).toBe(hash53(rowKey(row), seed));
      expect(hashRow(row, indexes, seed), JSON.stringify({ row, indexes })).toBe(hash53(rowKey(row, indexes), seed));
    }
  });

  it('RowHasher gives hashRow of the cells fed one at a time, as text or ASCII bytes', () => {
    const rand = mulberry32(4);
    const CELLS = [null, 'a', 'B', '', '0', '1.5', 'é', '日本', '😀', 'x,y', '\u0001'];
    const hasher = new RowHasher(7);
    for (let t = 0; t < 5000; t++) {
      const row = Array.from({ length: Math.floor(rand() * 6) }, () => CELLS[Math.floor(rand() * CELLS.length)]!);
      for (const cell of row) {
        if (cell === null) hasher.missing();
        else if (Buffer.byteLength(cell) === cell.length && rand() < 0.5) hasher.ascii(Buffer.from(`..${cell}.`), 2, 2 + cell.length);
        else hasher.text(cell);
      }
      expect(hasher.finish(), JSON.stringify(row)).toBe(hashRow(row, null, 7));
    }
  });

  it('hashes a row like the same row with missing cells added at the end (JSON lines add columns)', () => {
    expect(hashRow(['a', 'b'], null)).toBe(hashRow(['a', 'b', null, null], null));
    expect(hashRow(['a', null, 'b'], null)).not.toBe(hashRow(['a', 'b'], null));
    expect(hashRow(['a', 'b'], null)).not.toBe(hashRow(['ab'], null));
    expect(hashRow(['a', 'b'], null)).not.toBe(hashRow(['b', 'a'], null));
    expect(hashRow(['x', 'a', 'b'], [1, 2, 5])).toBe(hashRow(['a', 'b'], null));
  });

  it('is pinned to known output: a change would move rows between train and holdout', () => {
    expect(hash53('abc')).toBe(5059922895146125);
    expect(pointOf('c0001', 7)).toBe(0.6618789015021515);
    expect(pointOf('c0001', 8)).toBe(0.6056416218802784);
    expect(splitPoint(['3', 'basic', 'yes'], [0, 1, 2], 7)).toBe(0.27629514853127457);
    expect(splitPoint(['x', '3', null, 'no'], [1, 2, 3], 7)).toBe(0.3307900924939786);
  });
});

describe('splitPoint', () => {
  it('is the same for the same row and seed, and in [0, 1)', () => {
    for (let i = 0; i < 10_000; i++) {
      const p = pointOf(`id-${i}`, 11);
      expect(p).toBe(pointOf(`id-${i}`, 11));
      expect(p >= 0 && p < 1).toBe(true);
    }
    expect(HASH53_RANGE).toBe(2 ** 53);
  });

  it('depends on the cells at the indexes only', () => {
    const row = ['c1', '5', 'basic', 'yes'];
    expect(splitPoint(row, [0], 7)).toBe(pointOf('c1', 7));
    expect(splitPoint([...row.slice(0, 1), '6', 'pro', 'no'], [0], 7)).toBe(splitPoint(row, [0], 7));
    expect(splitPoint(row, [1, 2, 3], 7)).not.toBe(splitPoint(['c2', '5', 'basic', 'no'], [1, 2, 3], 7));
  });

  it('differs between seeds: another seed holds out another, independent set of rows', () => {
    const n = 20_000;
    const f = 0.2;
    let both = 0;
    for (let i = 0; i < n; i++) {
      const [a, b] = [pointOf(`k${i}`, 7), pointOf(`k${i}`, 8)];
      expect(a).not.toBe(b);
      if (a < f && b < f) both++;
    }
    // Independent sides: a row is in both holdouts with probability f².
    expect(sigmas(both, n, f * f)).toBeLessThan(5);
  });

  it('spreads rows evenly over [0, 1)', () => {
    const n = 100_000;
    const deciles = new Array<number>(10).fill(0);
    for (let i = 0; i < n; i++) deciles[Math.floor(pointOf(`row-${i}`, 7) * 10)]!++;
    for (const count of deciles) expect(sigmas(count, n, 0.1)).toBeLessThan(5);
  });
});

describe('SplitTally', () => {
  it.each([
    [0.2, 7],
    [0.05, 1],
    [0.5, 123],
  ])('holds out about %s of 100,000 rows, and of each class (seed %s)', (fraction, seed) => {
    const n = 100_000;
    const tally = new SplitTally(fraction);
    const rows = new Map<string, number>();
    const held = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const group = i % 10 < 6 ? 'a' : i % 10 < 9 ? 'b' : 'c';
      rows.set(group, (rows.get(group) ?? 0) + 1);
      if (tally.assign(group, pointOf(`key-${i}`, seed))) held.set(group, (held.get(group) ?? 0) + 1);
    }
    const total = [...held.values()].reduce((a, b) => a + b, 0);
    expect(sigmas(total, n, fraction)).toBeLessThan(5);
    for (const [group, count] of rows) expect(sigmas(held.get(group) ?? 0, count, fraction), group).toBeLessThan(5);
    expect(tally.corrections()).toBeNull();
  });

  it('holds out a row exactly when its point is below the fraction', () => {
    const tally = new SplitTally(0.25);
    expect(tally.assign('a', 0.1)).toBe(true);
    expect(tally.assign('a', 0.25)).toBe(false);
    expect(tally.assign('a', 0.2499)).toBe(true);
    expect(tally.assign('a', 0.9)).toBe(false);
    expect(tally.corrections()).toBeNull();
  });

  it('never holds out the only row of a class', () => {
    const tally = new SplitTally(0.2);
    tally.assign('solo', 0.05);
    tally.assign('other', 0.1);
    tally.assign('other', 0.7);
    const rules = tally.corrections();
    expect([...rules!.keys()]).toEqual(['solo']);
    expect(rules!.get('solo')!(0.05)).toBe(false);
  });

  it('leaves the only row of a class in training alone', () => {
    const tally = new SplitTally(0.2);
    tally.assign('solo', 0.5);
    tally.assign('other', 0.1);
    tally.assign('other', 0.7);
    expect(tally.corrections()).toBeNull();
  });

  it('moves the lowest point of a class of two or more rows with no holdout row into the holdout', () => {
    const tally = new SplitTally(0.2);
    for (const p of [0.5, 0.31, 0.9, 0.3, 0.65]) tally.assign('rare', p);
    tally.assign('big', 0.1);
    tally.assign('big', 0.8);
    const rules = tally.corrections()!;
    expect([...rules.keys()]).toEqual(['rare']);
    const rule = rules.get('rare')!;
    expect([0.5, 0.31, 0.9, 0.3, 0.65].filter(rule)).toEqual([0.3]);
  });

  it('moves the highest point of a class that is all held out back to training', () => {
    const tally = new SplitTally(0.5);
    for (const p of [0.1, 0.45, 0.2, 0.0]) tally.assign('rare', p);
    const rule = tally.corrections()!.get('rare')!;
    expect([0.1, 0.45, 0.2, 0.0].filter((p) => !rule(p))).toEqual([0.45]);
    expect([0.1, 0.45, 0.2, 0.0].filter(rule)).toEqual([0.1, 0.2, 0.0]);
  });

  it('corrects a class of two rows whatever side the first pass put them on', () => {
    for (const points of [
      [0.6, 0.7],
      [0.05, 0.1],
      [0.1, 0.7],
    ]) {
      const tally = new SplitTally(0.2);
      for (const p of points) tally.assign('pair', p);
      const rule = tally.corrections()?.get('pair') ?? ((p: number) => p < 0.2);
      expect(points.filter(rule), JSON.stringify(points)).toHaveLength(1);
    }
  });

  it('gives every class of two or more rows rows on both sides, with real split points', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const tally = new SplitTally(0.1);
      const rows: { group: string; point: number }[] = [];
      for (let i = 0; i < 300; i++) {
        const group = i < 2 ? 'two' : i < 5 ? 'three' : i === 5 ? 'one' : 'many';
        const point = pointOf(`r${i}`, seed);
        rows.push({ group, point });
        tally.assign(group, point);
      }
      const rules = tally.corrections();
      const side = (group: string, p: number) => (rules?.get(group) ?? ((x: number) => x < 0.1))(p);
      for (const group of ['two', 'three', 'many']) {
        const sides = new Set(rows.filter((r) => r.group === group).map((r) => side(group, r.point)));
        expect(sides, `seed ${seed}, class ${group}`).toEqual(new Set([true, false]));
      }
      expect(side('one', rows[5]!.point), `seed ${seed}`).toBe(false);
    }
  });
});

/*
 * The split through services/datasets.ts, as the split step runs it: a CSV source is snapshotted
 * into a LocalStore and split into train and holdout CSV files of the training columns.
 */

const FEATURES = [
  { name: 'n', type: 'numeric' as const },
  { name: 'x', type: 'numeric' as const },
  { name: 'plan', type: 'categorical' as const },
];
const HEADER = 'customer_id,n,x,plan,churned';

/** Rows of the churn-like dataset: `n` identifies a row in the split files (which hold no id). */
function churnRows(
  count: number,
  x: (i: number) => number = (i) => i * 2,
  label: (i: number) => string = (i) => (i % 3 === 0 ? 'yes' : 'no'),
): string[] {
  return Array.from({ length: count }, (_, i) => `c${i},${i},${x(i)},${['basic', 'pro', 'team'][i % 3]},${label(i)}`);
}

function shuffled<T>(items: T[], seed: number): T[] {
  const rand = mulberry32(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('splitSnapshot: the hash split of a snapshot', () => {
  let project: string;
  let deps: DatasetDeps;
  let files = 0;

  beforeAll(() => {
    project = tempDir('split');
    deps = { store: new LocalStore(join(project, 'store')), config: { projectDir: project, s3: undefined as never } };
  });

  function pipelineFor(path: string, over: Partial<PipelineInput> = {}) {
    return testPipeline({
      name: 'split-test',
      source: { path },
      features: FEATURES,
      holdout: { fraction: 0.25, seed: 7 },
      training: { command: TRIVIAL_TRAINER, predictCommand: TRIVIAL_PREDICT },
      ...over,
    });
  }

  /** Writes `lines` as a source file, snapshots and splits it. */
  async function split(lines: string[], over: Partial<PipelineInput> = {}, ext = 'csv') {
    const path = join(project, `source-${++files}.${ext}`);
    writeFileSync(path, lines.join('\n') + '\n');
    const pipeline = pipelineFor(path, over);
    const snapshot = await snapshotSource(deps, pipeline);
    const result = await splitSnapshot(deps, pipeline, snapshot);
    const train = (await deps.store.get(result.trainKey))!;
    const holdout = (await deps.store.get(result.holdoutKey))!;
    return { result, snapshot, pipeline, train, holdout, sides: sidesOf(train, holdout) };
  }

  /** Which side each row went to, by its `n`; the rows of each file as read back. */
  function sidesOf(train: Buffer, holdout: Buffer) {
    const t = parseTable(train, 'csv', 'train.csv');
    const h = parseTable(holdout, 'csv', 'holdout.csv');
    const side = new Map<string, 'train' | 'holdout'>();
    for (const [table, name] of [
      [t, 'train'],
      [h, 'holdout'],
    ] as const) {
      for (const row of table.rows) {
        expect(side.get(row[0]!) ?? name, `row n=${row[0]} is on both sides`).toBe(name);
        side.set(row[0]!, name);
      }
    }
    return { train: t, holdout: h, side, held: new Set([...side].filter(([, s]) => s === 'holdout').map(([n]) => n)) };
  }

  it('writes every row to exactly one side, the training columns only, and counts them', async () => {
    const { result, sides } = await split([HEADER, ...churnRows(1000)]);
    expect(sides.train.columns).toEqual(['n', 'x', 'plan', 'churned']);
    expect(sides.holdout.columns).toEqual(['n', 'x', 'plan', 'churned']);
    expect(result.trainRows + result.holdoutRows).toBe(1000);
    expect(result.trainRows).toBe(sides.train.rows.length);
    expect(result.holdoutRows).toBe(sides.holdout.rows.length);
    expect(sides.side.size).toBe(1000);
    expect([...sides.train.rows, ...sides.holdout.rows].find((r) => r[0] === '4')).toEqual(['4', '8', 'pro', 'no']);
    expect(sigmas(result.holdoutRows, 1000, 0.25)).toBeLessThan(5);
  });

  it('gives the same files, byte for byte, for the same snapshot', async () => {
    const first = await split([HEADER, ...churnRows(500)]);
    const again = await splitSnapshot(deps, first.pipeline, first.snapshot);
    expect(again).toEqual(first.result);
    expect((await deps.store.get(again.trainKey))!.equals(first.train)).toBe(true);
    expect((await deps.store.get(again.holdoutKey))!.equals(first.holdout)).toBe(true);
  });

  it.each([
    ['an id column', {}],
    ['no id column (by the training cells)', { idColumn: undefined }],
  ])('does not depend on the order of the rows, with %s', async (_what, over) => {
    const rows = churnRows(600);
    const a = await split([HEADER, ...rows], over);
    const b = await split([HEADER, ...shuffled(rows, 99)], over);
    expect(b.snapshot.sha256).not.toBe(a.snapshot.sha256);
    expect(b.sides.side).toEqual(a.sides.side);
    expect(b.result.holdoutRows).toBe(a.result.holdoutRows);
  });

  it('with an id column, puts each row where its id says, whatever its other cells', async () => {
    const seed = 7;
    const a = await split([HEADER, ...churnRows(800)]);
    const b = await split([HEADER, ...churnRows(800, (i) => i * 3 + 1)]);
    expect(b.sides.held).toEqual(a.sides.held);
    // No class needed a correction: each row is held out exactly when its id's point is below the fraction.
    for (let i = 0; i < 800; i++) expect(a.sides.side.get(String(i)), `c${i}`).toBe(pointOf(`c${i}`, seed) < 0.25 ? 'holdout' : 'train');
    // Without the id, the other cells decide.
    const c = await split([HEADER, ...churnRows(800)], { idColumn: undefined });
    const d = await split([HEADER, ...churnRows(800, (i) => i * 3 + 1)], { idColumn: undefined });
    expect(d.sides.held).not.toEqual(c.sides.held);
  });

  it('without an id column, keeps rows of the same training cells on the same side', async () => {
    const rows = churnRows(300);
    const copies = rows.map((r) => r.replace(/^c(\d+),/, 'copy-of-c$1,'));
    const { sides, result } = await split([HEADER, ...rows, ...shuffled(copies, 5)], { idColumn: undefined });
    expect(result.trainRows + result.holdoutRows).toBe(600);
    const count = (table: { rows: (string | null)[][] }, n: string) => table.rows.filter((r) => r[0] === n).length;
    for (let i = 0; i < 300; i++) {
      expect(count(sides.train, String(i)) + count(sides.holdout, String(i))).toBe(2);
      expect([0, 2]).toContain(count(sides.holdout, String(i)));
    }
  });

  it('puts one row of a class of two on each side, and the row of a class of one in training', async () => {
    for (let seed = 1; seed <= 12; seed++) {
      const label = (i: number) => (i === 17 || i === 140 ? 'rare' : i === 77 ? 'unique' : i % 2 ? 'yes' : 'no');
      const { sides, result } = await split([HEADER, ...churnRows(200, undefined, label)], { holdout: { fraction: 0.25, seed } });
      expect(result.trainRows + result.holdoutRows, `seed ${seed}`).toBe(200);
      expect([sides.side.get('17'), sides.side.get('140')].sort(), `seed ${seed}`).toEqual(['holdout', 'train']);
      expect(sides.side.get('77'), `seed ${seed}`).toBe('train');
      // The other classes are split as the hash says.
      for (let i = 0; i < 200; i++) {
        if (['rare', 'unique'].includes(label(i))) continue;
        expect(sides.side.get(String(i)), `seed ${seed}, c${i}`).toBe(pointOf(`c${i}`, seed) < 0.25 ? 'holdout' : 'train');
      }
    }
  });

  it('holds out a row of a regression dataset too small for the fraction to reach one', async () => {
    const rows = Array.from({ length: 4 }, (_, i) => `c${i},${i},${i * 2},basic,${i * 1.5}`);
    const { result, sides } = await split([HEADER.replace('churned', 'spend'), ...rows], {
      task: 'regression',
      label: 'spend',
      positiveClass: undefined,
      metrics: { primary: 'rmse' },
      holdout: { fraction: 0.01, seed: 3 },
    });
    expect(result).toMatchObject({ trainRows: 3, holdoutRows: 1 });
    // The row with the lowest point is the one moved.
    const lowest = [0, 1, 2, 3].sort((a, b) => pointOf(`c${a}`, 3) - pointOf(`c${b}`, 3))[0]!;
    expect([...sides.held]).toEqual([String(lowest)]);
  });

  it('splits a JSON-lines snapshot the same as the CSV of the same rows', async () => {
    const rows = churnRows(400);
    const csv = await split([HEADER, ...rows]);
    const objects = rows.map((r) => {
      const [customer_id, n, x, plan, churned] = r.split(',');
      return JSON.stringify({ customer_id, n: Number(n), x: Number(x), plan, churned });
    });
    const jsonl = await split(objects, {}, 'jsonl');
    expect(jsonl.snapshot.format).toBe('jsonl');
    expect(jsonl.sides.side).toEqual(csv.sides.side);
    expect(jsonl.train.equals(csv.train)).toBe(true);
  });

  // BUG (services/datasets.ts, writeSplit and writeRows via columnIndexes): the column indexes
  // are looked up in each batch's columns and a column not there yet throws. JSON lines learn a
  // key when a line first gives it, so a feature that is absent (null) from the first 1 MiB read
  // (the chunk of services/dataset-rows.ts), as exporters that leave out null keys write it,
  // fails the split with `column "plan" is not in the snapshot` although validation passed.
  it('splits JSON lines whose feature key first appears after the first megabyte', async () => {
    const pad = 'p'.repeat(200);
    const objects = Array.from({ length: 8000 }, (_, i) =>
      JSON.stringify({ customer_id: `c${i}`, n: i, x: i * 2, ...(i >= 7000 ? { plan: 'pro' } : {}), churned: i % 3 ? 'no' : 'yes', pad }),
    );
    expect(objects.slice(0, 7000).join('\n').length).toBeGreaterThan(1 << 20);
    const path = join(project, `source-${++files}.jsonl`);
    writeFileSync(path, objects.join('\n') + '\n');
    const pipeline = pipelineFor(path, { validation: { maxNullShare: 0.9 } });
    const snapshot = await snapshotSource(deps, pipeline);
    // Validation reads the same batches and passes the data...
    const report = await validateSnapshot(deps.store, pipeline, snapshot);
    expect(report.problems).toEqual([]);
    expect(report.columns.find((c) => c.name === 'plan')).toMatchObject({ nulls: 7000 });
    // ...which the split must then read too.
    const result = await splitSnapshot(deps, pipeline, snapshot);
    expect(result.trainRows + result.holdoutRows).toBe(8000);
    const sides = sidesOf((await deps.store.get(result.trainKey))!, (await deps.store.get(result.holdoutKey))!);
    expect(sides.side.size).toBe(8000);
    expect([...sides.train.rows, ...sides.holdout.rows].find((r) => r[0] === '1')).toEqual(['1', '2', null, 'no']);
  });

  it('gives the split files the rows of the source as they were, quoted where needed', async () => {
    const lines = [HEADER, 'c1,1,2.5,"a, b",yes', 'c2,2,,"say ""hi""",no', 'c3,3,4,"two\nlines",yes', 'c4,4,5,,no'];
    const { sides, train, holdout } = await split(lines, { holdout: { fraction: 0.5, seed: 1 } });
    const all = [...sides.train.rows, ...sides.holdout.rows].sort((a, b) => Number(a[0]) - Number(b[0]));
    expect(all).toEqual([
      ['1', '2.5', 'a, b', 'yes'],
      ['2', null, 'say "hi"', 'no'],
      ['3', '4', 'two\nlines', 'yes'],
      ['4', '5', null, 'no'],
    ]);
    expect(train.toString().split('\n')[0]).toBe('n,x,plan,churned');
    expect(holdout.toString().split('\n')[0]).toBe('n,x,plan,churned');
  });
});
