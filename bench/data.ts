/**
 * The dataset steps of a retraining run (snapshot, validate, split: services/datasets.ts) on
 * large data, against pandas reading the same data. Not a test: it measures and prints, it
 * asserts nothing.
 *
 *   node --import tsx bench/data.ts [--sizes 1e5,1e6,1e7] [--sources csv,parquet,postgres]
 *                                   [--repeats 1] [--seed 20240612] [--heap-mib N] [--max-rss-gib N]
 *
 * Per size (rows) it generates the data once into a temporary directory with numpy and pyarrow
 * (bench/data_peer.py generate: 20 columns, seeded, written in chunks), as CSV and/or Parquet,
 * and for PostgreSQL COPYs the CSV into table bench_rows of a real server on loopback
 * (startPostgres from test/helpers/postgres.ts). Then per source, each measurement in a fresh
 * process of its own, ours and pandas alternating:
 *
 * - ours: bench/data-child.ts calls snapshotSource, validateSnapshot and splitSnapshot on a
 *   fresh local store and reports each step's time and the process's peak RSS;
 * - pandas: bench/data_peer.py read calls pandas.read_csv, read_parquet or read_sql.
 *
 * Temporary files, the store and the server are removed at the end (also on Ctrl-C).
 * See bench/README.md for what each column means.
 */
import { checkBenchArgs } from './bench-args';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { findSdkPython } from '../scripts/provision.mjs';
import { startPostgres, type Postgres } from '../test/helpers/postgres';
import type { BenchColumn, ChildArgs, ChildResult } from './data-child';
import { gist, lastLine } from './child-output';

const REPO = resolve(import.meta.dirname, '..');
const CHILD = join(REPO, 'bench/data-child.ts');
const PEER = join(REPO, 'bench/data_peer.py');
const TABLE = 'bench_rows';
/** The variable that gives both sides the PostgreSQL URL (ours: the source's `urlEnv`). */
const DATABASE_URL_ENV = 'BENCH_DATABASE_URL';
const MiB = 1024 * 1024;
const benchStart = Date.now();
const loadStart = os.loadavg()[0].toFixed(2);
/** The goals in bench/README.md, printed next to the result (not enforced). */
const GOAL = {
  /** Our peak RSS at the largest size / at the smallest, at most. */
  rssGrowth: 2,
  /** For CSV: our total time / pandas.read_csv's, at most (throughput at least pandas'). */
  csvRatio: 1,
};

const SOURCES = ['csv', 'parquet', 'postgres'] as const;
type SourceKind = (typeof SOURCES)[number];

// ---------------------------------------------------------------------------------------------
// Options

interface Options {
  sizes: number[];
  sources: SourceKind[];
  repeats: number;
  seed: number;
  /** --max-old-space-size for our child, MiB; null leaves Node's default (as a worker runs). */
  heapMib: number | null;
  /** A measured process whose RSS passes this is stopped (KiB), so a run cannot exhaust the machine's memory. */
  maxRssKiB: number;
}

function parseArgs(argv: string[]): Options {
  const value = checkBenchArgs(
    argv,
    { values: ['--sizes', '--sources', '--repeats', '--seed', '--heap-mib', '--max-rss-gib'] },
    import.meta.url,
  );
  const sizes = (value('--sizes') ?? '1e5,1e6,1e7').split(',').map((s) => Number(s.trim()));
  if (sizes.some((n) => !Number.isInteger(n) || n < 100)) throw new Error('--sizes expects row counts of at least 100, e.g. 1e5,1e6,1e7');
  const sources = (value('--sources') ?? SOURCES.join(',')).split(',').map((s) => s.trim());
  for (const s of sources)
    if (!(SOURCES as readonly string[]).includes(s)) throw new Error(`--sources expects some of ${SOURCES.join(', ')}, got "${s}"`);
  const repeats = Number(value('--repeats') ?? 1);
  if (!(Number.isInteger(repeats) && repeats >= 1)) throw new Error('--repeats expects a positive integer');
  const seed = Number(value('--seed') ?? 20240612);
  if (!(Number.isInteger(seed) && seed >= 0)) throw new Error('--seed expects a non-negative integer');
  const heap = value('--heap-mib');
  const heapMib = heap === undefined ? null : Number(heap);
  if (heapMib !== null && !(Number.isInteger(heapMib) && heapMib > 0)) throw new Error('--heap-mib expects a positive integer (MiB)');
  const maxRss = value('--max-rss-gib');
  const maxRssKiB = maxRss === undefined ? defaultMaxRssKiB() : Number(maxRss) * 1024 * 1024;
  if (!(maxRssKiB >= 1024 * 1024)) throw new Error('--max-rss-gib expects GiB, at least 1');
  return {
    sizes: [...new Set(sizes)].sort((a, b) => a - b),
    sources: SOURCES.filter((s) => sources.includes(s)),
    repeats,
    seed,
    heapMib,
    maxRssKiB,
  };
}

/** What the kernel says can be allocated without swapping (MemAvailable), less 2 GiB for everything else, KiB. */
function defaultMaxRssKiB(): number {
  const m = /^MemAvailable:\s+(\d+) kB$/m.exec(readFileSync('/proc/meminfo', 'utf8'));
  if (!m) throw new Error('no MemAvailable in /proc/meminfo (Linux only): pass --max-rss-gib');
  return Math.max(1024 * 1024, Number(m[1]) - 2 * 1024 * 1024);
}

/** Measured processes still running, so Ctrl-C can end them before it deletes their files. */
const running = new Set<ChildProcess>();

/** Resident set of a running process (VmRSS), KiB; null once it is gone. */
function vmRssKiB(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

function progress(message: string): void {
  process.stderr.write(`[${((Date.now() - benchStart) / 1000).toFixed(1).padStart(6)}s] ${message}\n`);
}

/** 100000 → 1e5, 5000000 → 5e6, 123456 → 123,456. */
function fmtRows(n: number): string {
  const e = Math.floor(Math.log10(n));
  const m = n / 10 ** e;
  return Number.isInteger(m) && e >= 3 ? `${m}e${e}` : n.toLocaleString('en-US');
}

const mib = (kib: number) => (kib / 1024).toFixed(0);

// ---------------------------------------------------------------------------------------------
// Processes

/**
 * Runs a command to its end, its stderr passed through (progress) and its last 8 KB kept;
 * resolves with its stdout and wall time, rejects with the exit and the gist of stderr. Its RSS
 * is checked every 100 ms: past `maxRssKiB` it is killed (and the error says so).
 */
function runProcess(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  maxRssKiB: number,
): Promise<{ stdout: string; wallSeconds: number }> {
  return new Promise((resolveRun, reject) => {
    const started = performance.now();
    const child = spawn(cmd, args, { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    let stdout = '';
    let stderr = '';
    let overLimit = 0;
    /** The largest RSS sampled: the only figure left when the process dies before it can report its peak. */
    let sampledKiB = 0;
    const watch = setInterval(() => {
      const rss = child.pid === undefined ? null : vmRssKiB(child.pid);
      if (rss !== null) sampledKiB = Math.max(sampledKiB, rss);
      if (rss === null || rss <= maxRssKiB) return;
      overLimit = rss;
      child.kill('SIGKILL');
    }, 100);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => {
      process.stderr.write(d);
      stderr = (stderr + d.toString()).slice(-8192);
    });
    child.once('error', (err) => {
      clearInterval(watch);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearInterval(watch);
      running.delete(child);
      const wallSeconds = (performance.now() - started) / 1000;
      if (overLimit)
        reject(
          new Error(
            `stopped after ${wallSeconds.toFixed(1)} s at ${mib(overLimit)} MiB RSS, past the limit of ${mib(maxRssKiB)} MiB (--max-rss-gib)`,
          ),
        );
      else if (code === 0) resolveRun({ stdout, wallSeconds });
      else
        reject(
          new Error(`exit ${code ?? signal} after ${wallSeconds.toFixed(1)} s, RSS sampled up to ${mib(sampledKiB)} MiB: ${gist(stderr)}`),
        );
    });
  });
}

/** Flushes written pages (untimed), so one step's writeback does not land in the next one's time. */
const flush = () => spawnSync('sync');

// ---------------------------------------------------------------------------------------------
// Data

interface Generated {
  rows: number;
  seconds: number;
  csvBytes: number | null;
  parquetBytes: number | null;
  columns: BenchColumn[];
}

interface Loaded {
  rows: number;
  copySeconds: number;
  seconds: number;
  tableBytes: number;
  serverVersion: string;
}

interface Versions {
  python: string;
  pandas: string;
  numpy: string;
  pyarrow: string;
  psycopg: string;
  sqlalchemy: string;
}

async function runPeer<T>(
  python: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  maxRssKiB: number,
): Promise<{ result: T; wallSeconds: number }> {
  const { stdout, wallSeconds } = await runProcess(python, [PEER, ...args], env, maxRssKiB);
  return { result: JSON.parse(lastLine(stdout)) as T, wallSeconds };
}

/** The query both sides read: every column, in the order of the id (the source needs an ORDER BY on a unique key). */
const queryOf = (columns: BenchColumn[]) => `SELECT ${columns.map((c) => c.name).join(', ')} FROM ${TABLE} ORDER BY customer_id`;

// ---------------------------------------------------------------------------------------------
// Measurements

interface Ours {
  snapshot: number;
  validate: number;
  split: number;
  total: number;
  peakKiB: number;
  importKiB: number;
  /** Peak RSS after each step, KiB. */
  afterSnapshotKiB: number;
  afterValidateKiB: number;
  cpuSeconds: number;
  /** Process start to exit, as the parent saw it. */
  processSeconds: number;
  snapshotBytes: number;
}

interface Pandas {
  seconds: number;
  peakKiB: number;
  importKiB: number;
  cpuSeconds: number;
  processSeconds: number;
}

interface PeerRead {
  seconds: number;
  rows: number;
  columns: number;
  peakKiB: number;
  importKiB: number;
  importSeconds: number;
  cpuSeconds: number;
}

/** A measured figure, or why it could not be had (e.g. the process ran out of memory). */
type Cell<T> = { ok: true; value: T } | { ok: false; error: string };

interface Row {
  source: SourceKind;
  rows: number;
  /** Bytes of the source: the file, or the table with its index. */
  sourceBytes: number;
  ours: Cell<Ours>;
  pandas: Cell<Pandas>;
}

interface Context {
  opts: Options;
  python: string;
  env: NodeJS.ProcessEnv;
  dir: string;
  rows: number;
  columns: BenchColumn[];
}

async function measureOurs(ctx: Context, source: SourceKind, run: number): Promise<Ours> {
  const storeDir = join(ctx.dir, `store-${source}-${run}`);
  mkdirSync(storeDir);
  const args: ChildArgs =
    source === 'postgres'
      ? {
          kind: 'postgres',
          query: queryOf(ctx.columns),
          urlEnv: DATABASE_URL_ENV,
          rows: ctx.rows,
          columns: ctx.columns,
          storeDir,
          projectDir: ctx.dir,
        }
      : { kind: source, path: join(ctx.dir, `data.${source}`), rows: ctx.rows, columns: ctx.columns, storeDir, projectDir: ctx.dir };
  const heap = ctx.opts.heapMib ? [`--max-old-space-size=${ctx.opts.heapMib}`] : [];
  try {
    const { stdout, wallSeconds } = await runProcess(
      process.execPath,
      [...heap, '--import', 'tsx', CHILD, JSON.stringify(args)],
      ctx.env,
      ctx.opts.maxRssKiB,
    );
    const r = JSON.parse(lastLine(stdout)) as ChildResult;
    // VmHWM and ru_maxrss are the same counter read two ways; a gap would mean a mistake here.
    if (Math.abs(r.hwmKiB.split - r.maxRssKiB) > 1024)
      progress(`  WARNING: ours: VmHWM ${r.hwmKiB.split} KiB but ru_maxrss ${r.maxRssKiB} KiB`);
    return {
      snapshot: r.snapshotSeconds,
      validate: r.validateSeconds,
      split: r.splitSeconds,
      total: r.snapshotSeconds + r.validateSeconds + r.splitSeconds,
      peakKiB: Math.max(r.hwmKiB.split, r.maxRssKiB),
      importKiB: r.hwmKiB.imports,
      afterSnapshotKiB: r.hwmKiB.snapshot,
      afterValidateKiB: r.hwmKiB.validate,
      cpuSeconds: r.cpuSeconds,
      processSeconds: wallSeconds,
      snapshotBytes: r.snapshotBytes,
    };
  } finally {
    rmSync(storeDir, { recursive: true, force: true });
    flush();
  }
}

async function measurePandas(ctx: Context, source: SourceKind): Promise<Pandas> {
  const where = source === 'postgres' ? ['--query', queryOf(ctx.columns)] : ['--path', join(ctx.dir, `data.${source}`)];
  const { result: r, wallSeconds } = await runPeer<PeerRead>(
    ctx.python,
    ['read', '--source', source, ...where],
    ctx.env,
    ctx.opts.maxRssKiB,
  );
  if (r.rows !== ctx.rows || r.columns !== ctx.columns.length)
    throw new Error(`pandas read ${r.rows} rows × ${r.columns} columns, not ${ctx.rows} × ${ctx.columns.length}`);
  return { seconds: r.seconds, peakKiB: r.peakKiB, importKiB: r.importKiB, cpuSeconds: r.cpuSeconds, processSeconds: wallSeconds };
}

async function attempt<T>(what: string, measure: () => Promise<T>, describe: (v: T) => string): Promise<Cell<T>> {
  progress(what);
  try {
    const value = await measure();
    progress(`${what}: ${describe(value)}`);
    return { ok: true, value };
  } catch (err) {
    const error = (err as Error).message;
    progress(`${what}: FAILED: ${error}`);
    return { ok: false, error };
  }
}

/** The median of each numeric field over the runs; a failed run fails the cell. */
function medianCell<T extends object>(cells: Cell<T>[]): Cell<T> {
  const failed = cells.find((c) => !c.ok);
  if (failed) return failed;
  const values = cells.map((c) => (c as { value: T }).value);
  const med = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  const out = { ...values[0] } as Record<string, unknown>;
  for (const key of Object.keys(out)) out[key] = med(values.map((v) => (v as Record<string, number>)[key]));
  return { ok: true, value: out as T };
}

const describeOurs = (o: Ours) =>
  `snapshot ${o.snapshot.toFixed(2)} s, validate ${o.validate.toFixed(2)} s, split ${o.split.toFixed(2)} s, total ${o.total.toFixed(2)} s ` +
  `(process ${o.processSeconds.toFixed(2)} s, CPU ${o.cpuSeconds.toFixed(2)} s); peak RSS ${mib(o.peakKiB)} MiB ` +
  `(after imports ${mib(o.importKiB)}, snapshot ${mib(o.afterSnapshotKiB)}, validate ${mib(o.afterValidateKiB)}, split ${mib(o.peakKiB)})`;

const describePandas = (p: Pandas) =>
  `read ${p.seconds.toFixed(2)} s (process ${p.processSeconds.toFixed(2)} s, CPU ${p.cpuSeconds.toFixed(2)} s); ` +
  `peak RSS ${mib(p.peakKiB)} MiB (after imports ${mib(p.importKiB)})`;

// ---------------------------------------------------------------------------------------------
// Report

interface Notes {
  versions: Versions;
  pgVersion: string | null;
  /** Per size: how the data was made. */
  data: string[];
}

function printReport(opts: Options, rows: Row[], notes: Notes): void {
  const head = [
    'rows',
    'source MiB',
    'ours snapshot s',
    'ours validate s',
    'ours split s',
    'ours total s',
    'ours rows/s',
    'ours peak RSS MiB',
    'ours RSS vs smallest',
    'pandas read s',
    'pandas peak RSS MiB',
    'ratio (ours / pandas)',
  ];
  const reader = { csv: 'pandas.read_csv', parquet: 'pandas.read_parquet (pyarrow)', postgres: 'pandas.read_sql (SQLAlchemy, psycopg)' };
  for (const source of opts.sources) {
    const mine = rows.filter((r) => r.source === source);
    const base = mine.find((r) => r.ours.ok);
    const baseKiB = base?.ours.ok ? base.ours.value.peakKiB : null;
    console.log('');
    console.log(`### ${source}: snapshot + validate + split (ours) against ${reader[source]}`);
    console.log('');
    console.log(`| ${head.join(' | ')} |`);
    console.log(`|${head.map(() => '---:').join('|')}|`);
    for (const r of mine) {
      const o = r.ours.ok ? r.ours.value : null;
      const p = r.pandas.ok ? r.pandas.value : null;
      const oursCells = o
        ? [
            o.snapshot.toFixed(2),
            o.validate.toFixed(2),
            o.split.toFixed(2),
            o.total.toFixed(2),
            Math.round(r.rows / o.total).toLocaleString('en-US'),
            mib(o.peakKiB),
            baseKiB ? (o.peakKiB / baseKiB).toFixed(2) : 'n/a',
          ]
        : ['failed', '', '', '', '', '', ''];
      const pandasCells = p ? [p.seconds.toFixed(2), mib(p.peakKiB)] : ['failed', ''];
      console.log(
        `| ${[fmtRows(r.rows), (r.sourceBytes / MiB).toFixed(1), ...oursCells, ...pandasCells, o && p ? (o.total / p.seconds).toFixed(2) : 'n/a'].join(' | ')} |`,
      );
    }
    for (const r of mine) {
      if (!r.ours.ok) console.log(`\n${fmtRows(r.rows)}, ours failed: ${r.ours.error}`);
      if (!r.pandas.ok) console.log(`\n${fmtRows(r.rows)}, pandas failed: ${r.pandas.error}`);
    }
    console.log('');
    console.log(goals(source, mine, baseKiB));
  }

  console.log('');
  console.log('### Peak RSS by step (MiB; the high-water mark only grows, so each step shows what it added)');
  console.log('');
  console.log(
    '| source | rows | ours after imports | after snapshot | after validate | after split | pandas after imports | pandas peak |',
  );
  console.log('|:---|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const o = r.ours.ok ? r.ours.value : null;
    const p = r.pandas.ok ? r.pandas.value : null;
    const oc = o ? [o.importKiB, o.afterSnapshotKiB, o.afterValidateKiB, o.peakKiB].map(mib) : ['failed', '', '', ''];
    const pc = p ? [mib(p.importKiB), mib(p.peakKiB)] : ['failed', ''];
    console.log(`| ${[r.source, fmtRows(r.rows), ...oc, ...pc].join(' | ')} |`);
  }

  console.log('');
  for (const line of notes.data) console.log(line);
  const v = notes.versions;
  const cpus = os.cpus();
  console.log(
    `Machine: ${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB RAM, ` +
      `Node ${process.version}${opts.heapMib ? ` (--max-old-space-size=${opts.heapMib})` : ''}, ${os.platform()} ${os.release()}; ` +
      `Python ${v.python} (pandas ${v.pandas}, numpy ${v.numpy}, pyarrow ${v.pyarrow}, psycopg ${v.psycopg}, SQLAlchemy ${v.sqlalchemy})` +
      `${notes.pgVersion ? `; PostgreSQL ${notes.pgVersion}` : ''}; ${opts.repeats === 1 ? 'one run' : `median of ${opts.repeats} runs`} per cell; ` +
      `measured processes stopped past ${mib(opts.maxRssKiB)} MiB RSS; load average ${loadStart} at start, ${os.loadavg()[0].toFixed(2)} at end`,
  );
}

/** The goals of bench/README.md against this run's figures. */
function goals(source: SourceKind, rows: Row[], baseKiB: number | null): string {
  const done = rows.filter((r) => r.ours.ok);
  const parts: string[] = [];
  const first = done[0];
  const last = done.at(-1);
  if (first && last && last !== first && baseKiB) {
    const growth = (last.ours as { value: Ours }).value.peakKiB / baseKiB;
    parts.push(
      `peak RSS at ${fmtRows(last.rows)} / at ${fmtRows(first.rows)} = ${growth.toFixed(2)} (goal ≤ ${GOAL.rssGrowth}: ${growth <= GOAL.rssGrowth ? 'met' : 'not met'})`,
    );
  }
  const failedSizes = rows.filter((r) => !r.ours.ok).map((r) => fmtRows(r.rows));
  if (failedSizes.length) parts.push(`ours failed at ${failedSizes.join(', ')} (goal not met there)`);
  if (source === 'csv') {
    const ratios = rows
      .filter((r) => r.ours.ok && r.pandas.ok)
      .map((r) => ({ rows: r.rows, ratio: (r.ours as { value: Ours }).value.total / (r.pandas as { value: Pandas }).value.seconds }));
    if (ratios.length)
      parts.push(
        `time ours / pandas.read_csv ${ratios.map((x) => `${x.ratio.toFixed(2)} at ${fmtRows(x.rows)}`).join(', ')} ` +
          `(goal ≤ ${GOAL.csvRatio}: ${ratios.every((x) => x.ratio <= GOAL.csvRatio) ? 'met' : 'not met'})`,
      );
  }
  return `Goals, ${source}: ${parts.length ? parts.join('; ') : 'nothing to compare (one size only, or no result)'}.`;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const python = findSdkPython();
  if (!existsSync(python)) throw new Error(`no ${python}: run \`node scripts/setup.mjs\` (it installs test/requirements-sdk.txt there)`);
  const { result: versions } = await runPeer<Versions>(python, ['versions'], process.env, opts.maxRssKiB).catch((err: Error) => {
    throw new Error(`${python} lacks the pandas peer's packages (${err.message}): run \`node scripts/setup.mjs\``);
  });
  const wantPg = opts.sources.includes('postgres');
  progress(`a measured process is stopped past ${mib(opts.maxRssKiB)} MiB RSS (--max-rss-gib)`);
  let server: Postgres | null = null;
  const dirs: string[] = [];
  const cleanUp = async () => {
    for (const child of running) child.kill('SIGKILL');
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
    const s = server;
    server = null;
    await s?.stop();
  };
  process.once('SIGINT', () => void cleanUp().finally(() => process.exit(130)));

  const rows: Row[] = [];
  const notes: Notes = { versions, pgVersion: null, data: [] };
  try {
    if (wantPg) {
      progress('starting PostgreSQL (test/helpers/postgres.ts)');
      server = await startPostgres();
      progress(`PostgreSQL on ${server.host}:${server.port}, database ${server.database}`);
    }
    const env: NodeJS.ProcessEnv = { ...process.env, ...(server ? { [DATABASE_URL_ENV]: server.url } : {}) };
    for (const size of opts.sizes) {
      const label = fmtRows(size);
      const dir = mkdtempSync(join(os.tmpdir(), 'retrain-data-bench-'));
      dirs.push(dir);
      const wantCsv = opts.sources.includes('csv') || wantPg;
      const wantParquet = opts.sources.includes('parquet');
      progress(`${label}: generating ${[wantCsv && 'CSV', wantParquet && 'Parquet'].filter(Boolean).join(' and ')} in ${dir}`);
      const { result: gen } = await runPeer<Generated>(
        python,
        [
          'generate',
          '--rows',
          String(size),
          '--seed',
          String(opts.seed),
          ...(wantCsv ? ['--csv', join(dir, 'data.csv')] : []),
          ...(wantParquet ? ['--parquet', join(dir, 'data.parquet')] : []),
        ],
        env,
        opts.maxRssKiB,
      );
      flush();
      const made = [
        gen.csvBytes !== null && `CSV ${(gen.csvBytes / MiB).toFixed(1)} MiB`,
        gen.parquetBytes !== null && `Parquet ${(gen.parquetBytes / MiB).toFixed(1)} MiB`,
      ].filter(Boolean);
      progress(`${label}: ${made.join(', ')} in ${gen.seconds.toFixed(1)} s`);
      let note = `Data at ${label}: ${gen.columns.length} columns, ${made.join(', ')}, generated in ${gen.seconds.toFixed(1)} s`;
      let tableBytes = 0;
      if (wantPg) {
        progress(`${label}: loading table ${TABLE} (COPY, primary key, VACUUM ANALYZE)`);
        const { result: loaded } = await runPeer<Loaded>(python, ['load-postgres', '--csv', join(dir, 'data.csv')], env, opts.maxRssKiB);
        if (loaded.rows !== size) throw new Error(`${TABLE} has ${loaded.rows} rows after COPY, not ${size}`);
        flush();
        notes.pgVersion = loaded.serverVersion;
        tableBytes = loaded.tableBytes;
        progress(
          `${label}: loaded in ${loaded.seconds.toFixed(1)} s (COPY ${loaded.copySeconds.toFixed(1)} s), table ${(tableBytes / MiB).toFixed(1)} MiB`,
        );
        note += `; PostgreSQL table ${(tableBytes / MiB).toFixed(1)} MiB with its index, loaded in ${loaded.seconds.toFixed(1)} s`;
        if (!opts.sources.includes('csv')) rmSync(join(dir, 'data.csv'), { force: true });
      }
      notes.data.push(`${note}.`);

      const ctx: Context = { opts, python, env, dir, rows: size, columns: gen.columns };
      for (const source of opts.sources) {
        const sourceBytes = source === 'csv' ? gen.csvBytes! : source === 'parquet' ? gen.parquetBytes! : tableBytes;
        const ours: Cell<Ours>[] = [];
        const pandas: Cell<Pandas>[] = [];
        for (let i = 0; i < opts.repeats; i++) {
          const of = opts.repeats > 1 ? ` (${i + 1}/${opts.repeats})` : '';
          // Alternating, so both sides see the same state of the page cache and of the server.
          ours.push(await attempt(`${label} ${source}: ours${of}`, () => measureOurs(ctx, source, i), describeOurs));
          pandas.push(await attempt(`${label} ${source}: pandas${of}`, () => measurePandas(ctx, source), describePandas));
        }
        rows.push({ source, rows: size, sourceBytes, ours: medianCell(ours), pandas: medianCell(pandas) });
      }

      if (server) {
        const client = new pg.Client({ connectionString: server.url });
        await client.connect();
        await client.query(`DROP TABLE IF EXISTS ${TABLE}`);
        await client.end();
      }
      rmSync(dir, { recursive: true, force: true });
      progress(`${label}: done, data deleted`);
    }
  } finally {
    await cleanUp();
  }
  rows.sort((a, b) => opts.sources.indexOf(a.source) - opts.sources.indexOf(b.source) || a.rows - b.rows);
  printReport(opts, rows, notes);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
