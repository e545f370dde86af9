/**
 * Orchestration overhead of a retraining pipeline on Temporal, against the same activities run
 * as a plain script. Not a test: it measures and prints, it asserts nothing.
 *
 *   node --import tsx bench/pipeline-overhead.ts [--sizes 1,10,50] [--max-trainings 2] [--trainer trivial|sklearn]
 *
 * --trainer sklearn runs the default scikit-learn trainer (training/train.py) instead of the
 * standard-library one; with RETRAIN_PYTHON_FORK_SERVER=false its commands start fresh Pythons.
 *
 * See bench/README.md for what each column means and what it leaves out.
 */
import { checkBenchArgs } from './bench-args';
import { MockActivityEnvironment } from '@temporalio/testing';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type ActivityInterceptorsFactory } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { createActivities, createTrainingActivities } from '../activities';
import type { ActivityDeps } from '../activities/deps';
import { type RetrainConfig } from '../lib/config';
import { loadConfig } from '../services/config';
import { decideGate } from '../lib/gate';
import type { Pipeline } from '../lib/pipeline';
// The standard-library trainer: a fast, deterministic model, so orchestration is what shows.
import { REPO, testPipeline, TRIVIAL_PREDICT, TRIVIAL_TRAINER } from '../test/helpers/pipelines';
import { startRetrain } from '../client/client';
import { startDevServer, type DevServer } from '../cli/dev-server';
import { launcherUsage, type CpuTime } from '../services/runner/launcher';
import { createStore } from '../store';
import { createWorkers } from '../workers/worker';
import type { RetrainSummary } from '../shared/inputs';

const RSS_SAMPLE_MS = 50;
const MiB = 1024 * 1024;
const benchStart = Date.now();

interface Options {
  sizes: number[];
  /** The training queue's concurrent subprocesses (the worker's default is 2). */
  maxTrainings: number;
}

/** Timings of one Temporal run, read back from its event history. */
interface RunTiming {
  workflowMs: number;
  activityMs: number;
  /** Activities' scheduled → started time: task dispatch plus waiting for a free slot (part of the overhead). */
  queueMs: number;
  /** Time inside activity functions, local ones included (measured in the worker). */
  insideMs: number;
}

/** CPU time in ms over a batch, by process; null when it could not be read. */
interface BatchCpu {
  /** This process: worker (or direct scripts), workflow isolates, client; all threads. */
  nodeMs: number;
  /** The command launcher process itself. */
  launcherMs: number | null;
  /** The training and predict subprocesses (the launcher's children, once reaped). */
  pythonMs: number | null;
  /** The Temporal dev server (Temporal side only). */
  serverMs: number | null;
}

interface TemporalBatch {
  wallMs: number;
  runs: RunTiming[];
  peakRssMiB: number;
  cpu: BatchCpu;
}

interface DirectBatch {
  wallMs: number;
  perRunMs: number[];
  cpu: BatchCpu;
}

interface Row {
  n: number;
  temporal: TemporalBatch;
  direct: DirectBatch;
}

// ---------------------------------------------------------------------------------------------
// Setup

function parseArgs(argv: string[]): Options {
  const value = checkBenchArgs(argv, { values: ['--sizes', '--max-trainings', '--trainer'] }, import.meta.url);
  const trainer = value('--trainer') ?? 'trivial';
  if (trainer !== 'trivial' && trainer !== 'sklearn') throw new Error(`--trainer expects trivial or sklearn, got ${trainer}`);
  sklearnTrainer = trainer === 'sklearn';
  const sizes = (value('--sizes') ?? '1,10,50').split(',').map((s) => Number(s.trim()));
  if (sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--sizes expects positive integers, e.g. 1,10,50`);
  const maxTrainings = Number(value('--max-trainings') ?? 2);
  if (!Number.isInteger(maxTrainings) || maxTrainings < 1) throw new Error(`--max-trainings expects a positive integer`);
  return { sizes, maxTrainings };
}

function progress(message: string): void {
  console.log(`[${((Date.now() - benchStart) / 1000).toFixed(1).padStart(6)}s] ${message}`);
}

/** --trainer sklearn: the pipelines keep the default scikit-learn trainer. */
let sklearnTrainer = false;

/** The churn example on the trivial trainer (or the default one); auto approval, no gates beyond the implicit one. */
function benchPipeline(name: string): Pipeline {
  if (sklearnTrainer) return testPipeline({ name });
  return testPipeline({ name, training: { command: TRIVIAL_TRAINER, predictCommand: TRIVIAL_PREDICT } });
}

/** Fresh store and work directories, so every run trains and nothing is shared between sides. */
function benchConfig(temporalAddress: string, tempDirs: string[]): RetrainConfig {
  const dir = (prefix: string) => {
    const d = mkdtempSync(join(os.tmpdir(), prefix));
    tempDirs.push(d);
    return d;
  };
  return {
    ...loadConfig({ RETRAIN_PROJECT_DIR: REPO }),
    temporalAddress,
    store: { kind: 'local', dir: dir('retrain-bench-store-') },
    workDir: dir('retrain-bench-work-'),
  };
}

function runNames(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `bench-n${n}-${i}`);
}

// ---------------------------------------------------------------------------------------------
// Measurement helpers

/** Samples this process's RSS until stopped; returns the peak in MiB. */
function startRssSampler(): { stop(): number } {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, RSS_SAMPLE_MS);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage().rss) / MiB;
    },
  };
}

/** Linux's clock tick, in which /proc reports CPU times (USER_HZ: 100 on every common build). */
const TICK_MS = 10;

/** utime + stime of a process from /proc/<pid>/stat, in ms; null when it cannot be read. */
function procCpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return null;
  }
}

/**
 * The dev server's pid: startDevServer does not return it, so look in /proc for the process whose
 * command line is `temporal server start-dev … --port <port>` (the SDK-downloaded server runs the
 * same command). Null without /proc or when none matches.
 */
function findDevServerPid(address: string): number | null {
  const port = address.slice(address.lastIndexOf(':') + 1);
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return null;
  }
  for (const entry of entries) {
    let args: string[];
    try {
      args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // exited meanwhile
    }
    const portAt = args.indexOf('--port');
    if (args.includes('start-dev') && portAt >= 0 && args[portAt + 1] === port) return Number(entry);
  }
  return null;
}

const cpuMs = (t: CpuTime) => (t.user + t.system) / 1000;

/** Starts counting CPU of this process, the launcher and its children, and the dev server when given. */
async function startCpuMeter(serverPid: number | null): Promise<{ stop(): Promise<BatchCpu> }> {
  const node = process.cpuUsage();
  const launcher = await launcherUsage();
  const server = serverPid === null ? null : procCpuMs(serverPid);
  return {
    async stop() {
      const nodeNow = process.cpuUsage(node);
      const launcherNow = await launcherUsage();
      const serverNow = serverPid === null ? null : procCpuMs(serverPid);
      // A launcher that died and was replaced meanwhile started counting again: no figure beats a wrong one.
      const sameLauncher = launcherNow.pid === launcher.pid;
      return {
        nodeMs: cpuMs(nodeNow),
        launcherMs: sameLauncher ? cpuMs(launcherNow.self) - cpuMs(launcher.self) : null,
        pythonMs: sameLauncher && launcherNow.children && launcher.children ? cpuMs(launcherNow.children) - cpuMs(launcher.children) : null,
        serverMs: server !== null && serverNow !== null ? serverNow - server : null,
      };
    },
  };
}

type Ts = { seconds?: { toString(): string } | number | null; nanos?: number | null } | null | undefined;

/** Protobuf timestamps carry seconds as Long: go through the string to stay exact. */
function tsMs(ts: Ts): number {
  if (!ts) throw new Error('history event without a time');
  return Number(String(ts.seconds ?? 0)) * 1000 + (ts.nanos ?? 0) / 1e6;
}

function id(value: { toString(): string } | number | null | undefined): string {
  return String(value ?? '');
}

/**
 * Milliseconds spent inside activity functions per workflow id, local activities included (their
 * time is not in the history as started → completed): measured in the worker by an interceptor.
 */
const insideActivities = new Map<string, number>();

const timeActivities: ActivityInterceptorsFactory = (ctx) => ({
  inbound: {
    async execute(input, next) {
      const started = performance.now();
      try {
        return await next(input);
      } finally {
        const id = ctx.info.workflowExecution?.workflowId ?? '';
        insideActivities.set(id, (insideActivities.get(id) ?? 0) + performance.now() - started);
      }
    },
  },
});

/**
 * Reads a finished run's history: workflow started → completed, and per activity the started →
 * completed time. Completed events name their started event by id, so match on ids, not order.
 */
async function timingsOf(handle: WorkflowHandle): Promise<RunTiming> {
  const events = (await handle.fetchHistory()).events ?? [];
  const scheduledAt = new Map<string, number>();
  const startedAt = new Map<string, number>();
  let workflowStart = NaN;
  let workflowEnd = NaN;
  let activityMs = 0;
  let queueMs = 0;
  for (const e of events) {
    const at = tsMs(e.eventTime as Ts);
    if (e.workflowExecutionStartedEventAttributes) workflowStart = at;
    else if (e.workflowExecutionCompletedEventAttributes) workflowEnd = at;
    else if (e.activityTaskScheduledEventAttributes) scheduledAt.set(id(e.eventId), at);
    else if (e.activityTaskStartedEventAttributes) {
      startedAt.set(id(e.eventId), at);
      queueMs += at - (scheduledAt.get(id(e.activityTaskStartedEventAttributes.scheduledEventId)) ?? at);
    } else if (e.activityTaskCompletedEventAttributes) {
      activityMs += at - (startedAt.get(id(e.activityTaskCompletedEventAttributes.startedEventId)) ?? at);
    }
  }
  if (Number.isNaN(workflowStart) || Number.isNaN(workflowEnd))
    throw new Error(`${handle.workflowId} has no start/completion in its history`);
  return { workflowMs: workflowEnd - workflowStart, activityMs, queueMs, insideMs: insideActivities.get(handle.workflowId) ?? 0 };
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Nearest-rank p95 (with one sample it is that sample). */
function p95(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(0.95 * sorted.length) - 1)];
}

// ---------------------------------------------------------------------------------------------
// Temporal side

interface TemporalStack {
  client: Client;
  config: RetrainConfig;
  /** The dev server process, for its CPU time; null when it was not found. */
  serverPid: number | null;
  stop(): Promise<void>;
}

/** Dev server in memory, plus one in-process worker serving both task queues. */
async function startTemporal(opts: Options, tempDirs: string[]): Promise<TemporalStack> {
  // Per-step activity logs would swamp the output and cost time in both sides unequally.
  Runtime.install({ logger: new DefaultLogger('WARN') });
  progress('starting Temporal dev server (in memory, headless)');
  const server: DevServer = await startDevServer({ uiPort: null });
  try {
    return await startWorker(server, opts, tempDirs);
  } catch (err) {
    await server.stop(); // don't leave a server behind when the worker cannot start
    throw err;
  }
}

async function startWorker(server: DevServer, opts: Options, tempDirs: string[]): Promise<TemporalStack> {
  const config = benchConfig(server.address, tempDirs);
  const connection = await NativeConnection.connect({ address: server.address });
  const client = new Client({ connection: await Connection.connect({ address: server.address }) });
  progress(`creating worker (bundling workflows; training concurrency ${opts.maxTrainings})`);
  const workers = await createWorkers({
    config,
    store: createStore(config),
    connection,
    maxConcurrentTrainings: opts.maxTrainings,
    interceptors: { activity: [timeActivities] },
  });
  const running = workers.map((w) => w.run());
  const serverPid = findDevServerPid(server.address);
  if (serverPid === null)
    console.warn(`  WARNING: no process \`temporal server start-dev --port …\` for ${server.address} in /proc: no server CPU`);
  return {
    client,
    config,
    serverPid,
    async stop() {
      progress('stopping worker and dev server');
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await Promise.allSettled(running);
      await client.connection.close();
      await connection.close();
      await server.stop();
    },
  };
}

/** Starts all runs at once, waits for all, then reads each history. */
async function runTemporalBatch(stack: TemporalStack, names: string[]): Promise<TemporalBatch> {
  const cpu = await startCpuMeter(stack.serverPid);
  const rss = startRssSampler();
  const started = performance.now();
  const handles = await Promise.all(
    names.map(async (name) => (await startRetrain(stack.client, stack.config, benchPipeline(name), { requestedBy: 'bench' })).handle),
  );
  const summaries: RetrainSummary[] = await Promise.all(handles.map((h) => h.result()));
  const wallMs = performance.now() - started;
  const peakRssMiB = rss.stop();
  const batchCpu = await cpu.stop();
  reportOutcomes(
    'temporal',
    summaries.map((s) => s.outcome),
  );
  const runs = await Promise.all(handles.map(timingsOf));
  return { wallMs, runs, peakRssMiB, cpu: batchCpu };
}

// ---------------------------------------------------------------------------------------------
// Direct side: the same activity functions in order, no Temporal

/** Runs one activity function in a mock activity context (what activityInfo/heartbeat need). */
function inContext(workflowId: string, runId: string, quiet: DefaultLogger) {
  let seq = 0;
  return <P extends unknown[], R>(fn: (...args: P) => Promise<R>, ...args: P): Promise<R> => {
    const env = new MockActivityEnvironment({ activityId: String(++seq), workflowExecution: { workflowId, runId } }, { logger: quiet });
    return env.run(fn, ...args);
  };
}

/** The workflow's happy path as a plain async function; returns its duration in ms. */
async function runDirectPipeline(deps: ActivityDeps, pipeline: Pipeline, quiet: DefaultLogger): Promise<{ ms: number; outcome: string }> {
  const light = createActivities(deps);
  const training = createTrainingActivities(deps);
  const workflowId = `direct-${pipeline.name}`;
  const runId = randomUUID();
  const run = inContext(workflowId, runId, quiet);
  const started = performance.now();

  const snapshot = await run(light.snapshotDataset, { pipeline });
  await run(light.validateSnapshot, { pipeline, snapshot });
  const split = await run(light.splitDataset, { pipeline, snapshot });
  const plan = await run(light.planVersion, { pipeline, snapshot, split });
  const trained = await run(training.trainModel, { pipeline, split, version: plan.version });
  await run(light.registerVersion, { pipeline, plan, snapshot, split, trained, workflowId, runId });
  const evaluation = await run(training.evaluateCandidate, { pipeline, version: plan.version, split });
  const gate = decideGate({
    pipeline,
    challenger: evaluation.challenger,
    champion: evaluation.champion,
    championVersion: evaluation.championVersion,
  });
  // The workflow audits its gate decision through an activity; do the same work here.
  await run(light.recordAudit, {
    type: 'gate',
    model: pipeline.name,
    version: plan.version,
    outcome: gate.passed ? 'ok' : 'rejected',
    summary: gate.reason,
    details: { ...gate },
  });
  if (!gate.passed) return { ms: performance.now() - started, outcome: 'rejected-by-gate' };
  await run(light.promoteChampion, {
    model: pipeline.name,
    version: plan.version,
    expectedChampion: evaluation.championVersion,
    reason: gate.reason,
    actor: 'bench',
    eventId: `${workflowId}/${runId}/promote`,
  });
  await run(training.verifyChampion, { pipeline, version: plan.version, split });
  return { ms: performance.now() - started, outcome: 'promoted' };
}

/** N direct scripts at once (Promise.all), the same concurrency the Temporal batch starts with. */
async function runDirectBatch(deps: ActivityDeps, names: string[], quiet: DefaultLogger): Promise<DirectBatch> {
  const cpu = await startCpuMeter(null);
  const started = performance.now();
  const results = await Promise.all(names.map((name) => runDirectPipeline(deps, benchPipeline(name), quiet)));
  const wallMs = performance.now() - started;
  const batchCpu = await cpu.stop();
  reportOutcomes(
    'direct',
    results.map((r) => r.outcome),
  );
  return { wallMs, perRunMs: results.map((r) => r.ms), cpu: batchCpu };
}

/** Anything but "promoted" means the runs did different work than intended: say so loudly. */
function reportOutcomes(side: string, outcomes: string[]): void {
  const odd = outcomes.filter((o) => o !== 'promoted');
  if (odd.length)
    console.warn(
      `  WARNING: ${side}: ${odd.length}/${outcomes.length} runs did not promote (${[...new Set(odd)].join(', ')}); numbers are not comparable`,
    );
}

// ---------------------------------------------------------------------------------------------
// Report

function fmtS(ms: number): string {
  return (ms / 1000).toFixed(2);
}

/** ms of CPU per pipeline, or n/a. */
function perPipeline(ms: number | null, n: number): string {
  return ms === null ? 'n/a' : (ms / n).toFixed(0);
}

function tableRow({ n, temporal, direct }: Row): string {
  const overheads = temporal.runs.map(overheadOf);
  const cells = [
    String(n),
    fmtS(temporal.wallMs),
    fmtS(direct.wallMs),
    (temporal.wallMs / direct.wallMs).toFixed(2),
    ((n / temporal.wallMs) * 60_000).toFixed(1),
    mean(overheads).toFixed(0),
    p95(overheads).toFixed(0),
    temporal.peakRssMiB.toFixed(0),
    perPipeline(temporal.cpu.nodeMs, n),
    perPipeline(temporal.cpu.serverMs, n),
    perPipeline(temporal.cpu.pythonMs, n),
  ];
  return `| ${cells.join(' | ')} |`;
}

/** CPU per pipeline of every process, both sides. */
function cpuLine({ n, temporal, direct }: Row): string {
  const t = temporal.cpu;
  const d = direct.cpu;
  const sum = (c: BatchCpu) => [c.nodeMs, c.launcherMs, c.pythonMs, c.serverMs].reduce<number>((a, b) => a + (b ?? 0), 0);
  return (
    `  N=${n}: CPU ms/pipeline: Temporal side: worker ${perPipeline(t.nodeMs, n)} + launcher ${perPipeline(t.launcherMs, n)} ` +
    `+ server ${perPipeline(t.serverMs, n)} + Python ${perPipeline(t.pythonMs, n)} = ${perPipeline(sum(t), n)}; ` +
    `direct: Node ${perPipeline(d.nodeMs, n)} + launcher ${perPipeline(d.launcherMs, n)} + Python ${perPipeline(d.pythonMs, n)} = ${perPipeline(sum(d), n)}`
  );
}

/**
 * A run's time outside activity functions: workflow tasks, dispatch, waiting for a training slot,
 * local activities' round trips. Local activities' own work is not overhead: measured in the
 * worker, it is subtracted with the rest.
 */
function overheadOf(r: RunTiming): number {
  return r.workflowMs - r.insideMs;
}

/** Where the overhead goes, next to what one pipeline costs without Temporal. */
function detailLine({ n, temporal, direct }: Row): string {
  const overhead = mean(temporal.runs.map(overheadOf));
  const directPer = mean(direct.perRunMs);
  return (
    `  N=${n}: overhead/pipeline ${overhead.toFixed(0)} ms vs direct per-pipeline ${directPer.toFixed(0)} ms (${((overhead / directPer) * 100).toFixed(0)}%); ` +
    `workflow ${mean(temporal.runs.map((r) => r.workflowMs)).toFixed(0)} ms = inside activity functions ${mean(temporal.runs.map((r) => r.insideMs)).toFixed(0)} ms ` +
    `(of which activity tasks' started → completed in the history ${mean(temporal.runs.map((r) => r.activityMs)).toFixed(0)} ms) ` +
    `+ overhead (of which scheduled→started, i.e. dispatch + waiting for a free slot: ${mean(temporal.runs.map((r) => r.queueMs)).toFixed(0)} ms)`
  );
}

function machineLine(opts: Options): string {
  const cpus = os.cpus();
  return (
    `Machine: ${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB RAM, ` +
    `Node ${process.version}, ${os.platform()} ${os.release()}; worker training concurrency ${opts.maxTrainings}`
  );
}

function printReport(rows: Row[], opts: Options): void {
  console.log('');
  console.log(
    '| runs | wall s (Temporal) | wall s (direct) | ratio | pipelines/min | overhead/pipeline mean ms | p95 ms | worker peak RSS MiB ' +
      '| worker CPU ms/pipeline | server CPU ms/pipeline | Python CPU ms/pipeline |',
  );
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const row of rows) console.log(tableRow(row));
  console.log('');
  console.log(machineLine(opts));
  console.log('Peak RSS is the Node process (worker, workflow isolates, client); Python training/predict subprocesses are not included.');
  for (const row of rows) console.log(detailLine(row));
  for (const row of rows) console.log(cpuLine(row));
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const tempDirs: string[] = [];
  const stack = await startTemporal(opts, tempDirs);
  const quiet = new DefaultLogger('WARN');
  // The direct side gets its own store so neither side finds the other's versions.
  const directConfig = benchConfig(stack.config.temporalAddress, tempDirs);
  const directDeps: ActivityDeps = { config: directConfig, store: createStore(directConfig) };
  const rows: Row[] = [];
  try {
    // One untimed run per side warms module caches, the workflow isolate and the OS file cache.
    progress('warm-up: one run per side (not measured)');
    await runTemporalBatch(stack, ['bench-warmup']);
    await runDirectBatch(directDeps, ['bench-warmup'], quiet);
    // The warm-up's first Python command started the launcher's fork server, which imports
    // scikit-learn for about a second: let it finish, so that it does not share the CPU with N=1.
    await new Promise((r) => setTimeout(r, 3_000));
    for (const n of opts.sizes) {
      progress(`N=${n}: Temporal: starting ${n} concurrent runs`);
      const temporal = await runTemporalBatch(stack, runNames(n));
      progress(`N=${n}: Temporal: done in ${fmtS(temporal.wallMs)} s (peak RSS ${temporal.peakRssMiB.toFixed(0)} MiB)`);
      progress(`N=${n}: direct: starting ${n} concurrent scripts`);
      const direct = await runDirectBatch(directDeps, runNames(n), quiet);
      progress(`N=${n}: direct: done in ${fmtS(direct.wallMs)} s`);
      rows.push({ n, temporal, direct });
    }
  } finally {
    await stack.stop();
    for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  }
  printReport(rows, opts);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
