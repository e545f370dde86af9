import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CHURN_COLUMNS,
  HOUSE_PRICE_COLUMNS,
  createRng,
  generateChurn,
  generateHousePrices,
  toCsv,
  toJsonLines,
  type ChurnRow,
  type HousePriceRow,
} from '../examples/data/generators.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const tempDirs: string[] = [];
afterAll(() => tempDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;
const share = <T>(values: T[], value: T): number => values.filter((v) => v === value).length / values.length;

/** Runs the CLI the way a user would (through tsx), from the repo root. */
function runCli(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'examples/data/generate.ts', ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 30_000,
  });
}

describe('createRng', () => {
  it('repeats its stream for a seed and stays in range', () => {
    const a = createRng(123);
    const b = createRng(123);
    const draws = Array.from({ length: 1000 }, () => a.uniform());
    expect(draws).toEqual(Array.from({ length: 1000 }, () => b.uniform()));
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...draws)).toBeLessThan(1);
  });

  it('draws normals and weighted choices with the requested shape', () => {
    const rng = createRng(5);
    const normals = Array.from({ length: 20_000 }, () => rng.normal(10, 2));
    const m = mean(normals);
    expect(m).toBeCloseTo(10, 1);
    expect(Math.sqrt(mean(normals.map((x) => (x - m) ** 2)))).toBeCloseTo(2, 1);
    const picks = Array.from({ length: 20_000 }, () => rng.choice([1, 3]));
    expect(share(picks, 1)).toBeGreaterThan(0.73);
    expect(share(picks, 1)).toBeLessThan(0.77);
  });

  it('rejects a non-integer seed', () => {
    expect(() => createRng(1.5)).toThrow(RangeError);
  });
});

describe('generateChurn', () => {
  it('gives identical rows for the same seed and different rows for another seed', () => {
    const a = generateChurn({ rows: 300, seed: 42 });
    expect(generateChurn({ rows: 300, seed: 42 })).toEqual(a);
    expect(generateChurn({ rows: 300, seed: 43 })).not.toEqual(a);
  });

  it('pins the stream, so data is the same on every machine', () => {
    // A change here means every seed now yields different data: regenerate the demo CSVs.
    expect(generateChurn({ rows: 2, seed: 7 })).toEqual([
      {
        customer_id: 'c000001',
        tenure_months: 9,
        monthly_spend: 12.13,
        support_tickets: 1,
        seats: 1,
        plan: 'basic',
        region: 'na',
        churned: 'yes',
      },
      {
        customer_id: 'c000002',
        tenure_months: 13,
        monthly_spend: 169.9,
        support_tickets: 1,
        seats: 6,
        plan: 'pro',
        region: 'eu',
        churned: 'yes',
      },
    ]);
  });

  it('produces well-formed rows', () => {
    const rows = generateChurn({ rows: 2000, seed: 7 });
    expect(new Set(rows.map((r) => r.customer_id)).size).toBe(rows.length);
    for (const r of rows) {
      expect(Object.keys(r)).toEqual([...CHURN_COLUMNS]);
      expect(Number.isInteger(r.tenure_months) && r.tenure_months >= 1).toBe(true);
      expect(Number.isInteger(r.support_tickets) && r.support_tickets >= 0).toBe(true);
      expect(Number.isInteger(r.seats) && r.seats >= 1).toBe(true);
      expect(Math.round(r.monthly_spend * 100) / 100).toBe(r.monthly_spend);
      expect(['basic', 'pro', 'enterprise']).toContain(r.plan);
      expect(['na', 'eu', 'apac']).toContain(r.region);
    }
  });

  it.each([7, 1, 2, 3])('churns 20–30%% of customers (seed %i)', (seed) => {
    const yes = share(
      generateChurn({ rows: 2000, seed }).map((r) => r.churned),
      'yes',
    );
    expect(yes).toBeGreaterThanOrEqual(0.2);
    expect(yes).toBeLessThanOrEqual(0.3);
  });

  it('drift lowers tenure, raises tickets, and grows basic, apac and churn shares', () => {
    const base = generateChurn({ rows: 3000, seed: 7, drift: 0 });
    const half = generateChurn({ rows: 3000, seed: 7, drift: 0.5 });
    const full = generateChurn({ rows: 3000, seed: 7, drift: 1 });
    const tenure = (rows: ChurnRow[]) => mean(rows.map((r) => r.tenure_months));
    const tickets = (rows: ChurnRow[]) => mean(rows.map((r) => r.support_tickets));
    expect(tenure(half)).toBeLessThan(tenure(base) * 0.9);
    expect(tenure(full)).toBeLessThan(tenure(half));
    expect(tickets(half)).toBeGreaterThan(tickets(base) * 1.1);
    expect(tickets(full)).toBeGreaterThan(tickets(half));
    const shareOf = (rows: ChurnRow[], key: 'plan' | 'region' | 'churned', value: string) =>
      share(
        rows.map((r) => r[key] as string),
        value,
      );
    expect(shareOf(full, 'plan', 'basic')).toBeGreaterThan(shareOf(base, 'plan', 'basic') + 0.1);
    expect(shareOf(full, 'region', 'apac')).toBeGreaterThan(shareOf(base, 'region', 'apac') + 0.1);
    expect(shareOf(full, 'churned', 'yes')).toBeGreaterThan(shareOf(base, 'churned', 'yes'));
  });

  it('rejects bad options', () => {
    expect(() => generateChurn({ rows: -1, seed: 1 })).toThrow(RangeError);
    expect(() => generateChurn({ rows: 10, seed: 1, drift: 1.5 })).toThrow(RangeError);
  });
});

describe('generateHousePrices', () => {
  it('gives identical rows for the same seed and different rows for another seed', () => {
    const a = generateHousePrices({ rows: 300, seed: 11 });
    expect(generateHousePrices({ rows: 300, seed: 11 })).toEqual(a);
    expect(generateHousePrices({ rows: 300, seed: 12 })).not.toEqual(a);
  });

  it('produces plausible listings', () => {
    const rows = generateHousePrices({ rows: 1500, seed: 11 });
    expect(new Set(rows.map((r) => r.listing_id)).size).toBe(rows.length);
    expect(new Set(rows.map((r) => r.neighbourhood)).size).toBe(5);
    for (const r of rows) {
      expect(Object.keys(r)).toEqual([...HOUSE_PRICE_COLUMNS]);
      expect(r.area_sqm).toBeGreaterThanOrEqual(20);
      expect(r.bedrooms).toBeGreaterThanOrEqual(1);
      expect(r.price).toBeGreaterThan(0);
    }
  });

  it('drift shrinks flats, moves listings out and raises the price level', () => {
    const base = generateHousePrices({ rows: 3000, seed: 11, drift: 0 });
    const full = generateHousePrices({ rows: 3000, seed: 11, drift: 1 });
    const avg = (rows: HousePriceRow[], of: (r: HousePriceRow) => number) => mean(rows.map(of));
    expect(avg(full, (r) => r.area_sqm)).toBeLessThan(avg(base, (r) => r.area_sqm) * 0.9);
    expect(avg(full, (r) => r.distance_km)).toBeGreaterThan(avg(base, (r) => r.distance_km));
    const perSqm = (r: HousePriceRow) => r.price / r.area_sqm;
    expect(avg(full, perSqm)).toBeGreaterThan(avg(base, perSqm) * 1.1);
  });
});

describe('toCsv / toJsonLines', () => {
  it('quotes commas, quotes and newlines so the CSV parses back', () => {
    const rows = [
      { id: 1, name: 'Acme, Inc.', note: 'said "hi"', memo: 'two\nlines' },
      { id: 2, name: 'plain', note: '', memo: null },
    ];
    const text = toCsv(rows, ['id', 'name', 'note', 'memo']);
    expect(text.split('\n')[1]).toBe('1,"Acme, Inc.","said ""hi""","two');
    expect(parse(text, { columns: true })).toEqual([
      { id: '1', name: 'Acme, Inc.', note: 'said "hi"', memo: 'two\nlines' },
      { id: '2', name: 'plain', note: '', memo: '' },
    ]);
  });

  it('round-trips generated data through CSV and JSON Lines', () => {
    const rows = generateChurn({ rows: 50, seed: 3 });
    const parsed = parse(toCsv(rows, CHURN_COLUMNS), { columns: true, cast: true }) as unknown[];
    // csv-parse casts "c000001"-style ids to strings and numeric cells to numbers.
    expect(parsed).toEqual(rows);
    const lines = toJsonLines(rows).trimEnd().split('\n');
    expect(lines.map((line) => JSON.parse(line))).toEqual(rows);
  });
});

describe('demo datasets', () => {
  it.each([
    ['churn.csv', () => toCsv(generateChurn({ rows: 2000, seed: 7 }), CHURN_COLUMNS)],
    ['house-prices.csv', () => toCsv(generateHousePrices({ rows: 1500, seed: 11 }), HOUSE_PRICE_COLUMNS)],
  ])('%s matches the generator', (file, regenerate) => {
    const committed = readFileSync(path.join(repoRoot, 'examples/data', file), 'utf8');
    expect(committed).toBe(regenerate());
    expect(Buffer.byteLength(committed)).toBeLessThan(200_000);
  });
});

describe('generate CLI', () => {
  it('rejects --rows -5 with exit code 2 and names the flag', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'retrain-gen-'));
    tempDirs.push(dir);
    const result = runCli(['--dataset', 'churn', '--rows', '-5', '--out', path.join(dir, 'x.csv')]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('--rows');
    expect(result.stderr).toContain('Usage:');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('writes the dataset atomically into a new directory and reports it', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'retrain-gen-'));
    tempDirs.push(dir);
    const out = path.join(dir, 'nested', 'drifted.jsonl');
    const result = runCli(['--dataset', 'churn', '--rows', '25', '--seed', '9', '--drift', '0.5', '--out', out]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout.trim().split('\n')).toHaveLength(1);
    expect(result.stdout).toContain('25');
    expect(result.stdout).toContain(out);
    expect(readFileSync(out, 'utf8')).toBe(toJsonLines(generateChurn({ rows: 25, seed: 9, drift: 0.5 })));
    expect(readdirSync(path.dirname(out))).toEqual(['drifted.jsonl']); // no temp file left behind
  });
});
