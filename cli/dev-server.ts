import { Connection } from '@temporalio/client';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { findTemporalCli } from '../scripts/provision.mjs';

/** A running Temporal dev server, as {@link startDevServer} returns it. */
export interface DevServer {
  /** Frontend address, `host:port`. */
  address: string;
  /** Web UI, or null when there is none (headless or SDK-downloaded server). */
  uiUrl: string | null;
  /** Stops the server and waits until it has exited. */
  stop(): Promise<void>;
}

/**
 * What is recorded of a dev server started with `stateFile`, so that the next `retrain dev` knows
 * whose server answers at the address: one still in use (its owner runs), or one left running by
 * an owner that crashed, which it then takes over and stops when it stops.
 */
export interface DevServerState {
  /** The `temporal server start-dev` process. */
  pid: number;
  /** The process that started the server and stops it (a `retrain dev` or `retrain demo`). */
  ownerPid: number;
  address: string;
  uiUrl: string | null;
  startedAt: string;
}

/**
 * Starts a local Temporal dev server (`temporal server start-dev`) and waits until it answers.
 * With `dbFile` its state survives restarts; without, it lives in memory (tests). With
 * `stateFile`, its pid and owner are recorded there (see {@link DevServerState}) until it stops.
 */
export async function startDevServer(
  opts: { port?: number; uiPort?: number | null; dbFile?: string; logFile?: string; stateFile?: string } = {},
): Promise<DevServer> {
  const cli: string | null = findTemporalCli();
  if (!cli) return startDownloadedServer(opts);
  const port = opts.port ?? (await freePort());
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--log-level',
    'error',
    '--namespace',
    'default',
    // The dev server has one history shard, which reads new tasks at most 20 times a second by
    // default: past the first few, every step of a run waited ~45 ms for the next read (bench/README.md).
    '--dynamic-config-value',
    'history.transferProcessorMaxPollRPS=1000',
  ];
  if (opts.uiPort === null) args.push('--headless');
  else if (opts.uiPort !== undefined) args.push('--ui-port', String(opts.uiPort));
  if (opts.dbFile) {
    mkdirSync(dirname(opts.dbFile), { recursive: true });
    args.push('--db-filename', opts.dbFile);
  }
  let out: 'ignore' | number = 'ignore';
  if (opts.logFile) {
    mkdirSync(dirname(opts.logFile), { recursive: true });
    out = openSync(opts.logFile, 'a');
  }
  const child = spawn(cli, args, { stdio: ['ignore', out, out] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const address = `127.0.0.1:${port}`;
  await Promise.race([
    waitUntilServing(address, 120_000),
    exited.then((code) => {
      throw new Error(`temporal dev server exited with code ${code} before it was ready${opts.logFile ? ` (see ${opts.logFile})` : ''}`);
    }),
  ]);
  const uiPort = opts.uiPort === null ? null : (opts.uiPort ?? port + 1000);
  const uiUrl = uiPort ? `http://127.0.0.1:${uiPort}` : null;
  const { stateFile } = opts;
  if (stateFile && child.pid !== undefined)
    writeDevServerState(stateFile, { pid: child.pid, ownerPid: process.pid, address, uiUrl, startedAt: new Date().toISOString() });
  return {
    address,
    uiUrl,
    async stop() {
      await stopProcess(child, exited);
      if (stateFile) forgetDevServer(stateFile, child.pid);
    },
  };
}

/** Where the dev server that `retrain dev` starts is recorded: its pid, owner and address. */
export function devServerStateFile(projectDir: string): string {
  return join(projectDir, '.retrain', 'temporal', 'dev-server.json');
}

/**
 * When a `retrain dev` runs for this project but no worker polls a queue a command needs, "start
 * `retrain dev`" is no help: this says what to look at instead. Null when no `retrain dev` runs.
 */
export function runningDevHint(projectDir: string): string | null {
  const state = readDevServerState(devServerStateFile(projectDir));
  if (!state || !isAlive(state.ownerPid)) return null;
  return (
    `A \`retrain dev\` is running (pid ${state.ownerPid}), but its worker does not poll that queue: ` +
    'check that both use the same RETRAIN_TASK_QUEUE and RETRAIN_TRAINING_TASK_QUEUE, and its worker log (.retrain/logs/worker.log)'
  );
}

/** The recorded dev server, or null when none is recorded (or the record cannot be read). */
export function readDevServerState(stateFile: string): DevServerState | null {
  try {
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as Partial<DevServerState>;
    return typeof state.pid === 'number' && typeof state.ownerPid === 'number' && typeof state.address === 'string'
      ? (state as DevServerState)
      : null;
  } catch {
    return null;
  }
}

function writeDevServerState(stateFile: string, state: DevServerState): void {
  mkdirSync(dirname(stateFile), { recursive: true });
  writeFileSync(stateFile, JSON.stringify(state, null, 2) + '\n');
}

/** Removes the record, unless it has meanwhile been rewritten for another server. */
function forgetDevServer(stateFile: string, pid: number | undefined): void {
  if (readDevServerState(stateFile)?.pid === pid || !existsSync(stateFile)) rmSync(stateFile, { force: true });
}

/** True while a process with this pid runs (one we may not signal counts too; one that exited but is not yet reaped does not). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return !existsSync('/proc'); // no /proc (macOS): the signal said it exists; else it has just gone
  }
}

/** Whose server answers at `address`, from the record: see {@link DevServerState}. */
export type RecordedDevServer =
  | { kind: 'in-use'; state: DevServerState }
  | { kind: 'orphaned'; state: DevServerState }
  /** No record of it (or a stale one): some other server, left alone. */
  | { kind: 'unknown' };

/**
 * What the record says of the server answering at `address`: started by a `retrain dev` that
 * still runs (`in-use`), left behind by one that crashed (`orphaned`), or not recorded. A record
 * of a server that is gone, or at another address, is stale and removed.
 */
export function recordedDevServer(stateFile: string, address: string): RecordedDevServer {
  const state = readDevServerState(stateFile);
  if (!state) return { kind: 'unknown' };
  if (!sameAddress(state.address, address) || !isAlive(state.pid) || !looksLikeDevServer(state.pid)) {
    rmSync(stateFile, { force: true });
    return { kind: 'unknown' };
  }
  return { kind: state.ownerPid !== process.pid && isAlive(state.ownerPid) ? 'in-use' : 'orphaned', state };
}

/** `localhost:7233` and `127.0.0.1:7233` are one address (the dev server listens on 127.0.0.1). */
function sameAddress(a: string, b: string): boolean {
  const loopback = (host: string) => ['localhost', '127.0.0.1', '::1', '[::1]'].includes(host);
  const split = (x: string) => [x.slice(0, x.lastIndexOf(':')), x.slice(x.lastIndexOf(':') + 1)] as const;
  const [[hostA, portA], [hostB, portB]] = [split(a), split(b)];
  return portA === portB && (hostA === hostB || (loopback(hostA) && loopback(hostB)));
}

/** Where /proc says what a process runs: a recycled pid that is no dev server is not ours to stop. */
function looksLikeDevServer(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('start-dev');
  } catch {
    return !existsSync('/proc'); // no /proc (macOS): trust the record
  }
}

/**
 * Takes over a dev server whose owner crashed: the record names this process as its owner, and
 * `stop()` stops it (SIGTERM, then SIGKILL after 10 s) and removes the record.
 */
export function adoptDevServer(stateFile: string, state: DevServerState): DevServer {
  writeDevServerState(stateFile, { ...state, ownerPid: process.pid });
  return {
    address: state.address,
    uiUrl: state.uiUrl,
    async stop() {
      await stopPid(state.pid);
      forgetDevServer(stateFile, state.pid);
    },
  };
}

async function stopPid(pid: number, graceMs = 10_000): Promise<void> {
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(pid, s);
    } catch {
      // already gone
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && looksLikeDevServer(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (!isAlive(pid) || !looksLikeDevServer(pid)) return;
  signal('SIGKILL');
  // Bounded: a killed process nobody reaps stays listed as a zombie.
  for (let i = 0; i < 100 && isAlive(pid) && looksLikeDevServer(pid); i++) await new Promise((r) => setTimeout(r, 50));
}

/** True when a Temporal frontend answers at `address`. */
export async function isServing(address: string): Promise<boolean> {
  try {
    const connection = await Connection.connect({ address, connectTimeout: 1_000 });
    try {
      await connection.workflowService.getSystemInfo({});
      return true;
    } finally {
      await connection.close();
    }
  } catch {
    return false;
  }
}

async function waitUntilServing(address: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await isServing(address)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`temporal dev server at ${address} did not answer within ${timeoutMs / 1000}s`);
}

async function stopProcess(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Without a CLI binary, the SDK downloads one (machines with internet only). */
async function startDownloadedServer(opts: { port?: number; dbFile?: string }): Promise<DevServer> {
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  const env = await TestWorkflowEnvironment.createLocal({ server: { port: opts.port, dbFilename: opts.dbFile } });
  return { address: env.address, uiUrl: null, stop: () => env.teardown() };
}

/** A TCP port free on loopback right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
