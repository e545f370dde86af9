/**
 * Prediction logging through the HTTP API (`POST /v1/predictions` of `retrain serve`) against
 * the Node library (`createPredictionLogger`) writing the same lines straight to the store, on
 * the local store and on MinIO. Not a test: it measures and prints, it asserts nothing.
 *
 *   node --import tsx bench/api.ts [--duration 10] [--connections 10] [--batches 1,100,1000]
 *                                  [--stores local,minio] [--warmup 2] [--cpu-prof DIR]
 *
 * Per store and batch size: a fresh `node bin/retrain.mjs serve` child process (its own event
 * loop, so the load generator does not share one with it) on a fresh store location, loaded by
 * autocannon from this process with `--connections` connections, each request a JSON array of
 * `batch` prediction lines with fresh ids; then bench/api-peer-child.ts writes the same kind of
 * lines with the library, `--connections` writers at once, flushing after each batch. Each
 * side's lines are then read back from the store and checked against what was acknowledged.
 * See bench/README.md for what each column means.
 */
import { checkBenchArgs } from './bench-args';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { hashToken, type TokensFile } from '../lib/api-tokens';
import { keys } from '../lib/keys';
import { LocalStore } from '../store/local-store';
import { S3Store } from '../store/s3-store';
import type { Store } from '../store/store';
import { startMinio, type Minio } from '../test/helpers/minio';
import { BENCH_MODEL, BENCH_VERSION, benchEntry, benchId, ID_DIGITS, vmHwmKiB, type PeerArgs, type PeerResult } from './api-peer-child';
import { freePort } from '../test/helpers/free-port';

const REPO = resolve(import.meta.dirname, '..');
const RETRAIN_BIN = join(REPO, 'bin/retrain.mjs');
const PEER = join(REPO, 'bench/api-peer-child.ts');
const benchStart = Date.now();
const loadStart = os.loadavg()[0].toFixed(2);
/** The issue's goal, printed next to the result (not enforced). */
const GOAL = { batch: 100, predictionsPerSecond: 50_000, p99Ms: 50 };

// ---------------------------------------------------------------------------------------------
// autocannon (CommonJS, no types of its own): the part of its API used here.

interface AutocannonRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  setupRequest?: (request: AutocannonRequest, context: Record<string, unknown>) => AutocannonRequest;
  onResponse?: (status: number, body: string, context: Record<string, unknown>) => void;
}

interface AutocannonResult {
  /** Milliseconds. */
  latency: { p50: number; p99: number };
  requests: { total: number };
  /** Seconds. */
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
}

type Autocannon = (
  opts: {
    url: string;
    connections: number;
    duration: number;
    method: string;
    headers: Record<string, string>;
    requests: AutocannonRequest[];
    timeout: number;
  },
  done: (err: Error | null, result: AutocannonResult) => void,
) => unknown;

const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

// ---------------------------------------------------------------------------------------------
// Options

interface Options {
  durationSeconds: number;
  connections: number;
  batches: number[];
  stores: StoreKind[];
  warmupSeconds: number;
  /** Directory for the server's CPU profiles (node --cpu-prof), or null. */
  cpuProfDir: string | null;
}

type StoreKind = 'local' | 'minio';

function parseArgs(argv: string[]): Options {
  const value = checkBenchArgs(
    argv,
    { values: ['--batches', '--stores', '--warmup', '--cpu-prof', '--duration', '--connections'] },
    import.meta.url,
  );
  const positive = (flag: string, fallback: string, integer: boolean) => {
    const n = Number(value(flag) ?? fallback);
    if (!(n > 0) || (integer && !Number.isInteger(n))) throw new Error(`${flag} expects a positive ${integer ? 'integer' : 'number'}`);
    return n;
  };
  const batches = (value('--batches') ?? '1,100,1000').split(',').map((s) => Number(s.trim()));
  if (batches.some((n) => !Number.isInteger(n) || n < 1 || n > 5000))
    throw new Error('--batches expects integers from 1 to 5000 (the API takes at most 5000 lines per request), e.g. 1,100,1000');
  const stores = (value('--stores') ?? 'local,minio').split(',').map((s) => s.trim());
  for (const s of stores) if (s !== 'local' && s !== 'minio') throw new Error(`--stores expects local and/or minio, got "${s}"`);
  const warmup = Number(value('--warmup') ?? 2);
  if (!(warmup >= 0)) throw new Error('--warmup expects seconds (0 for none)');
  const cpuProf = value('--cpu-prof');
  return {
    durationSeconds: positive('--duration', '10', false),
    connections: positive('--connections', '10', true),
    batches,
    stores: stores as StoreKind[],
    warmupSeconds: warmup,
    cpuProfDir: cpuProf ? resolve(cpuProf) : null,
  };
}

function progress(message: string): void {
  process.stderr.write(`[${((Date.now() - benchStart) / 1000).toFixed(1).padStart(6)}s] ${message}\n`);
}

// ---------------------------------------------------------------------------------------------
// Request bodies: one template per cell, ids patched in place (fixed width), so the load
// generator spends almost nothing per request and never sends an id twice.

class Bodies {
  private readonly template: Buffer;
  /** Byte offset of each line's id counter in the template. */
  private readonly offsets: number[] = [];
  /** The next unused id counter. */
  used = 0;

  constructor(tag: string, batch: number, timestamp: string) {
    const placeholder = benchId(tag, 0);
    let text = '[';
    for (let i = 0; i < batch; i++) {
      const line =
        (i ? ',' : '') + JSON.stringify({ id: placeholder, timestamp, model: BENCH_MODEL, version: BENCH_VERSION, ...benchEntry(i) });
      this.offsets.push(text.length + line.indexOf(placeholder) + tag.length + 1);
      text += line;
    }
    this.template = Buffer.from(text + ']', 'latin1');
  }

  next(): { first: number; body: Buffer } {
    const first = this.used;
    this.used += this.offsets.length;
    const body = Buffer.allocUnsafe(this.template.length);
    this.template.copy(body);
    for (let i = 0; i < this.offsets.length; i++) body.write(String(first + i).padStart(ID_DIGITS, '0'), this.offsets[i], 'latin1');
    return { first, body };
  }
}

// ---------------------------------------------------------------------------------------------
// Processes

interface Server {
  url: string;
  pid: number;
  /** CPU seconds of the server so far, all its threads (JS, libuv's pool, GC). */
  cpu(): ProcCpu;
  /** SIGTERM (it answers the requests in flight), then waits for the exit; returns the peak RSS, KiB. */
  stop(): Promise<number>;
  /** Lines the server logged (warn and above): 5xx answers, failed writes. */
  logged: string[];
}

interface ProcCpu {
  user: number;
  system: number;
}

/** CPU seconds of a process from /proc/<pid>/stat (utime and stime, in clock ticks of 100 Hz). */
function procCpu(pid: number): ProcCpu {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 };
}

/** Busy and total CPU time of the machine (all cores), from /proc/stat, in clock ticks. */
function machineTicks(): { busy: number; total: number } {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = cpu.reduce((a, b) => a + b, 0);
  return { busy: total - cpu[3] - (cpu[4] ?? 0), total };
}

async function startServer(baseEnv: NodeJS.ProcessEnv, cpuProfDir: string | null): Promise<Server> {
  const env = { ...baseEnv, RETRAIN_API_ADDRESS: `127.0.0.1:${await freePort()}` };
  const args = [...(cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', cpuProfDir] : []), RETRAIN_BIN, 'serve'];
  const child = spawn(process.execPath, args, { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const logged: string[] = [];
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => logged.push(...d.toString().split('\n').filter(Boolean)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return new Promise<Server>((resolveServer, reject) => {
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(err);
    };
    const timer = setTimeout(() => fail(new Error(`retrain serve did not start within 60 s:\n${stderr}`)), 60_000);
    child.once('exit', (code, signal) => fail(new Error(`retrain serve exited (${code ?? signal}) before listening:\n${stderr}`)));
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = /listening on (http:\/\/\S+) /.exec(stderr);
      if (!m || settled) return;
      settled = true;
      clearTimeout(timer);
      resolveServer(serverOf(child, m[1], logged, exited));
    });
  });
}

function serverOf(child: ChildProcess, url: string, logged: string[], exited: Promise<void>): Server {
  const pid = child.pid!;
  return {
    url,
    pid,
    logged,
    cpu: () => procCpu(pid),
    async stop() {
      const peak = vmHwmKiB(pid);
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(killer);
      return peak;
    },
  };
}

/** Runs the library side in its own process; resolves with its result line. */
function runPeer(env: NodeJS.ProcessEnv, args: PeerArgs): Promise<PeerResult> {
  return new Promise((resolvePeer, reject) => {
    const child = spawn(process.execPath, ['--no-warnings', '--import', 'tsx', PEER, JSON.stringify(args)], {
      cwd: REPO,
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0) resolvePeer(JSON.parse(stdout.trim().split('\n').pop()!) as PeerResult);
      else reject(new Error(`bench/api-peer-child.ts failed (exit ${code ?? signal})`));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Load

interface LoadRun {
  result: AutocannonResult;
  /** Predictions the answers said were stored (200 with stored = batch), and the first id of each such request. */
  acknowledged: number;
  ackFirsts: number[];
  /** 200 answers that did not store the whole batch (duplicates or rejected lines): should be 0. */
  partial: number;
  /** First non-2xx answer (status and body), to say what went wrong. */
  firstFailure?: string;
}

function load(url: string, token: string, bodies: Bodies, batch: number, connections: number, seconds: number): Promise<LoadRun> {
  const run = { acknowledged: 0, ackFirsts: [] as number[], partial: 0, firstFailure: undefined as string | undefined };
  const request: AutocannonRequest = {
    // A fresh body per request: autocannon calls this for each one it sends.
    setupRequest: (req, context) => {
      const { first, body } = bodies.next();
      context.first = first;
      req.body = body;
      return req;
    },
    // The context is the one setupRequest filled for this request (one request in flight per connection).
    onResponse: (status, body, context) => {
      if (status === 200) {
        const answer = JSON.parse(body) as { stored: number; duplicates: number };
        run.acknowledged += answer.stored;
        if (answer.stored === batch) run.ackFirsts.push(context.first as number);
        else run.partial++;
      } else run.firstFailure ??= `${status} ${body.slice(0, 300)}`;
    },
  };
  return new Promise((resolveRun, reject) =>
    autocannon(
      {
        url: `${url}/v1/predictions`,
        connections,
        duration: seconds,
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        requests: [request],
        timeout: 30,
      },
      (err, result) => (err ? reject(err) : resolveRun({ result, ...run })),
    ),
  );
}

// ---------------------------------------------------------------------------------------------
// Reading the store back

interface StoreCheck {
  files: number;
  lines: number;
  /** Times each id counter 0 … used-1 occurs in the store. */
  counts: Uint8Array;
  /** Lines whose id is not one of this cell's. */
  foreign: number;
}

async function readBack(store: Store, tag: string, used: number): Promise<StoreCheck> {
  const batchKeys = await store.list(keys.predictions(BENCH_MODEL));
  const counts = new Uint8Array(used);
  let lines = 0;
  let foreign = 0;
  let next = 0;
  const reader = async () => {
    while (next < batchKeys.length) {
      const body = await store.get(batchKeys[next++]);
      if (!body) continue;
      for (const text of body.toString('utf8').split('\n')) {
        if (!text) continue;
        lines++;
        const id = (JSON.parse(text) as { id: string }).id;
        const n = Number(id.slice(-ID_DIGITS));
        if (id.startsWith(`${tag}-`) && id.length === tag.length + 1 + ID_DIGITS && n < used) counts[n] = Math.min(255, counts[n] + 1);
        else foreign++;
      }
    }
  };
  await Promise.all(Array.from({ length: 16 }, reader));
  return { files: batchKeys.length, lines, counts, foreign };
}

// ---------------------------------------------------------------------------------------------
// CPU profile: self time per function

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
}

function summariseProfile(dir: string, top: number): string[] {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) return [`  (no .cpuprofile in ${dir})`];
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  const byPlace = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const { functionName, url, lineNumber, columnNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)') return;
    const us = profile.timeDeltas[i] ?? 0;
    total += us;
    const where = url ? url.replace(`file://${REPO}/`, '').replace(/^.*node_modules\//, '') : '';
    // tsx compiles each module to one line: the column tells anonymous functions apart there.
    const at = lineNumber === 0 && columnNumber > 0 ? `col ${columnNumber + 1}` : String(lineNumber + 1);
    const key = `${functionName || '(anonymous)'} ${where ? `${where}:${at}` : ''}`.trim();
    self.set(key, (self.get(key) ?? 0) + us);
    const place = !url
      ? functionName || '(native code)'
      : url.startsWith('node:')
        ? 'node internals'
        : (/node_modules\/((@[^/]+\/)?[^/]+)/.exec(url)?.[1] ?? url.replace(`file://${REPO}/`, '').split('/')[0] + '/');
    byPlace.set(place, (byPlace.get(place) ?? 0) + us);
  });
  const pct = (us: number) => `${((us / total) * 100).toFixed(1).padStart(5)}%`;
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  return [
    `  busy ${(total / 1e6).toFixed(2)} s (whole process life, start-up included; idle left out), ${file}`,
    `  by package: ${sorted(byPlace)
      .slice(0, 10)
      .map(([k, us]) => `${k} ${pct(us).trim()}`)
      .join(', ')}`,
    ...sorted(self)
      .slice(0, top)
      .map(([k, us]) => `  ${pct(us)}  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`),
  ];
}

// ---------------------------------------------------------------------------------------------
// The run

interface Cell {
  store: StoreKind;
  batch: number;
  api: LoadRun;
  apiWarmup: LoadRun | null;
  serverPeakKiB: number;
  /** Server CPU seconds and machine busy share during the timed run. */
  serverCpu: ProcCpu;
  benchCpu: number;
  machineBusy: number;
  serverLogged: string[];
  apiCheck: StoreCheck;
  /** Ids the API side handed out (sent or not). */
  apiUsed: number;
  peer: PeerResult;
  peerCheck: StoreCheck;
  profile?: string[];
}

interface StoreSide {
  kind: StoreKind;
  /** Environment of the server and the library child for one store location. */
  env(location: string): NodeJS.ProcessEnv;
  /** The same location, for reading it back from this process. */
  reader(location: string): Store;
  describe: string;
}

async function runCell(opts: Options, side: StoreSide, batch: number, token: string): Promise<Cell> {
  const name = `${side.kind} batch ${batch}`;
  const timestamp = new Date().toISOString();
  const apiTag = `api-${side.kind}-b${batch}-${randomBytes(3).toString('hex')}`;
  const apiEnv = side.env(apiTag);
  const profDir = opts.cpuProfDir ? join(opts.cpuProfDir, `${side.kind}-b${batch}`) : null;
  if (profDir) mkdirSync(profDir, { recursive: true });

  progress(`${name}: API: starting retrain serve`);
  const server = await startServer(apiEnv, profDir);
  const bodies = new Bodies(apiTag, batch, timestamp);
  let apiWarmup: LoadRun | null = null;
  let api: LoadRun;
  let serverCpu: ProcCpu;
  let benchCpu: number;
  let machineBusy: number;
  let serverPeakKiB: number;
  try {
    if (opts.warmupSeconds > 0) {
      progress(`${name}: API: warm-up ${opts.warmupSeconds} s (not measured)`);
      apiWarmup = await load(server.url, token, bodies, batch, opts.connections, opts.warmupSeconds);
    }
    progress(`${name}: API: ${opts.durationSeconds} s, ${opts.connections} connections`);
    const cpu0 = server.cpu();
    const bench0 = process.cpuUsage();
    const machine0 = machineTicks();
    api = await load(server.url, token, bodies, batch, opts.connections, opts.durationSeconds);
    const machine1 = machineTicks();
    const bench1 = process.cpuUsage(bench0);
    const cpu1 = server.cpu();
    serverCpu = { user: cpu1.user - cpu0.user, system: cpu1.system - cpu0.system };
    benchCpu = (bench1.user + bench1.system) / 1e6;
    machineBusy = (machine1.busy - machine0.busy) / (machine1.total - machine0.total);
  } finally {
    serverPeakKiB = await server.stop();
  }
  const r = api.result;
  progress(
    `${name}: API: ${Math.round(api.acknowledged / r.duration)} predictions/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, ` +
      `${r.errors + r.timeouts} errors, ${r.non2xx} non-2xx${api.firstFailure ? ` (first: ${api.firstFailure})` : ''}`,
  );
  progress(`${name}: API: reading the store back`);
  const apiCheck = await readBack(side.reader(apiTag), apiTag, bodies.used);

  const peerTag = `lib-${side.kind}-b${batch}-${randomBytes(3).toString('hex')}`;
  const peerEnv = side.env(peerTag);
  progress(`${name}: library: ${opts.warmupSeconds} s warm-up, then ${opts.durationSeconds} s, ${opts.connections} writers`);
  const peer = await runPeer(peerEnv, {
    tag: peerTag,
    batch,
    writers: opts.connections,
    warmupSeconds: opts.warmupSeconds,
    durationSeconds: opts.durationSeconds,
    timestamp,
  });
  progress(
    `${name}: library: ${Math.round(peer.predictions / peer.seconds)} predictions/s, p50 ${peer.p50Ms.toFixed(1)} ms, p99 ${peer.p99Ms.toFixed(1)} ms`,
  );
  progress(`${name}: library: reading the store back`);
  const peerCheck = await readBack(side.reader(peerTag), peerTag, peer.idsUsed);
  return {
    store: side.kind,
    batch,
    api,
    apiWarmup,
    serverPeakKiB,
    serverCpu,
    benchCpu,
    machineBusy,
    serverLogged: server.logged,
    apiCheck,
    apiUsed: bodies.used,
    peer,
    peerCheck,
    ...(profDir ? { profile: summariseProfile(profDir, 15) } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// Report

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => (Number.isFinite(n) ? (n < 10 ? n.toFixed(1) : n.toFixed(0)) : 'n/a');
const apiRate = (c: Cell) => c.api.acknowledged / c.api.result.duration;
const peerRate = (c: Cell) => c.peer.predictions / c.peer.seconds;

function mainRow(c: Cell): string {
  const r = c.api.result;
  const cells = [
    c.store,
    int(c.batch),
    int(r.requests.total / r.duration),
    int(apiRate(c)),
    ms(r.latency.p50),
    ms(r.latency.p99),
    `${r.errors + r.timeouts}/${r.non2xx}`,
    (c.serverPeakKiB / 1024).toFixed(0),
    int(peerRate(c)),
    (apiRate(c) / peerRate(c)).toFixed(2),
  ];
  return `| ${cells.join(' | ')} |`;
}

function peerRow(c: Cell): string {
  const p = c.peer;
  const cells = [
    c.store,
    int(c.batch),
    int(p.batches / p.seconds),
    int(peerRate(c)),
    ms(p.p50Ms),
    ms(p.p99Ms),
    String(p.errors),
    (p.peakKiB / 1024).toFixed(0),
    (p.cpuSeconds / p.seconds).toFixed(2),
  ];
  return `| ${cells.join(' | ')} |`;
}

/** What the store holds against what was acknowledged; a lost or doubled acknowledged line is an error. */
function checkLines(c: Cell, opts: Options): string[] {
  const out: string[] = [];
  // API: every acknowledged request's ids must be there once; lines beyond them belong to
  // requests that were in flight when autocannon stopped (answered after it had gone).
  const acked = new Uint8Array(c.apiUsed);
  let ackedLines = 0;
  for (const run of [c.apiWarmup, c.api]) {
    for (const first of run?.ackFirsts ?? []) {
      for (let i = 0; i < c.batch; i++) acked[first + i] = 1;
      ackedLines += c.batch;
    }
  }
  let lost = 0;
  let twice = 0;
  let unacked = 0;
  for (let n = 0; n < c.apiUsed; n++) {
    const k = c.apiCheck.counts[n];
    if (acked[n] && k === 0) lost++;
    if (k > 1) twice++;
    if (!acked[n] && k > 0) unacked++;
  }
  const apiAcknowledged = c.api.acknowledged + (c.apiWarmup?.acknowledged ?? 0);
  const apiOk = lost === 0 && twice === 0 && c.apiCheck.foreign === 0 && ackedLines === apiAcknowledged;
  out.push(
    `  ${c.store} batch ${c.batch}, API: ${int(c.apiCheck.lines)} lines in ${int(c.apiCheck.files)} files = ${int(apiAcknowledged)} acknowledged ` +
      `(${int(c.api.acknowledged)} timed + ${int(c.apiWarmup?.acknowledged ?? 0)} warm-up) + ${int(unacked)} of requests cut off when the load stopped ` +
      `(at most ${int(2 * c.batch * opts.connections)}); acknowledged but missing ${lost}, stored twice ${twice}` +
      `${c.apiCheck.foreign ? `, foreign ${c.apiCheck.foreign}` : ''}${c.api.partial ? `, partly stored answers ${c.api.partial}` : ''} → ${apiOk && unacked <= 2 * c.batch * opts.connections ? 'OK' : 'WRONG'}`,
  );
  const p = c.peer;
  let peerTwice = 0;
  for (const k of c.peerCheck.counts) if (k > 1) peerTwice++;
  const expected = p.idsUsed - p.unwritten;
  const peerOk = c.peerCheck.lines === expected && peerTwice === 0 && c.peerCheck.foreign === 0 && p.unwritten === 0;
  out.push(
    `  ${c.store} batch ${c.batch}, library: ${int(c.peerCheck.lines)} lines in ${int(c.peerCheck.files)} files; written ${int(expected)} ` +
      `(${int(p.predictions)} timed + ${int(p.warmupPredictions)} warm-up${expected > p.predictions + p.warmupPredictions ? ' + the rest at close' : ''}), ` +
      `never written ${p.unwritten}, stored twice ${peerTwice} → ${peerOk ? 'OK' : 'WRONG'}`,
  );
  return out;
}

function printReport(cells: Cell[], opts: Options, sides: StoreSide[]): void {
  console.log('');
  console.log(
    '| store | batch | req/s | predictions/s | p50 ms | p99 ms | errors/non-2xx | server peak RSS MiB | Node library predictions/s | ratio (API / library) |',
  );
  console.log('|:---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const c of cells) console.log(mainRow(c));
  console.log('');
  console.log('Node library side (bench/api-peer-child.ts: one logger per writer, flush after each batch):');
  console.log('');
  console.log('| store | batch | flushes/s | predictions/s | p50 ms (log + flush) | p99 ms | errors | peak RSS MiB | CPU (cores) |');
  console.log('|:---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const c of cells) console.log(peerRow(c));
  console.log('');
  console.log('Store check (every acknowledged prediction must be in the store exactly once):');
  for (const c of cells) for (const line of checkLines(c, opts)) console.log(line);
  console.log('');
  console.log('CPU during the timed API run (cores: 1.00 = one core busy the whole time):');
  for (const c of cells) {
    const d = c.api.result.duration;
    const serverCpu = c.serverCpu.user + c.serverCpu.system;
    const warnings = c.serverLogged.length;
    console.log(
      `  ${c.store} batch ${c.batch}: server ${(serverCpu / d).toFixed(2)} (user ${(c.serverCpu.user / d).toFixed(2)}, system ${(c.serverCpu.system / d).toFixed(2)}; ` +
        `${((serverCpu / c.api.acknowledged) * 1e6).toFixed(1)} µs per prediction), ` +
        `bench process (autocannon) ${(c.benchCpu / d).toFixed(2)}, ` +
        `whole machine ${(c.machineBusy * os.cpus().length).toFixed(2)} of ${os.cpus().length}` +
        `${warnings ? `; the server logged ${warnings} warning/error lines, first: ${c.serverLogged[0].slice(0, 300)}` : ''}`,
    );
  }
  const goal = cells.filter((c) => c.batch === GOAL.batch);
  if (goal.length) {
    console.log('');
    console.log(
      `Goal of the issue (batches of ${GOAL.batch}: ≥ ${int(GOAL.predictionsPerSecond)} predictions/s and p99 < ${GOAL.p99Ms} ms): ` +
        goal
          .map(
            (c) =>
              `${c.store} ${int(apiRate(c))}/s, p99 ${ms(c.api.result.latency.p99)} ms: ` +
              `${apiRate(c) >= GOAL.predictionsPerSecond && c.api.result.latency.p99 < GOAL.p99Ms ? 'met' : 'not met'}`,
          )
          .join('; '),
    );
  }
  for (const c of cells) {
    if (!c.profile) continue;
    console.log('');
    console.log(`Server CPU profile, ${c.store} batch ${c.batch} (self time):`);
    for (const line of c.profile) console.log(line);
  }
  console.log('');
  const cpus = os.cpus();
  console.log(
    `Machine: ${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB RAM, ` +
      `Node ${process.version}, ${os.platform()} ${os.release()}; load average ${loadStart} at start, ${os.loadavg()[0].toFixed(2)} at end. ` +
      `${opts.durationSeconds} s per side and cell after ${opts.warmupSeconds} s of warm-up, ${opts.connections} connections/writers; ` +
      `stores: ${sides.map((s) => `${s.kind} = ${s.describe}`).join(', ')}. Server, load generator and MinIO share the machine.`,
  );
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const root = mkdtempSync(join(os.tmpdir(), 'retrain-bench-api-'));
  const token = `rt_${randomBytes(32).toString('base64url')}`;
  const tokensFile: TokensFile = { tokens: [{ name: 'bench', sha256: hashToken(token), scopes: ['log'] }] };
  const tokensPath = join(root, 'api-tokens.json');
  writeFileSync(tokensPath, JSON.stringify(tokensFile), { mode: 0o600 });
  // Only what the processes need: no RETRAIN_* or AWS_* of the caller's shell leaks in.
  const baseEnv: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    RETRAIN_PROJECT_DIR: REPO,
    RETRAIN_API_TOKENS_FILE: tokensPath,
    RETRAIN_LOG_LEVEL: 'warn',
  };
  let minio: Minio | null = null;
  const cleanup = async () => {
    await minio?.stop();
    rmSync(root, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));
  const cells: Cell[] = [];
  const sides: StoreSide[] = [];
  try {
    for (const kind of opts.stores) {
      let side: StoreSide;
      if (kind === 'local') {
        side = {
          kind,
          describe: `a directory in ${os.tmpdir()}`,
          env: (location) => {
            const dir = join(root, location);
            mkdirSync(dir, { recursive: true });
            return { ...baseEnv, RETRAIN_STORE: dir };
          },
          reader: (location) => new LocalStore(join(root, location)),
        };
      } else {
        progress('starting MinIO');
        const m = (minio = await startMinio());
        side = {
          kind,
          describe: `MinIO on loopback (one node, data in ${os.tmpdir()})`,
          env: (location) => ({
            ...baseEnv,
            RETRAIN_STORE: `s3://${m.bucket}/${location}`,
            RETRAIN_S3_ENDPOINT: m.endpoint,
            AWS_ACCESS_KEY_ID: m.accessKeyId,
            AWS_SECRET_ACCESS_KEY: m.secretAccessKey,
            AWS_REGION: 'us-east-1',
            AWS_CONFIG_FILE: '/nonexistent',
            AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
            AWS_EC2_METADATA_DISABLED: 'true',
          }),
          reader: (location) => new S3Store({ client: m.client(), bucket: m.bucket, prefix: location }),
        };
      }
      sides.push(side);
      for (const batch of opts.batches) cells.push(await runCell(opts, side, batch, token));
    }
  } finally {
    await cleanup();
  }
  printReport(cells, opts, sides);
  if (opts.cpuProfDir) console.log(`CPU profiles: ${opts.cpuProfDir}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
