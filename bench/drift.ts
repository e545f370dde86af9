/**
 * Drift against scipy, and optionally Evidently, on the same generated data, in three cases.
 * Not a test: it measures and prints, it asserts nothing.
 *
 *   node --import tsx bench/drift.ts [--cases engine,column,e2e] [--evidently] [--seed 20240612] [--keep-data]
 *        engine: [--sizes 1e5,1e6,5e6] [--repeats N] [--chunk-rows 65536] [--no-stream]
 *        column: [--column-rows 1e4] [--column-repeats 100]
 *        e2e:    [--e2e-sizes 1e5,1e6] [--max-rss-gib N]
 *
 * engine: the drift engine (lib/drift, `detectDrift`). Per size (rows per window; reference and
 * current have the same size), 20 numeric and 5 categorical features are generated here from a
 * fixed seed and written once, one little-endian file per column and window (Float64 for numeric,
 * uint8 codes for categorical), to a temporary directory that is deleted afterwards. Each side runs
 * in its own process and reads those bytes:
 *   - TS: a child Node process (heap sized to the data) loads the files and runs `detectDrift`,
 *     one call per test: ks, wasserstein, psi (numeric); chisquare, jensenshannon, psi (categorical);
 *   - scipy: bench/drift_peer.py memory-maps the files and computes the same with scipy/numpy;
 *   - Evidently (--evidently): the same script runs Evidently's legacy stat tests, in a venv of its
 *     own (.retrain/bench-venv, created on first use);
 *   - streaming (unless --no-stream): a child Node process that receives the current window in
 *     chunks of --chunk-rows rows, keeps what the engine needs, then runs the same tests.
 * Then it compares every statistic and p-value between the sides and prints tables.
 * column: the same at --column-rows (1e4) with many repeats, printed as ms per column and test.
 * e2e: `retrain drift-report` on two CSV files against pandas.read_csv + scipy and Evidently's
 * DataDriftPreset, one fresh process each (bench/drift-e2e.ts, bench/drift_e2e_peer.py).
 * See bench/README.md for what each column means.
 */
import { checkBenchArgs } from './bench-args';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { CodedColumn, detectDrift, type FeatureSpec } from '../lib/drift/dataset-drift';
import type { StattestName } from '../lib/drift/stattest-names';
import { chooseStattest } from '../lib/drift/stattests';
import { findPython, findSdkPython } from '../scripts/provision.mjs';
import { defaultMaxRssKiB, printE2e, runE2e, type E2eResult } from './drift-e2e';

const REPO = resolve(import.meta.dirname, '..');
const SELF = fileURLToPath(import.meta.url);
const PEER = join(REPO, 'bench/drift_peer.py');
const BENCH_VENV = join(REPO, '.retrain/bench-venv');
/** Pinned: what installed when this bench was written. Evidently 0.7.x does not import under pandas 3. */
const EVIDENTLY_REQUIREMENTS = ['evidently==0.7.23', 'pandas<3'];
const MiB = 1024 * 1024;
const RSS_SAMPLE_MS = 10;
const WARMUP_ROWS = 20_000;
const benchStart = Date.now();
const loadStart = os.loadavg()[0].toFixed(2);

// ---------------------------------------------------------------------------------------------
// Deterministic data

// A function declaration, not a closure made per call: tsx keeps names by wrapping each new
// closure in a defineProperty call, which would dominate this hot path.
function rotl(v: number, k: number): number {
  return (v << k) | (v >>> (32 - k));
}

/** xoshiro128** seeded by splitmix32 from (seed, stream): one independent stream per column. */
class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare = NaN;
  constructor(seed: number, stream: number) {
    let x = (seed ^ Math.imul(stream + 1, 0x9e3779b9)) | 0;
    const next = () => {
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) | 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
  }
  u32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }
  /** Uniform in the open interval (0, 1), 53 random bits. */
  uniform(): number {
    return ((this.u32() >>> 5) * 67108864 + (this.u32() >>> 6) + 0.5) / 9007199254740992;
  }
  /** Standard normal (Box–Muller, both values used). */
  normal(): number {
    if (!Number.isNaN(this.spare)) {
      const v = this.spare;
      this.spare = NaN;
      return v;
    }
    const r = Math.sqrt(-2 * Math.log(this.uniform()));
    const t = 2 * Math.PI * this.uniform();
    this.spare = r * Math.sin(t);
    return r * Math.cos(t);
  }
}

type Draw = (r: Rng) => number;
interface NumericFeature {
  name: string;
  about: string;
  /** Samplers for both windows; `local` = 1/sqrt(rows), so c * local keeps n*D^2 (and p) about constant across sizes. */
  make(local: number): { ref: Draw; cur: Draw };
}
interface CategoricalFeature {
  name: string;
  about: string;
  /** Category probabilities of both windows (same length, each summing to 1). */
  make(local: number): { ref: number[]; cur: number[] };
}

const normal =
  (mu = 0, sigma = 1): Draw =>
  (r) =>
    mu + sigma * r.normal();
const same = (d: Draw) => () => ({ ref: d, cur: d });
const mixture =
  (w: number): Draw =>
  (r) =>
    (r.uniform() < w ? -2 : 2) + r.normal();
const zipf = (k: number, s: number) => {
  const w = Array.from({ length: k }, (_, i) => 1 / (i + 1) ** s);
  const total = w.reduce((a, b) => a + b, 0);
  return w.map((x) => x / total);
};

const NUMERIC: NumericFeature[] = [
  { name: 'n00', about: 'N(0,1), no drift', make: same(normal()) },
  { name: 'n01', about: 'N(50,10), no drift', make: same(normal(50, 10)) },
  { name: 'n02', about: 'U(0,1), no drift', make: same((r) => r.uniform()) },
  { name: 'n03', about: 'lognormal(0, 0.5), no drift', make: same((r) => Math.exp(0.5 * r.normal())) },
  { name: 'n04', about: 'exponential(mean 3), no drift', make: same((r) => -3 * Math.log(r.uniform())) },
  { name: 'n05', about: 'N(0,1) vs N(2/sqrt(n),1)', make: (l) => ({ ref: normal(), cur: normal(2 * l) }) },
  { name: 'n06', about: 'N(0,1) vs N(4/sqrt(n),1)', make: (l) => ({ ref: normal(), cur: normal(4 * l) }) },
  { name: 'n07', about: 'N(0,1) vs N(6/sqrt(n),1)', make: (l) => ({ ref: normal(), cur: normal(6 * l) }) },
  { name: 'n08', about: 'N(0,1) vs N(8/sqrt(n),1)', make: (l) => ({ ref: normal(), cur: normal(8 * l) }) },
  { name: 'n09', about: 'N(0,1) vs N(12/sqrt(n),1)', make: (l) => ({ ref: normal(), cur: normal(12 * l) }) },
  { name: 'n10', about: 'N(0,1) vs N(0,1+10/sqrt(n))', make: (l) => ({ ref: normal(), cur: normal(0, 1 + 10 * l) }) },
  { name: 'n11', about: 'U(0,100) vs U(1,101)', make: () => ({ ref: (r) => 100 * r.uniform(), cur: (r) => 1 + 100 * r.uniform() }) },
  { name: 'n12', about: 'N(0,1) vs N(0.05,1)', make: () => ({ ref: normal(), cur: normal(0.05) }) },
  { name: 'n13', about: 'N(0,1) vs N(0.5,1)', make: () => ({ ref: normal(), cur: normal(0.5) }) },
  { name: 'n14', about: 'bimodal, weights 0.5 vs 0.52', make: () => ({ ref: mixture(0.5), cur: mixture(0.52) }) },
  { name: 'n15', about: 'Cauchy, no drift (extreme outliers)', make: same((r) => Math.tan(Math.PI * (r.uniform() - 0.5))) },
  {
    name: 'n16',
    about: 'N(0,1) rounded to 0.01 (ties), shift 5/sqrt(n)',
    make: (l) => ({ ref: (r) => Math.round(r.normal() * 100) / 100, cur: (r) => Math.round((r.normal() + 5 * l) * 100) / 100 }),
  },
  {
    name: 'n17',
    about: 'integers 0..9 (value bins, heavy ties), skew 5/sqrt(n)',
    make: (l) => ({ ref: (r) => Math.floor(10 * r.uniform()), cur: (r) => Math.floor(10 * r.uniform() ** (1 + 5 * l)) }),
  },
  { name: 'n18', about: '1e-6 + 1e-9 N(0,1), no drift (std floor)', make: same((r) => 1e-6 + 1e-9 * r.normal()) },
  {
    name: 'n19',
    about: '1e9 + N(0,1) vs shift 3/sqrt(n)',
    make: (l) => ({ ref: (r) => 1e9 + r.normal(), cur: (r) => 1e9 + 3 * l + r.normal() }),
  },
];

const CATEGORICAL: CategoricalFeature[] = [
  { name: 'c0', about: '3 categories, no drift', make: () => ({ ref: [0.5, 0.3, 0.2], cur: [0.5, 0.3, 0.2] }) },
  {
    name: 'c1',
    about: '5 categories, 3/sqrt(n) moved from first to last',
    make: (l) => ({ ref: [0.3, 0.25, 0.2, 0.15, 0.1], cur: [0.3 - 3 * l, 0.25, 0.2, 0.15, 0.1 + 3 * l] }),
  },
  {
    name: 'c2',
    about: '8 categories, uniform vs skewed',
    make: () => ({ ref: Array(8).fill(1 / 8), cur: [0.2, 0.15, 0.15, 0.1, 0.1, 0.1, 0.1, 0.1] }),
  },
  {
    name: 'c3',
    about: '12 categories, one rare (0.5%), no drift',
    make: () => {
      const p = [0.005, ...Array(11).fill(0.995 / 11)];
      return { ref: p, cur: p };
    },
  },
  { name: 'c4', about: '40 categories, Zipf s=1 vs s=1.02', make: () => ({ ref: zipf(40, 1), cur: zipf(40, 1.02) }) },
];

const categories = (f: CategoricalFeature, k: number) => Array.from({ length: k }, (_, i) => `${f.name}_${String(i).padStart(2, '0')}`);

interface ManifestFeature {
  name: string;
  about: string;
  files: { ref: string; cur: string };
  categories?: string[];
}
interface Manifest {
  seed: number;
  rows: number;
  numeric: ManifestFeature[];
  categorical: (ManifestFeature & { categories: string[] })[];
  /** XOR of each file's bytes as little-endian uint32 words (zero-padded): both sides check it. */
  checksums: Record<string, string>;
}

function xor32(bytes: Uint8Array): string {
  const whole = bytes.byteLength - (bytes.byteLength % 4);
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset, whole / 4);
  let x = 0;
  for (let i = 0; i < words.length; i++) x ^= words[i];
  for (let i = whole; i < bytes.byteLength; i++) x ^= bytes[i] << (8 * (i - whole));
  return (x >>> 0).toString(16).padStart(8, '0');
}

function writeColumn(dir: string, file: string, bytes: Uint8Array, checksums: Record<string, string>): void {
  const fd = openSync(join(dir, file), 'w');
  try {
    for (let off = 0; off < bytes.byteLength;) off += writeSync(fd, bytes, off, Math.min(bytes.byteLength - off, 64 * MiB));
  } finally {
    closeSync(fd);
  }
  checksums[file] = xor32(bytes);
}

function fill(col: Float64Array, draw: Draw, rng: Rng): Float64Array {
  for (let k = 0; k < col.length; k++) col[k] = draw(rng);
  return col;
}

/** Generates every column, one at a time, and writes it (little-endian: this machine's order). */
function generate(dir: string, rows: number, seed: number): Manifest {
  if (os.endianness() !== 'LE') throw new Error('this benchmark writes little-endian files from typed arrays');
  const local = 1 / Math.sqrt(rows);
  const checksums: Record<string, string> = {};
  const numeric = NUMERIC.map((f, i) => {
    const draws = f.make(local);
    const files = { ref: `ref.${f.name}.f64`, cur: `cur.${f.name}.f64` };
    for (const window of ['ref', 'cur'] as const) {
      const rng = new Rng(seed, 2 * i + (window === 'cur' ? 1 : 0));
      const draw = draws[window];
      const col = fill(new Float64Array(rows), draw, rng);
      writeColumn(dir, files[window], new Uint8Array(col.buffer), checksums);
    }
    return { name: f.name, about: f.about, files };
  });
  const categorical = CATEGORICAL.map((f, i) => {
    const probs = f.make(local);
    const labels = categories(f, probs.ref.length);
    const files = { ref: `ref.${f.name}.u8`, cur: `cur.${f.name}.u8` };
    for (const window of ['ref', 'cur'] as const) {
      const rng = new Rng(seed, 1000 + 2 * i + (window === 'cur' ? 1 : 0));
      const cdf: number[] = [];
      probs[window].reduce((acc, p) => (cdf.push(acc + p), acc + p), 0);
      const col = new Uint8Array(rows);
      for (let k = 0; k < rows; k++) {
        const u = rng.uniform() * cdf[cdf.length - 1];
        let c = 0;
        while (c < cdf.length - 1 && u >= cdf[c]) c++;
        col[k] = c;
      }
      writeColumn(dir, files[window], col, checksums);
    }
    return { name: f.name, about: f.about, files, categories: labels };
  });
  const manifest: Manifest = { seed, rows, numeric, categorical, checksums };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  return manifest;
}

// ---------------------------------------------------------------------------------------------
// Loading (TS children)

/** Reads `count` elements starting at element `start` of a column file into a fresh typed array. */
function readRange<T extends Float64Array | Uint8Array>(fd: number, make: (n: number) => T, start: number, count: number): T {
  const out = make(count);
  const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  const at = start * out.BYTES_PER_ELEMENT;
  for (let off = 0; off < bytes.byteLength;) {
    const n = readSync(fd, bytes, off, bytes.byteLength - off, at + off);
    if (n === 0) throw new Error('column file shorter than the manifest says');
    off += n;
  }
  return out;
}

function readWhole<T extends Float64Array | Uint8Array>(path: string, make: (n: number) => T, rows: number, checksum: string): T {
  const fd = openSync(path, 'r');
  try {
    const col = readRange(fd, make, 0, rows);
    if (xor32(new Uint8Array(col.buffer, col.byteOffset, col.byteLength)) !== checksum) throw new Error(`checksum mismatch: ${path}`);
    return col;
  } finally {
    closeSync(fd);
  }
}

const f64 = (n: number) => new Float64Array(n);
const u8 = (n: number) => new Uint8Array(n);

/** A window's columns as the engine takes them: numbers, and categories as codes into their labels. */
type Columns = Record<string, Float64Array | CodedColumn>;

/** The codes as the engine's coded column (as numpy counts them: no string per row). */
function decode(codes: Uint8Array, labels: string[]): CodedColumn {
  return new CodedColumn(codes, labels);
}

function loadWindow(dir: string, m: Manifest, window: 'ref' | 'cur'): Columns {
  const cols: Columns = {};
  for (const f of m.numeric) cols[f.name] = readWhole(join(dir, f.files[window]), f64, m.rows, m.checksums[f.files[window]]);
  for (const f of m.categorical) {
    cols[f.name] = decode(readWhole(join(dir, f.files[window]), u8, m.rows, m.checksums[f.files[window]]), f.categories);
  }
  return cols;
}

function sliceColumns(cols: Columns, rows: number): Columns {
  return Object.fromEntries(
    Object.entries(cols).map(([k, v]) => [
      k,
      v instanceof CodedColumn ? new CodedColumn(v.codes.slice(0, rows), v.labels) : v.slice(0, rows),
    ]),
  );
}

// ---------------------------------------------------------------------------------------------
// The measured computation

const GROUPS = [
  { key: 'ks', kind: 'numeric', method: 'ks' },
  { key: 'wasserstein', kind: 'numeric', method: 'wasserstein' },
  { key: 'psi_num', kind: 'numeric', method: 'psi' },
  { key: 'chisquare', kind: 'categorical', method: 'chisquare' },
  { key: 'jensenshannon', kind: 'categorical', method: 'jensenshannon' },
  { key: 'psi_cat', kind: 'categorical', method: 'psi' },
] as const satisfies readonly { key: string; kind: FeatureSpec['kind']; method: StattestName }[];
type GroupKey = (typeof GROUPS)[number]['key'];
const GROUP_LABEL: Record<GroupKey, string> = {
  ks: 'KS',
  wasserstein: 'Wasserstein',
  psi_num: 'PSI num',
  chisquare: 'chi-square',
  jensenshannon: 'Jensen-Shannon',
  psi_cat: 'PSI cat',
};

interface Value {
  statistic?: number | null;
  pValue?: number | null;
}
type Results = Record<GroupKey, Record<string, Value>>;
type Times = Record<GroupKey, number>;

/** One `detectDrift` call per test: every feature of the group's kind, the test named. */
function computeTs(reference: Columns, current: Columns, m: Manifest): { results: Results; times: Times; notes: string[] } {
  const results = {} as Results;
  const times = {} as Times;
  const notes: string[] = [];
  for (const g of GROUPS) {
    const names = (g.kind === 'numeric' ? m.numeric : m.categorical).map((f) => f.name);
    const started = performance.now();
    const report = detectDrift({ reference, current, features: names.map((name) => ({ name, kind: g.kind, method: g.method })) });
    times[g.key] = (performance.now() - started) / 1000;
    results[g.key] = {};
    for (const f of report.features) {
      results[g.key][f.name] = { statistic: f.statistic, pValue: f.pValue };
      if (f.method !== g.method || f.note) notes.push(`${f.name} ${g.method}: ran ${f.method}${f.note ? ` (${f.note})` : ''}`);
    }
  }
  return { results, times, notes };
}

// ---------------------------------------------------------------------------------------------
// Memory: a worker thread samples the process RSS, so sampling goes on while the main thread is
// busy in a synchronous computation (a timer on the main thread would not fire).

function startRssSampler() {
  const peak = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(
    `const { workerData } = require('node:worker_threads');
     const peak = new Int32Array(workerData.sab);
     setInterval(() => {
       const kib = Math.round(process.memoryUsage.rss() / 1024);
       for (let seen = Atomics.load(peak, 0); kib > seen; ) {
         const prev = Atomics.compareExchange(peak, 0, seen, kib);
         if (prev === seen) break;
         seen = prev;
       }
     }, workerData.ms);`,
    { eval: true, workerData: { sab: peak.buffer, ms: RSS_SAMPLE_MS } },
  );
  const nowKiB = () => Math.round(process.memoryUsage.rss() / 1024);
  return {
    /** Starts a new measurement from the current RSS. */
    reset() {
      Atomics.store(peak, 0, nowKiB());
    },
    peakKiB() {
      return Math.max(Atomics.load(peak, 0), nowKiB());
    },
    nowKiB,
    stop() {
      return worker.terminate();
    },
  };
}

/** The kernel's peak RSS (VmHWM); reset through clear_refs where allowed. Linux only, else null. */
function kernelHwm() {
  const read = () => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
      return m ? Number(m[1]) : null;
    } catch {
      return null;
    }
  };
  return {
    reset(): boolean {
      try {
        writeFileSync('/proc/self/clear_refs', '5');
        return true;
      } catch {
        return false;
      }
    },
    read,
  };
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function childLog(role: string, message: string): void {
  console.log(`  [${role}] ${message}`);
}

interface TsChildOutput {
  runs: Times[];
  results: Results;
  notes: string[];
  baselineRssKiB: number;
  peakRssKiB: number;
  hwmKiB: number | null;
  heapMiB: number;
  ingestSeconds?: number;
  retainedCurrentBytes?: number;
}

/** Child role 'ts': whole windows loaded from the files, then the tests, `repeats` times. */
async function tsChild(dir: string, out: string, repeats: number, heapMiB: number): Promise<void> {
  const m: Manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  const rss = startRssSampler();
  const hwm = kernelHwm();
  const reference = loadWindow(dir, m, 'ref');
  const current = loadWindow(dir, m, 'cur');
  childLog('ts', `${m.rows} rows per window loaded and checksummed`);
  computeTs(sliceColumns(reference, WARMUP_ROWS), sliceColumns(current, WARMUP_ROWS), m); // JIT warm-up, not timed
  gc();
  const baselineRssKiB = rss.nowKiB();
  rss.reset();
  const hwmReset = hwm.reset();
  const runs: Times[] = [];
  let last: ReturnType<typeof computeTs> | undefined;
  for (let i = 0; i < repeats; i++) {
    if (i > 0) gc(); // between runs, not timed
    last = computeTs(reference, current, m);
    runs.push(last.times);
    // Many short runs (the per-column case) log every 25th only.
    if (repeats <= 10 || (i + 1) % 25 === 0 || i === repeats - 1)
      childLog('ts', `run ${i + 1}/${repeats}: ${sum(Object.values(last.times)).toFixed(2)} s`);
  }
  const output: TsChildOutput = {
    runs,
    results: last!.results,
    notes: last!.notes,
    baselineRssKiB,
    peakRssKiB: rss.peakKiB(),
    hwmKiB: hwmReset ? hwm.read() : null,
    heapMiB,
  };
  await rss.stop();
  writeFileSync(out, JSON.stringify(output));
}

/**
 * Child role 'stream': the reference is loaded whole (a stored window); the current window
 * arrives in chunks of `chunkRows` rows (each chunk a fresh array, as a decoder would hand it
 * over). The engine has no incremental API and KS/Wasserstein need every value, so the stream
 * keeps one Float64Array of rows per numeric feature (8 B/row; the row count is known up front,
 * as a windowed query can count first) and one array of codes per categorical feature (1 B/row),
 * then runs the same tests once.
 */
async function streamChild(dir: string, out: string, chunkRows: number, heapMiB: number): Promise<void> {
  const m: Manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  const rss = startRssSampler();
  const hwm = kernelHwm();
  const reference = loadWindow(dir, m, 'ref');
  {
    // Warm-up on the first rows of both windows, not timed.
    const head: Columns = {};
    for (const f of m.numeric) {
      const fd = openSync(join(dir, f.files.cur), 'r');
      head[f.name] = readRange(fd, f64, 0, Math.min(WARMUP_ROWS, m.rows));
      closeSync(fd);
    }
    for (const f of m.categorical) {
      const fd = openSync(join(dir, f.files.cur), 'r');
      head[f.name] = decode(readRange(fd, u8, 0, Math.min(WARMUP_ROWS, m.rows)), f.categories);
      closeSync(fd);
    }
    computeTs(sliceColumns(reference, WARMUP_ROWS), head, m);
  }
  gc();
  const baselineRssKiB = rss.nowKiB();
  rss.reset();
  const hwmReset = hwm.reset();

  const started = performance.now();
  const fds = new Map<string, number>();
  for (const f of [...m.numeric, ...m.categorical]) fds.set(f.name, openSync(join(dir, f.files.cur), 'r'));
  const numAcc = new Map(m.numeric.map((f) => [f.name, new Float64Array(m.rows)]));
  const catAcc = new Map(m.categorical.map((f) => [f.name, new Uint8Array(m.rows)]));
  for (let start = 0; start < m.rows; start += chunkRows) {
    const count = Math.min(chunkRows, m.rows - start);
    for (const f of m.numeric) numAcc.get(f.name)!.set(readRange(fds.get(f.name)!, f64, start, count), start);
    for (const f of m.categorical) {
      catAcc.get(f.name)!.set(readRange(fds.get(f.name)!, u8, start, count), start);
    }
  }
  for (const fd of fds.values()) closeSync(fd);
  const current: Columns = {
    ...Object.fromEntries(numAcc),
    ...Object.fromEntries(m.categorical.map((f) => [f.name, decode(catAcc.get(f.name)!, f.categories)])),
  };
  for (const f of m.numeric) {
    const col = current[f.name] as Float64Array;
    if (xor32(new Uint8Array(col.buffer)) !== m.checksums[f.files.cur]) throw new Error(`stream: checksum mismatch for ${f.name}`);
  }
  const ingestSeconds = (performance.now() - started) / 1000;
  childLog(
    'stream',
    `current window streamed in ${Math.ceil(m.rows / chunkRows)} chunks of ${chunkRows} rows (${ingestSeconds.toFixed(2)} s)`,
  );
  const run = computeTs(reference, current, m);
  childLog('stream', `tests: ${sum(Object.values(run.times)).toFixed(2)} s`);
  const output: TsChildOutput = {
    runs: [run.times],
    results: run.results,
    notes: run.notes,
    baselineRssKiB,
    peakRssKiB: rss.peakKiB(),
    hwmKiB: hwmReset ? hwm.read() : null,
    heapMiB,
    ingestSeconds,
    retainedCurrentBytes: m.rows * (8 * m.numeric.length + m.categorical.length),
  };
  await rss.stop();
  writeFileSync(out, JSON.stringify(output));
}

// ---------------------------------------------------------------------------------------------
// Orchestration (parent)

interface Options {
  sizes: number[];
  evidently: boolean;
  repeats: number | null;
  chunkRows: number;
  seed: number;
  stream: boolean;
  /** Leave the data files in place (for profiling); their directory is printed. */
  keepData: boolean;
  /** Which cases run: the engine at --sizes, the engine per column at --column-rows, the CLI end to end at --e2e-sizes. */
  cases: Case[];
  columnRows: number;
  columnRepeats: number;
  e2eSizes: number[];
  /** End-to-end processes past this RSS (KiB) are killed. */
  maxRssKiB: number;
}

const CASES = ['engine', 'column', 'e2e'] as const;
type Case = (typeof CASES)[number];

function parseArgs(argv: string[]): Options {
  const value = checkBenchArgs(
    argv,
    {
      values: [
        '--sizes',
        '--repeats',
        '--chunk-rows',
        '--seed',
        '--cases',
        '--column-rows',
        '--column-repeats',
        '--e2e-sizes',
        '--max-rss-gib',
      ],
      switches: ['--evidently', '--no-stream', '--keep-data'],
    },
    import.meta.url,
  );
  const sizes = (value('--sizes') ?? '1e5,1e6,5e6').split(',').map((s) => Number(s.trim()));
  if (sizes.some((n) => !Number.isInteger(n) || n < WARMUP_ROWS))
    throw new Error(`--sizes expects integers >= ${WARMUP_ROWS}, e.g. 1e5,1e6,5e6`);
  const repeats = value('--repeats') === undefined ? null : Number(value('--repeats'));
  if (repeats !== null && !(Number.isInteger(repeats) && repeats >= 1)) throw new Error('--repeats expects a positive integer');
  const chunkRows = Number(value('--chunk-rows') ?? 65536);
  if (!(Number.isInteger(chunkRows) && chunkRows >= 1)) throw new Error('--chunk-rows expects a positive integer');
  const seed = Number(value('--seed') ?? 20240612);
  if (!Number.isInteger(seed)) throw new Error('--seed expects an integer');
  const cases = (value('--cases') ?? CASES.join(',')).split(',').map((c) => c.trim());
  for (const c of cases)
    if (!(CASES as readonly string[]).includes(c)) throw new Error(`--cases expects some of ${CASES.join(', ')}, got "${c}"`);
  const columnRows = Number(value('--column-rows') ?? 1e4);
  if (!(Number.isInteger(columnRows) && columnRows >= 100)) throw new Error('--column-rows expects an integer >= 100, e.g. 1e4');
  const columnRepeats = Number(value('--column-repeats') ?? 100);
  if (!(Number.isInteger(columnRepeats) && columnRepeats >= 1)) throw new Error('--column-repeats expects a positive integer');
  const e2eSizes = (value('--e2e-sizes') ?? '1e5,1e6').split(',').map((s) => Number(s.trim()));
  if (e2eSizes.some((n) => !Number.isInteger(n) || n < 1000))
    throw new Error('--e2e-sizes expects row counts of at least 1000, e.g. 1e5,1e6,5e6');
  const maxRss = value('--max-rss-gib');
  const wantE2e = cases.includes('e2e');
  const maxRssKiB = maxRss !== undefined ? Number(maxRss) * 1024 * 1024 : wantE2e ? defaultMaxRssKiB() : Infinity;
  if (!(maxRssKiB >= 1024 * 1024)) throw new Error('--max-rss-gib expects GiB, at least 1');
  return {
    sizes,
    cases: CASES.filter((c) => cases.includes(c)),
    columnRows,
    columnRepeats,
    e2eSizes,
    maxRssKiB,
    evidently: argv.includes('--evidently'),
    repeats,
    chunkRows,
    seed,
    stream: !argv.includes('--no-stream'),
    keepData: argv.includes('--keep-data'),
  };
}

function progress(message: string): void {
  console.log(`[${((Date.now() - benchStart) / 1000).toFixed(1).padStart(6)}s] ${message}`);
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
/** Timed runs per size: more where a run is short and noise matters. */
const autoRepeats = (rows: number) => (rows <= 100_000 ? 5 : rows <= 1_000_000 ? 3 : 1);

/**
 * Old-space limit for a TS child: room for three times 8 B per row per categorical column and
 * window, plus 1 GiB, from when the categorical columns were arrays of label references on the V8
 * heap; they are codes now (off-heap, like the Float64Arrays), and the limit is kept so runs stay
 * comparable with earlier ones.
 */
const heapMiBFor = (rows: number) => 1024 + Math.ceil((rows * CATEGORICAL.length * 2 * 8 * 3) / MiB);

function run(cmd: string, args: string[], what: string): void {
  const r = spawnSync(cmd, args, { cwd: REPO, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.error) throw new Error(`${what}: could not run ${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status ?? r.signal})`);
}

function runTsChild(role: 'ts' | 'stream', dir: string, rows: number, extra: string[]): TsChildOutput {
  const out = join(dir, `result-${role}.json`);
  const heap = heapMiBFor(rows);
  run(
    process.execPath,
    [
      `--max-old-space-size=${heap}`,
      '--expose-gc',
      '--import',
      'tsx',
      SELF,
      '--role',
      role,
      '--dir',
      dir,
      '--out',
      out,
      '--heap',
      String(heap),
      ...extra,
    ],
    `TS ${role} side`,
  );
  return JSON.parse(readFileSync(out, 'utf8'));
}

interface PeerOutput {
  mode: string;
  runs: Times[];
  results: Results;
  baselineRssKiB: number;
  peakRssKiB: number;
  versions: Record<string, string>;
  blas: { internal_api: string; version: string; architecture: string; num_threads: number }[] | null;
  openblasEnv: Record<string, string>;
}

function runPeer(python: string, mode: 'scipy' | 'evidently', dir: string, repeats: number): PeerOutput {
  const out = join(dir, `result-${mode}.json`);
  run(
    python,
    [PEER, '--dir', dir, '--mode', mode, '--repeats', String(repeats), '--warmup-rows', String(WARMUP_ROWS), '--out', out],
    `${mode} side`,
  );
  return JSON.parse(readFileSync(out, 'utf8'));
}

/** The Evidently venv, made on first use only (never by set-up or tests); null (skip) when it cannot be had. */
function evidentlyPython(): string | null {
  const python = join(BENCH_VENV, 'bin', 'python');
  const works = () =>
    existsSync(python) && spawnSync(python, ['-c', 'import evidently.legacy.calculations.stattests'], { stdio: 'ignore' }).status === 0;
  if (works()) return python;
  progress(`creating ${BENCH_VENV} with ${EVIDENTLY_REQUIREMENTS.join(' ')} (first use of --evidently)`);
  try {
    if (!existsSync(python)) run('python3', ['-m', 'venv', BENCH_VENV], 'creating the Evidently venv');
    run(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...EVIDENTLY_REQUIREMENTS], 'installing Evidently');
    if (!works()) throw new Error('Evidently installed but does not import');
    return python;
  } catch (err) {
    console.warn(`  WARNING: no Evidently side: ${(err as Error).message}; continuing with TS and scipy only`);
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Comparison

interface Diff {
  max: number;
  /** Feature where the largest difference is. */
  at: string;
  /** The peer's value there (for scale: an absolute difference means little without it). */
  value: number;
}
interface Quantity {
  key: string;
  label: string;
  group: GroupKey;
  field: 'statistic' | 'pValue';
  /** 'abs': |a - b|; 'rel': |a - b| / max(|a|, |b|) (0 when both are 0). */
  measure: 'abs' | 'rel';
}
const QUANTITIES: Quantity[] = [
  { key: 'ks_d', label: 'KS D (abs)', group: 'ks', field: 'statistic', measure: 'abs' },
  { key: 'ks_p', label: 'KS p (rel)', group: 'ks', field: 'pValue', measure: 'rel' },
  { key: 'w', label: 'Wasserstein (abs)', group: 'wasserstein', field: 'statistic', measure: 'abs' },
  { key: 'psi_n', label: 'PSI num (abs)', group: 'psi_num', field: 'statistic', measure: 'abs' },
  { key: 'chi_s', label: 'chi-square stat (abs)', group: 'chisquare', field: 'statistic', measure: 'abs' },
  { key: 'chi_s_rel', label: 'chi-square stat (rel)', group: 'chisquare', field: 'statistic', measure: 'rel' },
  { key: 'chi_p', label: 'chi-square p (rel)', group: 'chisquare', field: 'pValue', measure: 'rel' },
  { key: 'js', label: 'JS (abs)', group: 'jensenshannon', field: 'statistic', measure: 'abs' },
  { key: 'psi_c', label: 'PSI cat (abs)', group: 'psi_cat', field: 'statistic', measure: 'abs' },
];

function difference(a: number, b: number, measure: 'abs' | 'rel'): number {
  if (a === b) return 0;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return Infinity;
  const d = Math.abs(a - b);
  return measure === 'abs' ? d : d / Math.max(Math.abs(a), Math.abs(b));
}

/** Largest difference per quantity, over the features both sides report (null: the peer has none). */
function compare(ts: Results, peer: Results): Record<string, Diff | null> {
  const out: Record<string, Diff | null> = {};
  for (const q of QUANTITIES) {
    let best: Diff | null = null;
    for (const [name, theirs] of Object.entries(peer[q.group] ?? {})) {
      const b = theirs[q.field];
      if (b === undefined || b === null) continue;
      const a = ts[q.group][name]?.[q.field];
      const d = a === undefined || a === null ? Infinity : difference(a, b, q.measure);
      if (!best || d > best.max) best = { max: d, at: name, value: b };
    }
    out[q.key] = best;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Report

interface Row {
  rows: number;
  repeats: number;
  genSeconds: number;
  ts: TsChildOutput;
  scipy: PeerOutput;
  evidently?: PeerOutput;
  stream?: TsChildOutput;
  vsScipy: Record<string, Diff | null>;
  vsEvidently?: Record<string, Diff | null>;
}

const total = (t: Times) => sum(Object.values(t));
const medianTotal = (runs: Times[]) => median(runs.map(total));
const medianGroup = (runs: Times[], g: GroupKey) => median(runs.map((t) => t[g]));
const mib = (kib: number) => (kib / 1024).toFixed(0);
const fmtRows = (n: number) =>
  n >= 1e6 && n % 1e5 === 0
    ? `${n / 1e6}e6`
    : n >= 1e5 && n % 1e4 === 0
      ? `${n / 1e5}e5`
      : n >= 1e4 && n % 1e3 === 0
        ? `${n / 1e4}e4`
        : String(n);
const fmtDiff = (d: Diff | null | undefined) => (d === null || d === undefined ? 'n/a' : d.max === 0 ? '0' : d.max.toExponential(1));

function printReport(rows: Row[], opts: Options): void {
  const ev = rows.some((r) => r.evidently);
  console.log('');
  console.log(
    `### Time and memory (rows per window; reference and current the same size; ${NUMERIC.length} numeric + ${CATEGORICAL.length} categorical features)`,
  );
  console.log('');
  const head = [
    'rows',
    'TS s',
    'scipy s',
    'scipy/TS',
    ...(ev ? ['Evidently s', 'Evidently/TS'] : []),
    'TS peak RSS MiB (+ over loaded data)',
    'scipy peak RSS MiB (+)',
    ...(ev ? ['Evidently peak RSS MiB (+)'] : []),
    ...(opts.stream ? ['TS streamed: ingest + tests s', 'peak RSS MiB (+)', 'stream keeps MiB'] : []),
  ];
  console.log(`| ${head.join(' | ')} |`);
  console.log(`|${head.map(() => '---:').join('|')}|`);
  for (const r of rows) {
    const tsS = medianTotal(r.ts.runs);
    const pyS = medianTotal(r.scipy.runs);
    const cells = [
      fmtRows(r.rows),
      tsS.toFixed(2),
      pyS.toFixed(2),
      (pyS / tsS).toFixed(2),
      ...(ev && r.evidently
        ? [medianTotal(r.evidently.runs).toFixed(2), (medianTotal(r.evidently.runs) / tsS).toFixed(2)]
        : ev
          ? ['n/a', 'n/a']
          : []),
      `${mib(r.ts.peakRssKiB)} (+${mib(r.ts.peakRssKiB - r.ts.baselineRssKiB)})`,
      `${mib(r.scipy.peakRssKiB)} (+${mib(r.scipy.peakRssKiB - r.scipy.baselineRssKiB)})`,
      ...(ev
        ? [r.evidently ? `${mib(r.evidently.peakRssKiB)} (+${mib(r.evidently.peakRssKiB - r.evidently.baselineRssKiB)})` : 'n/a']
        : []),
      ...(opts.stream && r.stream
        ? [
            `${r.stream.ingestSeconds!.toFixed(2)} + ${total(r.stream.runs[0]).toFixed(2)}`,
            `${mib(r.stream.peakRssKiB)} (+${mib(r.stream.peakRssKiB - r.stream.baselineRssKiB)})`,
            (r.stream.retainedCurrentBytes! / MiB).toFixed(0),
          ]
        : []),
    ];
    console.log(`| ${cells.join(' | ')} |`);
  }

  console.log('');
  console.log('### Where the time goes (median s per test, all features of its kind)');
  console.log('');
  const gh = ['rows', 'side', ...GROUPS.map((g) => GROUP_LABEL[g.key]), 'total'];
  console.log(`| ${gh.join(' | ')} |`);
  console.log(`|---:|:---|${GROUPS.map(() => '---:').join('|')}|---:|`);
  for (const r of rows) {
    const sides: [string, Times[]][] = [
      ['TS', r.ts.runs],
      ['scipy', r.scipy.runs],
      ...(r.evidently ? ([['Evidently', r.evidently.runs]] as [string, Times[]][]) : []),
    ];
    for (const [side, runs] of sides) {
      console.log(
        `| ${fmtRows(r.rows)} | ${side} | ${GROUPS.map((g) => medianGroup(runs, g.key).toFixed(3)).join(' | ')} | ${medianTotal(runs).toFixed(2)} |`,
      );
    }
  }

  const diffTable = (title: string, pick: (r: Row) => Record<string, Diff | null> | undefined, quantities: Quantity[]) => {
    console.log('');
    console.log(title);
    console.log('');
    console.log(`| rows | ${quantities.map((q) => q.label).join(' | ')} |`);
    console.log(`|---:|${quantities.map(() => '---:').join('|')}|`);
    for (const r of rows) {
      const d = pick(r);
      if (d) console.log(`| ${fmtRows(r.rows)} | ${quantities.map((q) => fmtDiff(d[q.key])).join(' | ')} |`);
    }
    for (const r of rows) {
      const d = pick(r);
      if (!d) continue;
      const worst = quantities.filter((q) => d[q.key] && d[q.key]!.max > 0).map((q) => `${q.key} ${d[q.key]!.at}`);
      if (worst.length) console.log(`  ${fmtRows(r.rows)}: largest at ${worst.join(', ')}`);
    }
  };
  diffTable('### Largest difference, TS vs scipy (over all features)', (r) => r.vsScipy, QUANTITIES);
  if (ev) {
    // Evidently returns one drift score per test: the p-value for ks and chisquare, the value for the others.
    const evq = QUANTITIES.filter((q) => ['ks_p', 'w', 'psi_n', 'chi_p', 'js', 'psi_c'].includes(q.key));
    diffTable('### Largest difference, TS vs Evidently (the drift scores Evidently returns)', (r) => r.vsEvidently, evq);
  }

  console.log('');
  console.log('### Targets');
  console.log('');
  for (const r of rows) {
    const tsS = medianTotal(r.ts.runs);
    const pyS = medianTotal(r.scipy.runs);
    const statKeys = ['ks_d', 'w', 'psi_n', 'chi_s', 'js', 'psi_c'];
    const worstStat = Math.max(...statKeys.map((k) => r.vsScipy[k]?.max ?? 0));
    const worstP = Math.max(r.vsScipy.ks_p?.max ?? 0, r.vsScipy.chi_p?.max ?? 0);
    const slower = GROUPS.filter((g) => medianGroup(r.ts.runs, g.key) > medianGroup(r.scipy.runs, g.key)).map((g) => GROUP_LABEL[g.key]);
    const statsMissed = statKeys.filter((k) => (r.vsScipy[k]?.max ?? 0) > 1e-12);
    // An absolute target below the value's own spacing cannot be met by any float64 code.
    const ulp = (v: number) => 2 ** (Math.floor(Math.log2(Math.abs(v))) - 52);
    const missedText = (k: string) => {
      const d = r.vsScipy[k]!;
      return `${k} ${fmtDiff(d)} at ${d.at}, value ${d.value.toPrecision(3)}, 1 ulp = ${ulp(d.value).toExponential(1)}`;
    };
    console.log(
      `- ${fmtRows(r.rows)}: faster than scipy: ${tsS < pyS ? 'met' : 'MISSED'} (${(pyS / tsS).toFixed(2)}x${slower.length ? `; slower on ${slower.join(', ')}` : ''}); ` +
        `statistics within 1e-12: ${worstStat <= 1e-12 ? 'met' : `MISSED (${statsMissed.map(missedText).join('; ')})`}; ` +
        `p-values within 1e-6 relative: ${worstP <= 1e-6 ? 'met' : 'MISSED'} (worst ${worstP === 0 ? '0' : worstP.toExponential(1)})`,
    );
  }
  for (const r of rows) {
    for (const n of r.ts.notes) console.log(`  note ${fmtRows(r.rows)}: ${n}`);
  }

  const first = rows[0];
  console.log('');
  const cpus = os.cpus();
  const py = first.scipy.versions;
  const blas = first.scipy.blas?.map((b) => `${b.internal_api} ${b.version} ${b.architecture}`).join(', ') ?? 'unknown';
  const envBlas =
    Object.entries(first.scipy.openblasEnv)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ') || 'none';
  console.log(
    `Machine: ${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB RAM, ` +
      `Node ${process.version}, Python ${py.python} (numpy ${py.numpy}, scipy ${py.scipy}), ${os.platform()} ${os.release()}; ` +
      `load average ${loadStart} at start, ${os.loadavg()[0].toFixed(2)} at end (other work on the machine shows up as noise)`,
  );
  if (ev && rows.some((r) => r.evidently)) {
    const e = rows.find((r) => r.evidently)!.evidently!.versions;
    console.log(`Evidently ${e.evidently} (pandas ${e.pandas}, numpy ${e.numpy}, scipy ${e.scipy}) in ${BENCH_VENV}`);
  }
  console.log(`OpenBLAS (threadpoolctl): ${blas}; environment: ${envBlas} (left as set: none of the timed calls uses BLAS)`);
  console.log(
    `Seed ${opts.seed}; median of ${rows.map((r) => `${r.repeats} at ${fmtRows(r.rows)}`).join(', ')} timed run(s) per side after an untimed warm-up on ${WARMUP_ROWS} rows; ` +
      `TS heap limit (--max-old-space-size) ${rows.map((r) => `${r.ts.heapMiB} MiB at ${fmtRows(r.rows)}`).join(', ')}.`,
  );
  for (const r of rows) {
    const hw = (o: TsChildOutput | PeerOutput | undefined, label: string) =>
      o && 'hwmKiB' in o && o.hwmKiB !== null ? `${label} kernel VmHWM ${mib(o.hwmKiB)} MiB` : null;
    const parts = [hw(r.ts, 'TS'), hw(r.stream, 'streamed')].filter(Boolean);
    console.log(
      `  ${fmtRows(r.rows)}: data generated and written in ${r.genSeconds.toFixed(1)} s${parts.length ? `; ${parts.join('; ')} (cross-check of the sampled peak)` : ''}`,
    );
  }
}

/** Issue 12's goal for the engine on one column of 1e4 rows, ms (Deepchecks' goal). */
const COLUMN_GOAL_MS = 1;

/** The test group that `drift-report` runs by default on a feature of this kind and size (chooseStattest, with enough distinct values). */
function defaultGroup(kind: FeatureSpec['kind'], rows: number): (typeof GROUPS)[number] | undefined {
  const method = chooseStattest({ kind, referenceSize: rows, uniqueCount: 6 });
  return GROUPS.find((g) => g.kind === kind && g.method === method);
}

/** The per-column case: ms per column and test at a small size (issue 12, third row of its table). */
function printColumnReport(r: Row, machine: boolean, opts: Options): void {
  const features = (g: (typeof GROUPS)[number]) => (g.kind === 'numeric' ? NUMERIC.length : CATEGORICAL.length);
  const ms = (runs: Times[], g: (typeof GROUPS)[number]) => (medianGroup(runs, g.key) * 1000) / features(g);
  const defaults = [defaultGroup('numeric', r.rows), defaultGroup('categorical', r.rows)];
  const defaultMs = (runs: Times[]) =>
    defaults.every(Boolean)
      ? defaults.reduce((a, g) => a + medianGroup(runs, g!.key) * 1000, 0) / (NUMERIC.length + CATEGORICAL.length)
      : NaN;
  const sides: [string, Times[] | undefined][] = [
    ['TS', r.ts.runs],
    ['scipy', r.scipy.runs],
    ['Evidently', r.evidently?.runs],
  ];
  const ev = Boolean(r.evidently);
  const f = (x: number) => (Number.isFinite(x) ? (x < 1 ? x.toFixed(3) : x.toFixed(2)) : 'n/a');
  console.log('');
  console.log(`### Per column at ${fmtRows(r.rows)} rows: the engine alone, ms per column`);
  console.log('');
  console.log(
    `Median over ${r.repeats} timed runs of one test on all features of its kind (TS: one \`detectDrift\` call; scipy, Evidently: a loop), ` +
      `divided by their number (${NUMERIC.length} numeric, ${CATEGORICAL.length} categorical); the data of the engine case. Ratios above 1: TS is faster.`,
  );
  console.log('');
  const head = ['test', 'TS ms', 'scipy ms', 'scipy/TS', ...(ev ? ['Evidently ms', 'Evidently/TS'] : [])];
  console.log(`| ${head.join(' | ')} |`);
  console.log(
    `|:---|${head
      .slice(1)
      .map(() => '---:')
      .join('|')}|`,
  );
  const line = (label: string, value: (runs: Times[]) => number) => {
    const [ts, py, e] = sides.map(([, runs]) => (runs ? value(runs) : NaN));
    console.log(`| ${[label, f(ts), f(py), (py / ts).toFixed(2), ...(ev ? [f(e), (e / ts).toFixed(2)] : [])].join(' | ')} |`);
  };
  for (const g of GROUPS) line(`${GROUP_LABEL[g.key]}${defaults.includes(g) ? ' (drift-report default)' : ''}`, (runs) => ms(runs, g));
  line(
    `drift-report's defaults, mean over all ${NUMERIC.length + CATEGORICAL.length} columns (${defaults.map((g) => (g ? GROUP_LABEL[g.key] : '?')).join(' / ')})`,
    defaultMs,
  );
  const tsDefault = defaultMs(r.ts.runs);
  const statKeys = ['ks_d', 'w', 'psi_n', 'chi_s', 'js', 'psi_c'];
  const worstStat = Math.max(...statKeys.map((k) => r.vsScipy[k]?.max ?? 0));
  const worstP = Math.max(r.vsScipy.ks_p?.max ?? 0, r.vsScipy.chi_p?.max ?? 0);
  const slowest = GROUPS.filter((g) => ms(r.ts.runs, g) >= COLUMN_GOAL_MS).map((g) => `${GROUP_LABEL[g.key]} ${f(ms(r.ts.runs, g))} ms`);
  console.log('');
  console.log(
    `Goal < ${COLUMN_GOAL_MS} ms per column at ${fmtRows(r.rows)} rows with drift-report's default tests: ${tsDefault < COLUMN_GOAL_MS ? 'met' : 'MISSED'} (${f(tsDefault)} ms)` +
      `${slowest.length ? `; tests at or above ${COLUMN_GOAL_MS} ms: ${slowest.join(', ')}` : '; every test below it'}. ` +
      `Against scipy at this size: statistics within ${worstStat === 0 ? '0' : worstStat.toExponential(1)}, p-values within ${worstP === 0 ? '0' : worstP.toExponential(1)} relative.`,
  );
  if (machine) {
    const cpus = os.cpus();
    const py = r.scipy.versions;
    console.log(
      `Machine: ${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, Node ${process.version}, Python ${py.python} (numpy ${py.numpy}, scipy ${py.scipy}); seed ${opts.seed}; ` +
        `load average ${loadStart} at start, ${os.loadavg()[0].toFixed(2)} now`,
    );
  }
}

// ---------------------------------------------------------------------------------------------

/** One size of the engine case: data written, then each side in a process of its own. */
function measureEngine(
  n: number,
  repeats: number,
  python: string,
  evPython: string | null,
  opts: Options,
  stream: boolean,
  dirs: string[],
): Row {
  const dir = mkdtempSync(join(os.tmpdir(), 'retrain-drift-bench-'));
  dirs.push(dir);
  progress(
    `${fmtRows(n)} rows: generating ${NUMERIC.length} numeric + ${CATEGORICAL.length} categorical columns x 2 windows (seed ${opts.seed})`,
  );
  const g0 = performance.now();
  generate(dir, n, opts.seed);
  const genSeconds = (performance.now() - g0) / 1000;
  progress(`${fmtRows(n)} rows: written to ${dir} in ${genSeconds.toFixed(1)} s; TS side (${repeats} run(s))`);
  const ts = runTsChild('ts', dir, n, ['--repeats', String(repeats)]);
  progress(`${fmtRows(n)} rows: TS ${medianTotal(ts.runs).toFixed(2)} s; scipy side (${repeats} run(s))`);
  const scipy = runPeer(python, 'scipy', dir, repeats);
  progress(`${fmtRows(n)} rows: scipy ${medianTotal(scipy.runs).toFixed(2)} s`);
  let evidently: PeerOutput | undefined;
  if (evPython) {
    progress(`${fmtRows(n)} rows: Evidently side (${repeats} run(s))`);
    evidently = runPeer(evPython, 'evidently', dir, repeats);
    progress(`${fmtRows(n)} rows: Evidently ${medianTotal(evidently.runs).toFixed(2)} s`);
  }
  let streamed: TsChildOutput | undefined;
  if (stream) {
    progress(`${fmtRows(n)} rows: TS streamed (current window in chunks of ${opts.chunkRows} rows)`);
    streamed = runTsChild('stream', dir, n, ['--chunk-rows', String(opts.chunkRows)]);
  }
  const row: Row = {
    rows: n,
    repeats,
    genSeconds,
    ts,
    scipy,
    evidently,
    stream: streamed,
    vsScipy: compare(ts.results, scipy.results),
    vsEvidently: evidently ? compare(ts.results, evidently.results) : undefined,
  };
  if (streamed) {
    const same = compare(ts.results, streamed.results);
    const off = Object.entries(same).filter(([, d]) => d && d.max !== 0);
    if (off.length)
      console.warn(`  WARNING: the streamed run's results differ from the whole-window run: ${off.map(([k]) => k).join(', ')}`);
  }
  if (opts.keepData) {
    dirs.splice(dirs.indexOf(dir), 1);
    progress(`${fmtRows(n)} rows: done, data files kept in ${dir} (--keep-data): delete them when done`);
  } else {
    rmSync(dir, { recursive: true, force: true });
    dirs.splice(dirs.indexOf(dir), 1);
    progress(`${fmtRows(n)} rows: done, data files deleted`);
  }
  return row;
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const python = findPython();
  const evPython = opts.evidently ? evidentlyPython() : null;
  const dirs: string[] = [];
  const cleanUp = () => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  };
  process.on('SIGINT', () => {
    cleanUp();
    process.exit(130);
  });
  const rows: Row[] = [];
  let column: Row | undefined;
  let e2e: E2eResult | undefined;
  let e2eError: unknown;
  try {
    if (opts.cases.includes('engine')) {
      for (const n of opts.sizes) rows.push(measureEngine(n, opts.repeats ?? autoRepeats(n), python, evPython, opts, opts.stream, dirs));
    }
    if (opts.cases.includes('column')) {
      progress(`per column: the engine at ${fmtRows(opts.columnRows)} rows, ${opts.columnRepeats} timed runs per side`);
      column = measureEngine(opts.columnRows, opts.columnRepeats, python, evPython, opts, false, dirs);
    }
    if (opts.cases.includes('e2e')) {
      try {
        e2e = runE2e(
          { sizes: opts.e2eSizes, seed: opts.seed, maxRssKiB: opts.maxRssKiB, keepData: opts.keepData },
          { scipy: python, generator: findSdkPython(), evidently: evPython },
          progress,
        );
      } catch (err) {
        e2eError = err; // the other cases' tables are still printed
      }
    }
  } finally {
    cleanUp();
  }
  if (rows.length) printReport(rows, opts);
  if (column) printColumnReport(column, rows.length === 0, opts);
  if (e2e) printE2e(e2e);
  if (e2eError) throw e2eError;
}

async function child(argv: string[]): Promise<void> {
  const value = (flag: string) => {
    const i = argv.indexOf(flag);
    if (i < 0) throw new Error(`child: ${flag} missing`);
    return argv[i + 1];
  };
  const role = value('--role');
  if (role === 'ts') await tsChild(value('--dir'), value('--out'), Number(value('--repeats')), Number(value('--heap')));
  else if (role === 'stream') await streamChild(value('--dir'), value('--out'), Number(value('--chunk-rows')), Number(value('--heap')));
  else throw new Error(`unknown role ${role}`);
}

const argv = process.argv.slice(2);
(argv.includes('--role') ? child(argv) : main()).then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
