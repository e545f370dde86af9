import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { definePipeline, type Pipeline, type PipelineInput } from '../lib/pipeline';
import { mulberry32 } from '../lib/split';
import type { Table } from '../lib/table';
import type { Row } from '../lib/table-stream';
import { DatasetValidator, validateDataset, type DuplicateSink } from '../lib/validate-dataset';
import { DuplicateCounter } from '../services/duplicate-counter';
import { tempDir } from './helpers/runs';

/** Hashes the counter holds in memory before it writes them to disk (services/duplicate-counter.ts). */
const IN_MEMORY = 1 << 20;
/** One more than the largest 53-bit hash. */
const RANGE = 2 ** 53;

/*
 * The spill directory is made in os.tmpdir(), which reads TMPDIR on every call: each test points
 * it at a directory of its own, so what the counter leaves behind (or not) can be listed.
 */
let spillRoot: string;
let savedTmpdir: string | undefined;
beforeEach(() => {
  spillRoot = join(tempDir('duplicates'), 'tmp');
  mkdirSync(spillRoot);
  savedTmpdir = process.env.TMPDIR;
  process.env.TMPDIR = spillRoot;
});
afterEach(() => {
  if (savedTmpdir === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmpdir;
});

/** The spill directories in the test's TMPDIR, with their files. */
function spilled(): { dir: string; files: string[] }[] {
  return readdirSync(spillRoot).map((dir) => ({ dir, files: readdirSync(join(spillRoot, dir)) }));
}

describe('DuplicateCounter in memory', () => {
  it('counts the hashes that repeat an earlier one, however often and in whatever order', () => {
    const counter = new DuplicateCounter();
    for (const h of [5, 3, 5, 5, 0, 9, 3, RANGE - 1, RANGE - 1, 7]) counter.add(h);
    // 5 twice more, 3 once more, RANGE - 1 once more.
    expect(counter.count()).toBe(4);
    expect(spilled()).toEqual([]);
  });

  it('counts nothing for no hashes and for distinct ones', () => {
    expect(new DuplicateCounter().count()).toBe(0);
    const counter = new DuplicateCounter();
    for (let i = 0; i < 10_000; i++) counter.add(i * 7_919);
    expect(counter.count()).toBe(0);
  });

  it('keeps up to 2^20 hashes without writing to disk', () => {
    const counter = new DuplicateCounter();
    for (let i = 0; i < IN_MEMORY - 1; i++) counter.add(i % 1000);
    expect(spilled()).toEqual([]);
    expect(counter.count()).toBe(IN_MEMORY - 1 - 1000);
  });
});

describe('DuplicateCounter past its in-memory limit', () => {
  it('counts 3 million hashes with a known number of repeats exactly, spilling to disk and removing the files', () => {
    const DISTINCT = 2_500_000;
    // Distinct hashes spread over the whole 53-bit range (i * 2654435761 < 2^53 for these i),
    // visited in a scrambled order (7919 is prime to DISTINCT).
    const value = (i: number) => i * 2654435761;
    expect(value(DISTINCT - 1)).toBeLessThan(RANGE);
    const counter = new DuplicateCounter();
    let adds = 0;
    const add = (h: number) => {
      counter.add(h);
      adds++;
    };
    let sawSpill = false;
    for (let k = 0; k < DISTINCT; k++) {
      const i = (k * 7919) % DISTINCT;
      add(value(i));
      // Some repeats right away, within the same in-memory run.
      if (i % 50 === 0) add(value(i));
      if (adds === IN_MEMORY + 10) {
        const dirs = spilled();
        expect(dirs).toHaveLength(1);
        expect(dirs[0]!.dir).toMatch(/^retrain-duplicates-/);
        expect(dirs[0]!.files).toHaveLength(64);
        sawSpill = true;
      }
    }
    // Repeats long after the first copy, so copies of a hash meet only in the files.
    for (let i = DISTINCT - 1; i >= 0; i -= 5) add(value(i));
    // The ends of the range and the partitions' edges (2^53 / 64 = 2^47 each), twice each.
    const edges = [0, 1, RANGE - 1, RANGE - 2, ...Array.from({ length: 63 }, (_, p) => (p + 1) * 2 ** 47).flatMap((e) => [e - 1, e + 1])];
    for (const h of [...edges, ...edges]) add(h);

    expect(sawSpill).toBe(true);
    expect(adds).toBeGreaterThan(3_000_000);
    const isValue = (h: number) => h % 2654435761 === 0 && h / 2654435761 < DISTINCT;
    const distinct = DISTINCT + edges.filter((h) => !isValue(h)).length;
    expect(distinct).toBe(DISTINCT + edges.length - 1); // 0 is value(0)
    expect(counter.count()).toBe(adds - distinct);
    expect(spilled()).toEqual([]);
  });

  it('removes its files when disposed of without counting (validation stopped early)', () => {
    const counter = new DuplicateCounter();
    for (let i = 0; i < IN_MEMORY + 5; i++) counter.add(i);
    expect(spilled()).toHaveLength(1);
    counter.dispose();
    expect(spilled()).toEqual([]);
    // Disposing twice, or after counting, is harmless.
    counter.dispose();
    const counted = new DuplicateCounter();
    for (let i = 0; i < IN_MEMORY * 2; i++) counted.add(i % (IN_MEMORY + 7));
    expect(counted.count()).toBe(IN_MEMORY * 2 - (IN_MEMORY + 7));
    counted.dispose();
    expect(spilled()).toEqual([]);
  });
});

function pipeline(over: Partial<PipelineInput> = {}): Pipeline {
  return definePipeline({
    name: 'dupes',
    task: 'classification',
    source: { path: 'data.csv' },
    label: 'churned',
    features: [
      { name: 'tenure', type: 'numeric' },
      { name: 'plan', type: 'categorical' },
    ],
    metrics: { primary: 'accuracy' },
    owners: { monitoring: 'a', retraining: 'b', inference: 'c', logging: 'd' },
    validation: { minRows: 1, maxNullShare: 1, maxDuplicateShare: 0.1 },
    ...over,
  } as PipelineInput);
}

/** The report of `table` through DatasetValidator, in batches of random sizes, with a DuplicateCounter. */
function streamedReport(table: Table, p: Pipeline, seed: number, growColumns = false) {
  const rand = mulberry32(seed);
  const counter = new DuplicateCounter();
  try {
    const validator = new DatasetValidator(p, null, counter);
    if (table.rows.length === 0) validator.add({ columns: table.columns, rows: [] });
    for (let at = 0; at < table.rows.length;) {
      const size = 1 + Math.floor(rand() * 40);
      const rows = table.rows.slice(at, at + size);
      at += size;
      // As JSON lines give them: a column appears with the first row that has a value in it.
      const width = growColumns
        ? Math.max(0, ...table.rows.slice(0, at).map((r) => r.reduce<number>((w, c, i) => (c === null ? w : i + 1), 0)))
        : table.columns.length;
      validator.add({ columns: table.columns.slice(0, width), rows: rows.map((r) => trimmed(r, width)) });
    }
    return validator.finish(counter.count());
  } finally {
    counter.dispose();
  }
}

/** A row cut to `width` cells, and to its last value (the shorter rows JSON lines give). */
function trimmed(row: Row, width: number): Row {
  const out = row.slice(0, width);
  while (out.length > 0 && out[out.length - 1] === null) out.pop();
  return out;
}

/** A table whose rows repeat: whole rows, ids, rows differing only in a column the pipeline does not use. */
function tableWithRepeats(seed: number, rows: number): Table {
  const rand = mulberry32(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
  const out: Row[] = [];
  for (let i = 0; i < rows; i++) {
    if (out.length > 0 && rand() < 0.2) {
      out.push([...pick(out)]);
      continue;
    }
    out.push([
      `c${Math.floor(rand() * rows * 0.9)}`,
      pick(['1', '2', '3', null, '4.5']),
      pick(['basic', 'pro', null]),
      pick(['yes', 'no']),
      pick([null, null, 'note', 'other']),
    ]);
  }
  return { columns: ['customer_id', 'tenure', 'plan', 'churned', 'comment'], rows: out };
}

describe('DatasetValidator counts duplicates as validateDataset does', () => {
  it.each([
    ['whole rows', {}],
    ['ids', { idColumn: 'customer_id' }],
  ])('by %s, in batches of any size', (_what, over) => {
    const p = pipeline(over);
    for (let seed = 1; seed <= 30; seed++) {
      const table = tableWithRepeats(seed, 1 + seed * 13);
      const expected = validateDataset(table, p);
      expect(streamedReport(table, p, seed), `seed ${seed}`).toEqual(expected);
      expect(expected.duplicateRows, `seed ${seed}`).toBeGreaterThanOrEqual(0);
    }
    const big = tableWithRepeats(99, 3000);
    const report = validateDataset(big, p);
    expect(report.duplicateRows).toBeGreaterThan(300);
    expect(report.problems.map((x) => x.code)).toContain('too_many_duplicates');
    expect(streamedReport(big, p, 99)).toEqual(report);
  });

  it('counts rows of JSON lines that lack keys later lines add as the same rows with those cells missing', () => {
    const table: Table = {
      columns: ['tenure', 'plan', 'churned', 'comment'],
      rows: [
        ['1', 'basic', 'no'],
        ['1', 'basic', 'no', null],
        ['2', 'pro', 'yes', 'late'],
        ['1', 'basic', 'no'],
        ['2', 'pro', 'yes', 'late'],
        ['2', 'pro', 'yes'],
      ].map((r) => [...r, ...new Array<null>(4 - r.length).fill(null)]),
    };
    const p = pipeline();
    const expected = validateDataset(table, p);
    expect(expected.duplicateRows).toBe(3);
    for (let seed = 1; seed <= 10; seed++) expect(streamedReport(table, p, seed, true), `seed ${seed}`).toEqual(expected);
  });

  it('counts an empty dataset as no duplicates', () => {
    const table: Table = { columns: ['tenure', 'plan', 'churned'], rows: [] };
    expect(streamedReport(table, pipeline(), 1)).toEqual(validateDataset(table, pipeline()));
  });

  it('counts the duplicates of 1.2 million rows exactly, past the counter’s in-memory limit', () => {
    const ROWS = 1_200_000;
    const p = pipeline({ idColumn: 'customer_id' });
    const counter = new DuplicateCounter();
    const exact = new Set<number>();
    let exactRepeats = 0;
    const tee: DuplicateSink = {
      add(hash) {
        counter.add(hash);
        if (exact.has(hash)) exactRepeats++;
        else exact.add(hash);
      },
    };
    const validator = new DatasetValidator(p, null, tee);
    // Every 8th row repeats the id of a row 499,999 rows before it (one of its own id, which may be
    // on disk by then).
    const id = (i: number) => (i % 8 === 7 && i >= 500_000 ? i - 499_999 : i);
    let repeats = 0;
    for (let at = 0; at < ROWS; at += 10_000) {
      const rows: Row[] = [];
      for (let i = at; i < at + 10_000; i++) {
        if (id(i) !== i) repeats++;
        rows.push([`c${id(i)}`, String(i % 40), i % 2 ? 'basic' : 'pro', i % 3 ? 'no' : 'yes']);
      }
      validator.add({ columns: ['customer_id', 'tenure', 'plan', 'churned'], rows });
    }
    expect(spilled()).toHaveLength(1);
    const report = validator.finish(counter.count());
    expect(spilled()).toEqual([]);
    expect(report.rows).toBe(ROWS);
    expect(repeats).toBe(87_500);
    expect(exactRepeats).toBe(repeats);
    expect(report.duplicateRows).toBe(repeats);
  });
});
