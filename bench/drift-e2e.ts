/**
 * The end-to-end case of bench/drift.ts (issue 12, first row of its table): `retrain drift-report`
 * on two CSV files, as a user runs it, against pandas.read_csv + the same scipy tests and against
 * Evidently's DataDriftPreset, each in a fresh process of its own, in the same run.
 *
 * Per size N (rows per file): bench/drift_e2e_peer.py generate (numpy + pyarrow, seeded) writes
 * ref.csv and cur.csv, N rows x 25 columns (20 numerical, 5 categorical; about 282 bytes a row,
 * 282 MB at 1e6), the current file drifted on 6 columns. Then, one after the other, each under
 * `drift_e2e_peer.py measure` (wall time, ru_maxrss and CPU from os.wait4; a child past the
 * memory limit is killed and its cell says "stopped: past N GiB"):
 *   - ours:          node bin/retrain.mjs drift-report --reference ref.csv --current cur.csv --json
 *   - pandas+scipy:  drift_e2e_peer.py scipy (read_csv of both, then the test the CLI picks per column)
 *   - Evidently:     drift_e2e_peer.py evidently (read_csv of both, Report([DataDriftPreset()]).run)
 * and compares the tests each ran and their statistics. Called by bench/drift.ts (--cases e2e).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { gist, lastLine } from './child-output';

const REPO = resolve(import.meta.dirname, '..');
const PEER = join(REPO, 'bench/drift_e2e_peer.py');
const CLI = join(REPO, 'bin/retrain.mjs');
const MiB = 1024 * 1024;
const KiB_PER_GiB = 1024 * 1024;

/** Issue 12's goals for this case, printed next to the result (not enforced). */
export const E2E_GOALS = {
  /** pandas+scipy wall time / ours, at least. */
  vsScipy: 2,
  /** Evidently wall time / ours, at least. */
  vsEvidently: 10,
  /** Our peak RSS, at most (KiB). */
  peakRssKiB: KiB_PER_GiB,
};

export interface E2eOptions {
  sizes: number[];
  seed: number;
  /** A measured process whose RSS passes this (KiB) is killed. */
  maxRssKiB: number;
  keepData: boolean;
}

export interface E2ePythons {
  /** Runs the launcher (standard library only) and the pandas+scipy peer (pandas, scipy). */
  scipy: string;
  /** Generates the CSV files (numpy, pyarrow). */
  generator: string;
  /** The Evidently venv, or null to leave Evidently out. */
  evidently: string | null;
}

/** What `drift_e2e_peer.py measure` reports of one process. */
interface Measured {
  wallSeconds: number;
  maxRssKiB: number;
  sampledRssKiB: number;
  cpuSeconds: number;
  exitCode: number | null;
  signal: number | null;
  stoppedAtKiB: number | null;
  stoppedAfterSeconds: number | null;
}

type Outcome<T> = { ok: true; proc: Measured; value: T } | { ok: false; proc: Measured | null; error: string };

interface OurFeature {
  name: string;
  kind: string;
  method: string;
  statistic: number | null;
  pValue: number | null;
  drifted: boolean;
}
interface OurReport {
  reference: { rows: number };
  current: { rows: number };
  features: OurFeature[];
  datasetDrift: { driftedCount: number; featureCount: number };
}
interface Phases {
  imports: number;
  read: number;
  tests: number;
  results?: number;
}
interface ScipyOut {
  phases: Phases;
  rows: { reference: number; current: number };
  features: { name: string; kind: string; method: string; statistic: number; pValue: number | null }[];
  versions: Record<string, string>;
}
interface EvidentlyOut {
  phases: Phases;
  rows: { reference: number; current: number };
  features: { name: string; method: string; score: number; threshold: number }[];
  driftedCount: number | null;
  versions: Record<string, string>;
}
interface Generated {
  seconds: number;
  referenceBytes: number;
  currentBytes: number;
  numeric: string[];
  categorical: string[];
  drifted: string[];
}

export interface E2eRow {
  rows: number;
  gen: Generated;
  ours: Outcome<OurReport>;
  scipy: Outcome<ScipyOut>;
  evidently?: Outcome<EvidentlyOut>;
}

export interface E2eResult {
  rows: E2eRow[];
  /** `drift-report --help` in a fresh process: Node, tsx and the CLI's modules, no data. */
  startup: Outcome<null>;
  opts: E2eOptions;
  withEvidently: boolean;
}

/** What the kernel says can be allocated without swapping (MemAvailable), less 2 GiB for everything else, KiB (as bench/data.ts). */
export function defaultMaxRssKiB(): number {
  const m = /^MemAvailable:\s+(\d+) kB$/m.exec(readFileSync('/proc/meminfo', 'utf8'));
  if (!m) throw new Error('no MemAvailable in /proc/meminfo (Linux only): pass --max-rss-gib');
  return Math.max(KiB_PER_GiB, Number(m[1]) - 2 * KiB_PER_GiB);
}

const gib = (kib: number) => (kib / KiB_PER_GiB).toFixed(kib % KiB_PER_GiB === 0 ? 0 : 1);
const mib = (kib: number) => (kib / 1024).toFixed(0);
const fmtRows = (n: number) => {
  const e = Math.floor(Math.log10(n));
  const m = n / 10 ** e;
  return Number.isInteger(m) && e >= 3 ? `${m}e${e}` : n.toLocaleString('en-US');
};

/** Runs `cmd` under the launcher; `parse` reads its stdout. A failed or stopped run is an outcome, not an exception. */
function measure<T>(
  launcher: string,
  dir: string,
  label: string,
  cmd: string[],
  maxRssKiB: number,
  parse: (stdout: string) => T,
): Outcome<T> {
  const out = join(dir, `${label}.stdout`);
  const err = join(dir, `${label}.stderr`);
  const r = spawnSync(
    launcher,
    [PEER, 'measure', '--max-rss-kib', String(Math.round(maxRssKiB)), '--stdout', out, '--stderr', err, '--', ...cmd],
    { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 16 * MiB },
  );
  if (r.error) return { ok: false, proc: null, error: `could not run the launcher: ${r.error.message}` };
  if (r.status !== 0) return { ok: false, proc: null, error: `the launcher failed (exit ${r.status ?? r.signal})` };
  const proc = JSON.parse(lastLine(r.stdout)) as Measured;
  const stderr = existsSync(err) ? readFileSync(err, 'utf8') : '';
  if (proc.stoppedAtKiB !== null) {
    return {
      ok: false,
      proc,
      error: `stopped: past ${gib(maxRssKiB)} GiB (${mib(proc.stoppedAtKiB)} MiB after ${proc.stoppedAfterSeconds!.toFixed(1)} s)`,
    };
  }
  if (proc.exitCode !== 0) {
    const how = proc.exitCode === null ? `signal ${proc.signal}` : `exit ${proc.exitCode}`;
    return {
      ok: false,
      proc,
      error: `failed (${how} after ${proc.wallSeconds.toFixed(1)} s, peak RSS ${mib(proc.maxRssKiB)} MiB): ${gist(stderr)}`,
    };
  }
  try {
    return { ok: true, proc, value: parse(readFileSync(out, 'utf8')) };
  } catch (e) {
    return { ok: false, proc, error: `unreadable output: ${(e as Error).message}` };
  }
}

function checkRows(what: string, got: { reference: number; current: number }, rows: number): void {
  if (got.reference !== rows || got.current !== rows)
    throw new Error(`${what} read ${got.reference} and ${got.current} rows, not ${rows} each`);
}

export function runE2e(opts: E2eOptions, py: E2ePythons, progress: (message: string) => void): E2eResult {
  const dirs: string[] = [];
  const cleanUp = () => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  };
  const onSigint = () => {
    cleanUp();
    process.exit(130);
  };
  process.once('SIGINT', onSigint);
  const rows: E2eRow[] = [];
  const ev = py.evidently;
  progress(
    `e2e: a measured process is stopped past ${gib(opts.maxRssKiB)} GiB RSS (--max-rss-gib); sides: ours, pandas+scipy${ev ? ', Evidently' : ''}`,
  );
  const scratch = mkdtempSync(join(os.tmpdir(), 'retrain-drift-e2e-'));
  dirs.push(scratch);
  const startup = measure(py.scipy, scratch, 'startup', [process.execPath, CLI, 'drift-report', '--help'], opts.maxRssKiB, () => null);
  try {
    for (const n of opts.sizes) {
      const label = fmtRows(n);
      const dir = mkdtempSync(join(os.tmpdir(), 'retrain-drift-e2e-'));
      dirs.push(dir);
      const ref = join(dir, 'ref.csv');
      const cur = join(dir, 'cur.csv');
      progress(`e2e ${label}: generating ref.csv and cur.csv (numpy, seed ${opts.seed}) in ${dir}`);
      const g = spawnSync(
        py.generator,
        [PEER, 'generate', '--rows', String(n), '--seed', String(opts.seed), '--reference', ref, '--current', cur],
        { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' },
      );
      if (g.status !== 0) throw new Error(`generating the CSV files failed (exit ${g.status ?? g.signal}): run \`node scripts/setup.mjs\``);
      const gen = JSON.parse(lastLine(g.stdout)) as Generated;
      spawnSync('sync'); // the files' writeback, untimed, not in the first side's time
      progress(
        `e2e ${label}: ${(gen.referenceBytes / MiB).toFixed(1)} + ${(gen.currentBytes / MiB).toFixed(1)} MiB in ${gen.seconds.toFixed(1)} s; ours (retrain drift-report)`,
      );

      const ours = measure(
        py.scipy,
        dir,
        'ours',
        [process.execPath, CLI, 'drift-report', '--reference', ref, '--current', cur, '--json'],
        opts.maxRssKiB,
        (stdout) => {
          const report = JSON.parse(stdout) as OurReport;
          checkRows('drift-report', { reference: report.reference.rows, current: report.current.rows }, n);
          return report;
        },
      );
      progress(`e2e ${label}: ours ${describe(ours)}; pandas+scipy`);
      const scipy = measure(
        py.scipy,
        dir,
        'scipy',
        [py.scipy, PEER, 'scipy', '--reference', ref, '--current', cur],
        opts.maxRssKiB,
        (stdout) => {
          const o = JSON.parse(lastLine(stdout)) as ScipyOut;
          checkRows('pandas', o.rows, n);
          return o;
        },
      );
      progress(`e2e ${label}: pandas+scipy ${describe(scipy)}`);
      let evidently: Outcome<EvidentlyOut> | undefined;
      if (ev) {
        progress(`e2e ${label}: Evidently (DataDriftPreset)`);
        evidently = measure(
          py.scipy,
          dir,
          'evidently',
          [ev, PEER, 'evidently', '--reference', ref, '--current', cur],
          opts.maxRssKiB,
          (stdout) => {
            const o = JSON.parse(lastLine(stdout)) as EvidentlyOut;
            checkRows('Evidently', o.rows, n);
            return o;
          },
        );
        progress(`e2e ${label}: Evidently ${describe(evidently)}`);
      }
      rows.push({ rows: n, gen, ours, scipy, evidently });
      if (opts.keepData) {
        dirs.splice(dirs.indexOf(dir), 1);
        progress(`e2e ${label}: done, CSV files kept in ${dir} (--keep-data): delete them when done`);
      } else {
        rmSync(dir, { recursive: true, force: true });
        dirs.splice(dirs.indexOf(dir), 1);
        progress(`e2e ${label}: done, CSV files deleted`);
      }
    }
  } finally {
    cleanUp();
    process.removeListener('SIGINT', onSigint);
  }
  return { rows, startup, opts, withEvidently: Boolean(ev) };
}

function describe(o: Outcome<unknown>): string {
  if (!o.ok) return o.error;
  return `${o.proc.wallSeconds.toFixed(2)} s, peak RSS ${mib(o.proc.maxRssKiB)} MiB, CPU ${o.proc.cpuSeconds.toFixed(2)} s`;
}

// ---------------------------------------------------------------------------------------------
// Report

const relDiff = (a: number | null | undefined, b: number | null | undefined): number => {
  if (a === b) return 0;
  if (a === null || a === undefined || b === null || b === undefined || !Number.isFinite(a) || !Number.isFinite(b)) return Infinity;
  return Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b));
};
const fmtDiff = (d: number) => (d === 0 ? '0' : d.toExponential(1));
/** The score Evidently reports: the p-value for tests that have one, else the statistic. */
const P_VALUE_TESTS = new Set(['ks', 'chisquare', 'z']);

/** Same test per column, and the largest relative difference of the statistic (p-value where Evidently gives one). */
function agreement(ours: OurReport, peer: { name: string; method: string; value: number | null }[], pick: 'statistic' | 'score') {
  const byName = new Map(ours.features.map((f) => [f.name, f]));
  const otherMethod: string[] = [];
  let worst = { d: 0, at: '' };
  for (const f of peer) {
    const o = byName.get(f.name);
    if (!o) {
      otherMethod.push(`${f.name} (not in ours)`);
      continue;
    }
    if (o.method !== f.method) otherMethod.push(`${f.name} (ours ${o.method}, peer ${f.method})`);
    const mine = pick === 'score' && P_VALUE_TESTS.has(o.method) ? o.pValue : o.statistic;
    const d = relDiff(mine, f.value);
    if (d > worst.d || !worst.at) worst = { d, at: f.name };
  }
  const missing = ours.features.filter((f) => !peer.some((p) => p.name === f.name)).map((f) => f.name);
  return { otherMethod, worst, missing };
}

function methodsOf(features: { method: string }[]): string {
  const count = new Map<string, number>();
  for (const f of features) count.set(f.method, (count.get(f.method) ?? 0) + 1);
  return [...count].map(([m, k]) => `${m} x${k}`).join(', ');
}

export function printE2e(result: E2eResult): void {
  const { rows, withEvidently: ev, opts } = result;
  const time = (o: Outcome<unknown> | undefined) => (!o ? 'n/a' : o.ok ? o.proc.wallSeconds.toFixed(2) : o.error);
  const rss = (o: Outcome<unknown> | undefined) =>
    !o ? 'n/a' : o.ok ? mib(o.proc.maxRssKiB) : o.proc ? `(${mib(Math.max(o.proc.maxRssKiB, o.proc.sampledRssKiB))} when it ended)` : 'n/a';
  const ratio = (peer: Outcome<unknown> | undefined, ours: Outcome<unknown>, field: 'wallSeconds' | 'maxRssKiB') =>
    peer?.ok && ours.ok ? (peer.proc[field] / ours.proc[field]).toFixed(2) : 'n/a';

  console.log('');
  console.log(
    '### End to end: `retrain drift-report` on two CSV files (N rows each, 20 numerical + 5 categorical columns), against pandas+scipy' +
      (ev ? ' and Evidently' : ''),
  );
  console.log('');
  console.log(
    'Each side is one fresh process, start to exit (imports and reading included); peak RSS is its ru_maxrss. Ratios are peer / ours: above 1, ours is faster or smaller.',
  );
  console.log('');
  const head = [
    'rows',
    'CSV MiB each',
    'ours s',
    'ours peak RSS MiB',
    'pandas+scipy s',
    'pandas+scipy peak RSS MiB',
    'time pandas+scipy / ours',
    'RSS pandas+scipy / ours',
    ...(ev ? ['Evidently s', 'Evidently peak RSS MiB', 'time Evidently / ours', 'RSS Evidently / ours'] : []),
  ];
  console.log(`| ${head.join(' | ')} |`);
  console.log(`|${head.map(() => '---:').join('|')}|`);
  for (const r of rows) {
    const cells = [
      fmtRows(r.rows),
      (r.gen.referenceBytes / MiB).toFixed(0),
      time(r.ours),
      rss(r.ours),
      time(r.scipy),
      rss(r.scipy),
      ratio(r.scipy, r.ours, 'wallSeconds'),
      ratio(r.scipy, r.ours, 'maxRssKiB'),
      ...(ev
        ? [time(r.evidently), rss(r.evidently), ratio(r.evidently, r.ours, 'wallSeconds'), ratio(r.evidently, r.ours, 'maxRssKiB')]
        : []),
    ];
    console.log(`| ${cells.join(' | ')} |`);
  }

  console.log('');
  console.log('### End to end, inside each process (s; peers time their phases themselves, ours is only seen from outside)');
  console.log('');
  console.log('| rows | side | process s | CPU s | imports s | read_csv s | tests s | peak RSS MiB |');
  console.log('|---:|:---|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const line = (side: string, o: Outcome<{ phases?: Phases } | OurReport> | undefined) => {
      if (!o) return;
      if (!o.ok) {
        console.log(`| ${fmtRows(r.rows)} | ${side} | ${o.error} | | | | | ${rss(o)} |`);
        return;
      }
      const ph = 'phases' in o.value ? (o.value.phases as Phases) : null;
      const tests = ph ? (ph.tests + (ph.results ?? 0)).toFixed(2) : '';
      console.log(
        `| ${fmtRows(r.rows)} | ${side} | ${o.proc.wallSeconds.toFixed(2)} | ${o.proc.cpuSeconds.toFixed(2)} | ${ph ? ph.imports.toFixed(2) : ''} | ${ph ? ph.read.toFixed(2) : ''} | ${tests} | ${mib(o.proc.maxRssKiB)} |`,
      );
    };
    line('ours', r.ours);
    line('pandas+scipy', r.scipy);
    line('Evidently', r.evidently);
  }
  const s = result.startup;
  console.log(
    s.ok
      ? `Ours before any data: \`retrain drift-report --help\` takes ${s.proc.wallSeconds.toFixed(2)} s and ${mib(s.proc.maxRssKiB)} MiB (Node, tsx and the CLI's modules).`
      : `Ours before any data: \`retrain drift-report --help\` ${s.error}.`,
  );

  console.log('');
  console.log('### End to end: the same tests and results?');
  console.log('');
  for (const r of rows) {
    if (!r.ours.ok) {
      console.log(`- ${fmtRows(r.rows)}: ours ${r.ours.error}; nothing to compare`);
      continue;
    }
    const o = r.ours.value;
    const parts = [`ours ran ${methodsOf(o.features)}, ${o.datasetDrift.driftedCount} of ${o.features.length} columns drifted`];
    if (r.scipy.ok) {
      const a = agreement(
        o,
        r.scipy.value.features.map((f) => ({ name: f.name, method: f.method, value: f.statistic })),
        'statistic',
      );
      parts.push(
        `pandas+scipy: ${a.otherMethod.length || a.missing.length ? `DIFFERENT TESTS (${[...a.otherMethod, ...a.missing.map((m) => `${m} only in ours`)].join('; ')})` : 'same test on every column'}, ` +
          `statistics within ${fmtDiff(a.worst.d)} relative${a.worst.d ? ` (largest at ${a.worst.at})` : ''}`,
      );
    }
    if (r.evidently?.ok) {
      const e = r.evidently.value;
      const a = agreement(
        o,
        e.features.map((f) => ({ name: f.name, method: f.method, value: f.score })),
        'score',
      );
      parts.push(
        `Evidently: ${a.otherMethod.length || a.missing.length ? `DIFFERENT TESTS (${[...a.otherMethod, ...a.missing.map((m) => `${m} only in ours`)].join('; ')})` : 'same test on every column'}, ` +
          `scores within ${fmtDiff(a.worst.d)} relative${a.worst.d ? ` (largest at ${a.worst.at})` : ''}, ${e.driftedCount ?? '?'} columns drifted`,
      );
    }
    console.log(`- ${fmtRows(r.rows)}: ${parts.join('; ')}`);
  }

  console.log('');
  console.log("### End to end against issue 12's goals");
  console.log('');
  for (const r of rows) {
    const parts: string[] = [];
    if (!r.ours.ok) parts.push(`ours did not finish (${r.ours.error}): every goal missed`);
    else {
      const o = r.ours.proc;
      if (r.scipy.ok) {
        const x = r.scipy.proc.wallSeconds / o.wallSeconds;
        parts.push(`${x.toFixed(2)}x pandas+scipy's speed (goal ≥ ${E2E_GOALS.vsScipy}x: ${x >= E2E_GOALS.vsScipy ? 'met' : 'MISSED'})`);
      }
      if (r.evidently?.ok) {
        const x = r.evidently.proc.wallSeconds / o.wallSeconds;
        parts.push(`${x.toFixed(2)}x Evidently's (goal ≥ ${E2E_GOALS.vsEvidently}x: ${x >= E2E_GOALS.vsEvidently ? 'met' : 'MISSED'})`);
      }
      parts.push(
        `peak RSS ${mib(o.maxRssKiB)} MiB (goal ≤ ${mib(E2E_GOALS.peakRssKiB)} MiB: ${o.maxRssKiB <= E2E_GOALS.peakRssKiB ? 'met' : 'MISSED'})`,
      );
    }
    console.log(`- ${fmtRows(r.rows)}: ${parts.join('; ')}`);
  }

  console.log('');
  const sv = rows.find((r) => r.scipy.ok)?.scipy;
  const evv = rows.find((r) => r.evidently?.ok)?.evidently;
  const v = sv?.ok ? sv.value.versions : null;
  const e = evv?.ok ? evv.value.versions : null;
  for (const r of rows) {
    console.log(
      `  ${fmtRows(r.rows)}: ref.csv ${(r.gen.referenceBytes / MiB).toFixed(1)} MiB, cur.csv ${(r.gen.currentBytes / MiB).toFixed(1)} MiB ` +
        `(${(r.gen.referenceBytes / r.rows).toFixed(0)} B a row), generated in ${r.gen.seconds.toFixed(1)} s; drifted in cur.csv: ${r.gen.drifted.join(', ')}`,
    );
  }
  console.log(
    `E2E: seed ${opts.seed}; one run per side and size, in the order ours, pandas+scipy${ev ? ', Evidently' : ''}, all reading the files from the page cache; ` +
      `Node ${process.version} with its default heap limit (as a user runs the CLI); ` +
      `${v ? `pandas ${v.pandas}, numpy ${v.numpy}, scipy ${v.scipy} (Python ${v.python})` : 'pandas+scipy: no result'}` +
      `${e ? `; Evidently ${e.evidently} with pandas ${e.pandas}` : ''}; processes stopped past ${gib(opts.maxRssKiB)} GiB RSS.`,
  );
}
