import { Connection } from '@temporalio/client';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
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
 * Starts a local Temporal dev server (`temporal server start-dev`) and waits until it answers.
 * With `dbFile` its state survives restarts; without, it lives in memory (tests).
 */
export async function startDevServer(
  opts: { port?: number; uiPort?: number | null; dbFile?: string; logFile?: string } = {},
): Promise<DevServer> {
  const cli: string | null = findTemporalCli();
  if (!cli) return startDownloadedServer(opts);
  const port = opts.port ?? (await freePort());
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--log-level', 'error', '--namespace', 'default'];
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
  return { address, uiUrl: uiPort ? `http://127.0.0.1:${uiPort}` : null, stop: () => stopProcess(child, exited) };
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
