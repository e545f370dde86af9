/**
 * Drift beyond one machine. One week of logged predictions (1e8 by default) is checked for drift
 * on a real Temporal dev server by worker processes of their own:
 *  - the exact check (drift.partitioned false) on one worker: it reads every line and tests a
 *    uniform sample of drift.maxWindowRows (1e6) of them;
 *  - the partitioned check (drift.partitioned true): one activity per hour of the log, each
 *    summarising its hour, on 1, 2 and 4 worker processes; every prediction counts.
 * Then, in this process, the sketches' error against exact results on two 1e6-prediction subsets
 * (the first hours, stable; the last hours, drifted): each feature's statistic, p-value and
 * verdict both ways, and the largest CDF error of the merged sketch against its stated bound.
 * Not a test: it measures and prints, it asserts nothing. The log (about 210 bytes a line) is
 * generated once into --dir and reused while --predictions and --hours stay the same.
 *
 *   node --import tsx bench/drift-partitions.ts [--predictions 1e8] [--hours 168] [--workers 1,2,4]
 *     [--subset 1e6] [--dir .retrain/bench/drift-partitions] [--skip-exact] [--accuracy-only]
 * (--accuracy-only: only the subsets.) On the subsets, monthly_spend (the feature with thousands
 * of distinct values, the one tested on sketches) is also tested with ks, psi and jensenshannon.
 */
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { startRetrain } from '../client/client';
import { startDevServer } from '../cli/dev-server';
import type { DriftCheckReport } from '../lib/drift/report';
import { hoursOverlapping } from '../lib/log-hours';
import { countBelow } from '../lib/drift/sorted-search';
import type { Pipeline } from '../lib/pipeline';
import type { StattestName } from '../lib/drift/stattest-names';
import { PredictionWindowSummary } from '../lib/prediction-window-summary';
import { loadConfig } from '../services/config';
import { runDriftCheck } from '../services/drift-check';
import { deleteSummaries, finishPartitionedDriftCheck, summarizePartition } from '../services/partitioned-drift-check';
import { summaryFeaturesOf } from '../lib/feature-kind';
import { readPredictionWindow } from '../services/prediction-log';
import type { DriftCheckSummary } from '../shared/inputs';
import { createStore } from '../store';
import { REPO, testPipeline, TRIVIAL_PREDICT, TRIVIAL_TRAINER } from '../test/helpers/pipelines';
import { WORKFLOWS_PATH } from '../workers/worker';
import { checkBenchArgs } from './bench-args';

const arg = checkBenchArgs(
  process.argv.slice(2),
  { values: ['--predictions', '--hours', '--workers', '--subset', '--dir'], switches: ['--skip-exact', '--accuracy-only'] },
  import.meta.url,
);
const PREDICTIONS = Number(arg('--predictions') ?? 1e8);
const HOURS = Number(arg('--hours') ?? 168);
const WORKERS = (arg('--workers') ?? '1,2,4').split(',').map(Number);
const SUBSET = Number(arg('--subset') ?? 1e6);
const DIR = resolve(arg('--dir') ?? join(REPO, '.retrain/bench/drift-partitions'));
const SKIP_EXACT = process.argv.includes('--skip-exact');
const ACCURACY_ONLY = process.argv.includes('--accuracy-only');
/** The one feature with thousands of distinct values: the one a partitioned check tests on sketches. */
const SKETCHED = 'monthly_spend';
const PER_HOUR = Math.ceil(PREDICTIONS / HOURS);
const START = '2026-01-05T00:00:00.000Z';
const END = new Date(Date.parse(START) + HOURS * 3_600_000).toISOString();
const MODEL = 'bench-scale';
const TASK_QUEUE = 'bench-drift';
const TRAINING_QUEUE = 'bench-drift-training';
const STORE = join(DIR, 'store');

for (const [name, n] of [
  ['--predictions', PREDICTIONS],
  ['--hours', HOURS],
  ['--subset', SUBSET],
] as const)
  if (!(Number.isInteger(n) && n > 0)) fail(`${name} must be a positive integer, got ${n}`);
if (WORKERS.some((w) => !(Number.isInteger(w) && w > 0))) fail(`--workers must list positive integers, got ${arg('--workers')}`);

const pipeline = (partitioned: boolean): Pipeline =>
  testPipeline({
    name: MODEL,
    training: { command: TRIVIAL_TRAINER, predictCommand: TRIVIAL_PREDICT },
    drift: { window: `${HOURS}h`, partitioned, minPredictions: 30 },
  });

/** A worker process of its own (test/helpers/worker-process.ts), polling both queues. */
interface WorkerProc {
  child: ChildProcess;
  ready: Promise<void>;
}

function spawnWorker(address: string, bundle: string, index: number): WorkerProc {
  const work = join(DIR, `work-${index}`);
  mkdirSync(work, { recursive: true });
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/worker-process.ts'], {
    cwd: REPO,
    env: {
      ...process.env,
      TEST_WORKER_ADDRESS: address,
      TEST_WORKER_TASK_QUEUE: TASK_QUEUE,
      TEST_WORKER_TRAINING_TASK_QUEUE: TRAINING_QUEUE,
      TEST_WORKER_STORE_DIR: STORE,
      TEST_WORKER_WORK_DIR: work,
      TEST_WORKER_BUNDLE: bundle,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const ready = new Promise<void>((done, failed) => {
    createInterface({ input: child.stdout! }).on('line', (l) => l === 'ready' && done());
    child.once('exit', (code) => failed(new Error(`worker ${index} exited with ${code} before it was ready`)));
  });
  return { child, ready };
}

/** CPU seconds (user + system) and peak RSS of a live process, from /proc; nulls without it. */
function processFigures(pid: number): { cpuS: number | null; peakMiB: number | null } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuS = (Number(fields[11]) + Number(fields[12])) / 100;
    const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { cpuS, peakMiB: hwm ? Number(hwm[1]) / 1024 : null };
  } catch {
    return { cpuS: null, peakMiB: null };
  }
}

async function stopWorkers(workers: WorkerProc[]): Promise<void> {
  await Promise.all(
    workers.map(
      (w) =>
        new Promise<void>((done) => {
          if (w.child.exitCode !== null) return done();
          w.child.once('exit', () => done());
          w.child.kill('SIGKILL');
        }),
    ),
  );
}

interface RunFigures {
  mode: 'exact' | 'partitioned';
  workers: number;
  wallS: number;
  cpuS: number | null;
  peakMiB: number | null;
  summary: DriftCheckSummary;
  /** Partition activities each worker ran (by worker identity), from the history. */
  spread: number[];
}

/** How many partition activities each worker ran: the history names the worker that started each. */
async function partitionsPerWorker(client: Client, workflowId: string): Promise<number[]> {
  const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const partitions = new Set<string>();
  const byWorker = new Map<string, number>();
  for (const e of events) {
    if (e.activityTaskScheduledEventAttributes?.activityType?.name === 'summarizeDriftPartition') partitions.add(String(e.eventId));
    const started = e.activityTaskStartedEventAttributes;
    if (started && partitions.has(String(started.scheduledEventId)))
      byWorker.set(started.identity ?? '?', (byWorker.get(started.identity ?? '?') ?? 0) + 1);
  }
  return [...byWorker.values()].sort((a, b) => b - a);
}

async function timedCheck(client: Client, address: string, bundle: string, mode: RunFigures['mode'], count: number): Promise<RunFigures> {
  const workers = Array.from({ length: count }, (_, i) => spawnWorker(address, bundle, i));
  try {
    await Promise.all(workers.map((w) => w.ready));
    const started = performance.now();
    const workflowId = `bench-drift-${mode}-${count}-${Date.now()}`;
    const summary: DriftCheckSummary = await client.workflow.execute('driftCheck', {
      taskQueue: TASK_QUEUE,
      workflowId,
      args: [{ pipeline: pipeline(mode === 'partitioned'), trigger: 'bench', asOf: END }],
    });
    const wallS = (performance.now() - started) / 1000;
    const figures = workers.map((w) => processFigures(w.child.pid!));
    const spread = await partitionsPerWorker(client, workflowId);
    const cpu = figures.every((f) => f.cpuS !== null) ? figures.reduce((a, f) => a + f.cpuS!, 0) : null;
    const peak = figures.every((f) => f.peakMiB !== null) ? Math.max(...figures.map((f) => f.peakMiB!)) : null;
    return { mode, workers: count, wallS, cpuS: cpu, peakMiB: peak, summary, spread };
  } finally {
    await stopWorkers(workers);
  }
}

/** The champion (trained by the pipeline itself, so it has a reference profile) and the log, made once. */
async function prepare(client: Client, address: string, bundle: string): Promise<void> {
  const stateFile = join(DIR, 'state.json');
  const wanted = { predictions: PREDICTIONS, hours: HOURS, start: START };
  if (existsSync(stateFile)) {
    const state = JSON.parse(readFileSync(stateFile, 'utf8'));
    if (state.predictions === wanted.predictions && state.hours === wanted.hours && state.start === wanted.start) return;
  }
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(STORE, { recursive: true });
  const worker = spawnWorker(address, bundle, 0);
  let version: string;
  try {
    await worker.ready;
    const config = {
      ...loadConfig({ RETRAIN_PROJECT_DIR: REPO }),
      temporalAddress: address,
      taskQueue: TASK_QUEUE,
      trainingTaskQueue: TRAINING_QUEUE,
    };
    const summary = await (await startRetrain(client, config, pipeline(false))).handle.result();
    if (summary.outcome !== 'promoted' || !summary.version) fail(`the champion was not promoted: ${summary.message}`);
    version = summary.version;
  } finally {
    await stopWorkers([worker]);
  }
  const started = performance.now();
  log(`writing ${PREDICTIONS.toExponential(1)} logged predictions (${PER_HOUR} an hour for ${HOURS} hours) into ${STORE}…`);
  const generators = Math.max(1, Math.min(os.availableParallelism(), 4));
  let hoursDone = 0;
  await Promise.all(
    Array.from({ length: generators }, (_, first) => {
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          'bench/drift-partitions-child.ts',
          ...['--store', STORE, '--model', MODEL, '--version', version, '--start', START],
          ...['--hours', String(HOURS), '--per-hour', String(PER_HOUR), '--first', String(first), '--step', String(generators)],
        ],
        { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] },
      );
      createInterface({ input: child.stdout! }).on('line', () => {
        hoursDone++;
        if (hoursDone % 8 === 0 || hoursDone === HOURS) progress(`  ${hoursDone}/${HOURS} hours written`);
      });
      return new Promise<void>((done, failed) =>
        child.once('exit', (code) => (code === 0 ? done() : failed(new Error(`generator exited with ${code}`)))),
      );
    }),
  );
  process.stderr.write('\n');
  log(`written in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  writeFileSync(stateFile, JSON.stringify({ ...wanted, version }, null, 2));
}

/** Exact and summarised reports of the same window, and the merged sketches' CDF error, in this process. */
async function accuracy(label: string, fromHour: number, hours: number, method?: StattestName): Promise<void> {
  const store = createStore({ ...loadConfig({ RETRAIN_PROJECT_DIR: REPO }), store: { kind: 'local', dir: STORE } });
  const config = loadConfig({ RETRAIN_PROJECT_DIR: REPO });
  const from = new Date(Date.parse(START) + fromHour * 3_600_000).toISOString();
  const to = new Date(Date.parse(from) + hours * 3_600_000).toISOString();
  const { version } = JSON.parse(readFileSync(join(DIR, 'state.json'), 'utf8'));
  const base = pipeline(false).drift!;
  // With `method`, the continuous feature is tested that way (and only its rows are printed).
  const features = method ? { [SKETCHED]: { method } } : base.features;
  const exactPipeline = { ...pipeline(false), drift: { ...base, window: `${hours}h`, maxWindowRows: SUBSET * 2, features } };
  const quiet = { warn: () => undefined };
  const request = { pipeline: exactPipeline, version, from, to };
  const exact = (await runDriftCheck({ store, config }, { ...request, checkId: `bench-exact-${fromHour}-${method}` }, quiet)).report;
  const checkId = `bench-parts-${fromHour}-${method}`;
  const hourList = hoursOverlapping(new Date(from), new Date(to));
  const parts = [];
  for (const hour of hourList)
    parts.push(await summarizePartition(store, { model: MODEL, checkId, hours: [hour], from, to, ...summaryFeaturesOf(exactPipeline) }));
  // The merged summary, for its sketches' CDF error against the exact columns.
  let merged: PredictionWindowSummary | null = null;
  for (const p of parts) {
    const s = PredictionWindowSummary.fromJSON(JSON.parse((await store.get(p.key))!.toString()));
    merged = merged ? merged.merge(s) : s;
  }
  const approx = (await finishPartitionedDriftCheck({ store, config }, { ...request, checkId, parts }, quiet)).report;
  await deleteSummaries(store, parts);
  const window = await readPredictionWindow(store, MODEL, { from: new Date(from), to: new Date(to) });

  if (method) log(`${label}, ${SKETCHED} tested with ${method}:`);
  else log(`\n${label}: ${exact.current.rows} predictions, hours ${fromHour}–${fromHour + hours - 1}, ${parts.length} partitions`);
  if (!method)
    log(
      `  ${'feature'.padEnd(16)} ${'test'.padEnd(12)} ${'exact stat'.padStart(11)} ${'summary'.padStart(11)} ${'|Δ|'.padStart(9)} ${'bound'.padStart(9)} ${'exact p'.padStart(10)} ${'summary p'.padStart(10)}  verdicts`,
    );
  const rows = [...exact.dataDrift.features.map((f) => [f.name, f] as const), ['prediction', exact.predictionDrift!] as const].filter(
    ([name]) => !method || name === SKETCHED,
  );
  for (const [name, e] of rows) {
    const a = (
      name === 'prediction' ? approx.predictionDrift : approx.dataDrift.features.find((f) => f.name === name)
    ) as DriftCheckReport['dataDrift']['features'][number] & {
      approximate?: boolean;
      statisticError?: number;
    };
    const delta = e.statistic !== null && a.statistic !== null ? Math.abs(e.statistic - a.statistic) : null;
    log(
      `  ${name.padEnd(16)} ${(e.method + (a.approximate ? '≈' : '')).padEnd(12)} ${fmt(e.statistic).padStart(11)} ${fmt(a.statistic).padStart(11)} ${fmt(delta).padStart(9)} ${fmt(a.statisticError ?? null).padStart(9)} ${fmt(e.pValue).padStart(10)} ${fmt(a.pValue).padStart(10)}  ${e.drifted ? 'drift' : 'none'}/${a.drifted ? 'drift' : 'none'}${e.drifted === a.drifted ? '' : '  DIFFER'}`,
    );
  }
  if (method) return;
  log(`  report: ${approx.accuracy ?? '(all exact)'}`);
  // Sketch CDF error at every retained value, against the exact column.
  for (const [name, column] of merged!.features.columns) {
    if (column.kind !== 'numeric' || column.values) continue;
    const exactColumn = window.features[name] as Float64Array;
    const sorted = Float64Array.from(exactColumn.filter((v) => Number.isFinite(v))).sort();
    const { values } = column.sketch.points();
    let worst = 0;
    for (const x of values) {
      const trueCount = countBelow(sorted, x, true);
      worst = Math.max(worst, Math.abs(column.sketch.rank(x) - trueCount) / sorted.length);
    }
    log(
      `  ${name}: largest CDF error of the merged sketch ${fmt(worst)} over its ${values.length} points; stated bound ε = ${fmt(column.sketch.rankError)} (99%)`,
    );
  }
  const [es, as] = [exact.serving![0]!, approx.serving![0]!];
  log(
    `  latency p50/p95 exact ${es.latencyMs.p50}/${es.latencyMs.p95} ms, from the sketch ${as.latencyMs.p50}/${as.latencyMs.p95} ms; mean ${fmt(es.latencyMs.mean)} / ${fmt(as.latencyMs.mean)}`,
  );
}

function fmt(x: number | null): string {
  if (x === null) return 'n/a';
  if (x === 0) return '0';
  return Math.abs(x) >= 1e-3 && Math.abs(x) < 1e5 ? x.toPrecision(4) : x.toExponential(2);
}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}
function progress(line: string): void {
  if (process.stderr.isTTY) process.stderr.write(`\r${line}`);
  else process.stderr.write(`${line}\n`);
}
function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  mkdirSync(DIR, { recursive: true });
  const server = await startDevServer({ uiPort: null });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  try {
    const { code } = await bundleWorkflowCode({
      workflowsPath: WORKFLOWS_PATH,
      logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} },
    });
    const bundle = join(os.tmpdir(), `retrain-bench-drift-${process.pid}.js`);
    writeFileSync(bundle, code);
    await prepare(client, server.address, bundle);
    log(
      `${os.cpus().length} cores, ${(os.totalmem() / 1024 ** 3).toFixed(0)} GiB; ${PREDICTIONS.toExponential(1)} predictions over ${HOURS} hours`,
    );
    const runs: RunFigures[] = [];
    if (!SKIP_EXACT && !ACCURACY_ONLY) runs.push(await timedCheck(client, server.address, bundle, 'exact', 1));
    for (const w of ACCURACY_ONLY ? [] : WORKERS) runs.push(await timedCheck(client, server.address, bundle, 'partitioned', w));
    const base = runs.find((r) => r.mode === 'partitioned' && r.workers === 1) ?? runs[0]!;
    const exact = runs.find((r) => r.mode === 'exact');
    if (runs.length > 0)
      log(
        `\n${'check'.padEnd(12)} ${'workers'.padStart(7)} ${'wall s'.padStart(8)} ${'lines/s'.padStart(10)} ${'CPU s'.padStart(8)} ${'peak RSS/worker'.padStart(16)} ${'vs 1 worker'.padStart(12)} ${'vs exact'.padStart(9)}  verdict`,
      );
    for (const r of runs) {
      const n = r.summary.result?.windowPredictions ?? 0;
      log(
        `${r.mode.padEnd(12)} ${String(r.workers).padStart(7)} ${r.wallS.toFixed(1).padStart(8)} ${Math.round(n / r.wallS)
          .toString()
          .padStart(
            10,
          )} ${(r.cpuS?.toFixed(0) ?? 'n/a').padStart(8)} ${(r.peakMiB ? `${r.peakMiB.toFixed(0)} MiB` : 'n/a').padStart(16)} ${(r.mode === 'partitioned' ? `${(base.wallS / r.wallS).toFixed(2)}×` : '').padStart(12)} ${(exact ? `${(exact.wallS / r.wallS).toFixed(2)}×` : '').padStart(9)}  ${r.summary.outcome}: ${r.summary.result?.predictions ?? 0} tested${r.spread.length ? `; partitions per worker ${r.spread.join('/')}` : ''}`,
      );
    }
    const subsetHours = Math.max(1, Math.ceil(SUBSET / PER_HOUR));
    for (const [label, first] of [
      ['Stable subset', 0],
      ['Drifted subset', Math.max(0, HOURS - subsetHours)],
    ] as const) {
      await accuracy(label, first, Math.min(subsetHours, HOURS));
      for (const method of ['ks', 'psi', 'jensenshannon'] as const) await accuracy(label, first, Math.min(subsetHours, HOURS), method);
    }
  } finally {
    await connection.close();
    await server.stop();
  }
}

await main();
