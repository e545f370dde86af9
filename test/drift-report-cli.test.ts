import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHURN_COLUMNS, generateChurn, toCsv, toJsonLines } from '../examples/data/generators.js';
import { STATTEST_NAMES } from '../lib/drift/stattest-names.js';
const REPO = resolve(import.meta.dirname, '..');

const exec = promisify(execFile);
let dir: string;
let ref: string;
let cur: string;

/** Runs the real `retrain drift-report` binary: no Temporal server involved. */
async function driftReport(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [join(REPO, 'bin/retrain.mjs'), 'drift-report', ...args], { cwd: dir });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'retrain-drift-report-'));
  ref = join(dir, 'reference.csv');
  cur = join(dir, 'current.csv');
  writeFileSync(ref, toCsv(generateChurn({ rows: 1500, seed: 1, drift: 0 }), CHURN_COLUMNS));
  writeFileSync(cur, toCsv(generateChurn({ rows: 1200, seed: 2, drift: 1 }), CHURN_COLUMNS));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface FeatureJson {
  name: string;
  kind: string;
  method: string;
  statistic: number | null;
  pValue: number | null;
  threshold: number;
  drifted: boolean;
}

describe('retrain drift-report', () => {
  it('compares two CSV files and prints the report as JSON', async () => {
    const r = await driftReport(['--reference', ref, '--current', cur, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    const features = out.features as FeatureJson[];
    expect(features.map((f) => [f.name, f.kind])).toEqual([
      ['tenure_months', 'numeric'],
      ['monthly_spend', 'numeric'],
      ['support_tickets', 'numeric'],
      ['seats', 'numeric'],
      ['plan', 'categorical'],
      ['region', 'categorical'],
      ['churned', 'categorical'],
    ]);
    for (const f of features) {
      expect(Object.keys(f)).toEqual(expect.arrayContaining(['name', 'kind', 'method', 'statistic', 'pValue', 'threshold', 'drifted']));
      expect(typeof f.drifted).toBe('boolean');
    }
    const byName = Object.fromEntries(features.map((f) => [f.name, f]));
    expect(byName.tenure_months.drifted).toBe(true);
    expect(byName.support_tickets.drifted).toBe(true);
    expect(out.datasetDrift).toMatchObject({ drifted: true });
    expect(out.datasetDrift.share).toBeGreaterThanOrEqual(0.5);
    // The aliases are the report's own fields.
    expect(out.dataDrift.features).toEqual(out.features);
    expect(out.dataDrift.datasetDrift).toEqual(out.datasetDrift);
    expect(out.kind).toBe('retrain.drift-report/v1');
    expect(out.columns.skipped.map((s: { name: string }) => s.name)).toEqual(['customer_id']);
  });

  it('forces one method with --method psi, and restricts columns with --columns', async () => {
    const r = await driftReport(['--reference', ref, '--current', cur, '--json', '--method', 'psi', '--columns', 'tenure_months,plan']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.features.map((f: FeatureJson) => [f.name, f.method, f.pValue, f.threshold])).toEqual([
      ['tenure_months', 'psi', null, 0.1],
      ['plan', 'psi', null, 0.1],
    ]);
  });

  it('prints a readable table and writes the HTML report atomically with --html', async () => {
    const html = join(dir, 'out', 'report.html');
    const r = await driftReport(['--reference', ref, '--current', cur, '--html', html]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/tenure_months\s+numeric\s+wasserstein\s+[\d.]+\s+—\s+0\.1\s+DRIFTED/);
    expect(r.stdout).toContain('Dataset drift: YES');
    expect(r.stdout).toContain(`HTML report: ${html}`);
    const page = readFileSync(html, 'utf8');
    expect(page).toMatch(/^<!doctype html>/);
    expect(page.split('<svg').length - 1).toBe(7);
    expect(readdirSync(join(dir, 'out'))).toEqual(['report.html']); // no temporary file left behind
  });

  it('reads JSON lines by extension', async () => {
    const jsonl = join(dir, 'current.jsonl');
    writeFileSync(jsonl, toJsonLines(generateChurn({ rows: 300, seed: 3, drift: 0 })));
    const r = await driftReport(['--reference', ref, '--current', jsonl, '--json', '--columns', 'seats,region']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).features.map((f: FeatureJson) => f.kind)).toEqual(['numeric', 'categorical']);
  });

  it('rejects an unknown --method with exit 2, naming the allowed ones', async () => {
    const r = await driftReport(['--reference', ref, '--current', cur, '--method', 'magic']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--method');
    for (const name of STATTEST_NAMES) expect(r.stderr).toContain(name);
  });

  it('rejects a method that does not fit a column kind with exit 2', async () => {
    const r = await driftReport(['--reference', ref, '--current', cur, '--method', 'ks']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--method ks takes numeric columns only, but plan, region, churned are categorical/);
    expect(r.stderr).toContain('--columns');
  });

  it('exits 2 with a clear message for a missing file, an empty file or no common columns', async () => {
    const missing = await driftReport(['--reference', join(dir, 'nope.csv'), '--current', cur]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('nope.csv: no such file');

    const empty = join(dir, 'empty.csv');
    writeFileSync(empty, '');
    const e = await driftReport(['--reference', ref, '--current', empty]);
    expect(e.code).toBe(2);
    expect(e.stderr).toContain('empty.csv is empty');

    const other = join(dir, 'other.csv');
    writeFileSync(other, 'a,b\n1,2\n');
    const o = await driftReport(['--reference', ref, '--current', other]);
    expect(o.code).toBe(2);
    expect(o.stderr).toContain('no column in common');

    const noFlag = await driftReport(['--reference', ref]);
    expect(noFlag.code).toBe(2);
    expect(noFlag.stderr).toContain('--current');
    expect(existsSync(join(dir, 'drift-report.html'))).toBe(false);
  });
});

describe('retrain drift-report --help', () => {
  it('shows every flag with its default and the column-kind rule, reading no file', async () => {
    const r = await driftReport(['--reference', join(dir, 'nope.csv'), '--help']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    for (const flag of [
      '--reference FILE',
      '--current FILE',
      '--json',
      '--html FILE',
      '--method NAME',
      '--columns a,b,c',
      '--drift-share X',
    ]) {
      expect(r.stdout).toMatch(new RegExp(`^ {2}${flag.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} `, 'm'));
    }
    expect(r.stdout).toMatch(/--drift-share X +.*\(default: 0\.5\)/);
    expect(r.stdout).toMatch(/--method NAME +.*\(default: chosen per column\)/);
    for (const name of STATTEST_NAMES) expect(r.stdout).toContain(name);
    expect(r.stdout).toContain('Column kinds: a column is numeric when');
  });

  it('rejects a --drift-share outside 0..1 with exit 2, naming the flag', async () => {
    const r = await driftReport(['--reference', ref, '--current', cur, '--drift-share', '2']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--drift-share: a share between 0 and 1/);
  });
});

describe('retrain drift-report on too few rows', () => {
  /** A file of the first `rows` generated churn rows. */
  function small(name: string, rows: number, seed: number): string {
    const path = join(dir, name);
    writeFileSync(path, toCsv(generateChurn({ rows, seed, drift: 1 }), CHURN_COLUMNS));
    return path;
  }

  it('says "not enough data" for a one-row current file, never drift or no drift, and exits 0', async () => {
    const one = small('one-row.csv', 1, 4);
    const r = await driftReport(['--reference', ref, '--current', one]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      'Not enough data: the current file has 1 row, fewer than the 30 per file a verdict needs (--min-rows); no column was tested, so there is no verdict.',
    );
    expect(r.stdout).not.toMatch(/Dataset drift|DRIFTED|No drift|Drift detected/);

    const json = await driftReport(['--reference', ref, '--current', one, '--json']);
    expect(json.code).toBe(0);
    const out = JSON.parse(json.stdout);
    expect(out).toMatchObject({ verdict: 'not enough data', minRows: 30, drifted: null, datasetDrift: null, features: [] });
    expect(out.dataDrift.datasetDrift).toBeNull();
    expect(out.summary).toMatch(/^Not enough data: /);
  });

  it('keeps the numeric columns of a one-row reference numeric, and writes no HTML page without a verdict', async () => {
    const one = small('one-row-reference.csv', 1, 5);
    const html = join(dir, 'no-verdict.html');
    const r = await driftReport(['--reference', one, '--current', cur, '--json', '--html', html]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.verdict).toBe('not enough data');
    expect(out.summary).toContain('the reference file has 1 row');
    expect(out.columns.untested.map((c: { name: string; kind: string }) => [c.name, c.kind])).toEqual([
      ['customer_id', 'categorical'],
      ['tenure_months', 'numeric'],
      ['monthly_spend', 'numeric'],
      ['support_tickets', 'numeric'],
      ['seats', 'numeric'],
      ['plan', 'categorical'],
      ['region', 'categorical'],
      ['churned', 'categorical'],
    ]);
    expect(r.stderr).toContain('HTML report not written');
    expect(existsSync(html)).toBe(false);
  });

  it('gives a verdict from --min-rows rows on, and says which in the JSON', async () => {
    const few = small('few-rows.csv', 40, 6);
    const refused = await driftReport(['--reference', ref, '--current', few, '--json', '--min-rows', '50']);
    expect(JSON.parse(refused.stdout).verdict).toBe('not enough data');
    const r = await driftReport(['--reference', ref, '--current', few, '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(['drift', 'no drift']).toContain(out.verdict);
    expect(out.verdict).toBe(out.drifted ? 'drift' : 'no drift');
    expect(out.features).toHaveLength(7);

    const bad = await driftReport(['--reference', ref, '--current', few, '--min-rows', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--min-rows/);
  });

  it('documents --min-rows and its default in --help', async () => {
    const r = await driftReport(['--help']);
    expect(r.stdout).toMatch(/^ {2}--min-rows N +.*\(default: 30\)/m);
    expect(r.stdout).toContain('not enough data');
  });

  it('reads a column that looks numeric for thousands of rows, then has text, as categories (read again as cells)', async () => {
    // 5,000 distinct numbers, then "n/k": the reference column is categorical, and every value distinct (an id?).
    const rows = (n: number, last: string) => [...Array.from({ length: n }, (_, i) => `${i},${i % 7}`), `${last},3`];
    writeFileSync(join(dir, 'late-ref.csv'), ['code,level', ...rows(5000, 'n/k')].join('\n'));
    writeFileSync(join(dir, 'late-cur.csv'), ['code,level', ...rows(4000, 'x')].join('\n'));
    const r = await driftReport(['--reference', 'late-ref.csv', '--current', 'late-cur.csv', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { columns: { tested: { name: string; kind: string }[]; skipped: { name: string }[] } };
    expect(out.columns.skipped.map((s) => s.name)).toEqual(['code']);
    expect(out.columns.tested).toEqual([{ name: 'level', kind: 'numeric' }]);
    const named = await driftReport(['--reference', 'late-ref.csv', '--current', 'late-cur.csv', '--json', '--columns', 'code']);
    expect((JSON.parse(named.stdout) as { columns: { tested: unknown[] } }).columns.tested).toEqual([
      { name: 'code', kind: 'categorical' },
    ]);
  });
});
