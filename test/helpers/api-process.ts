// The real `retrain serve` command in a child process, so a test can SIGKILL it mid-request like
// a crashed machine and start it again on the same port (clients keep their URL), and a tokens
// file for it.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashToken, type Scope } from '../../lib/api-tokens';
import { REPO } from './pipelines';
import { freePort } from './free-port';

const READY_TIMEOUT_MS = 60_000;
/** The end of the process's output kept for error messages. */
const OUTPUT_KEPT = 64 * 1024;

export interface ApiProcess {
  /** http://127.0.0.1:<port>, the same across restarts. */
  url: string;
  port: number;
  /** What the current process printed (stdout and stderr, the last 64 KiB). */
  output(): string;
  /** Whether a process is running now. */
  running(): boolean;
  /** SIGKILL: no answer for the requests in flight, nothing flushed. Resolves once it is gone. */
  kill(): Promise<void>;
  /** A new process on the same port with the same environment; resolves once /healthz answers. */
  restart(): Promise<void>;
  /** SIGTERM (SIGKILL after 5 s): for clean-up. */
  stop(): Promise<void>;
}

/** Writes a tokens file with one token of `scopes` in `dir`; returns its path and the token. */
export function writeTokensFile(dir: string, scopes: Scope[] = ['log', 'label', 'read']): { path: string; token: string } {
  const token = `rt_${randomBytes(32).toString('base64url')}`;
  const path = join(dir, 'api-tokens.json');
  writeFileSync(path, JSON.stringify({ tokens: [{ name: 'svc', sha256: hashToken(token), scopes }] }), { mode: 0o600 });
  return { path, token };
}

/**
 * Starts `retrain serve` with `env` (on top of this process's environment without its RETRAIN_*
 * and AWS_* variables, so the caller's settings are the only ones) on a free loopback port, and
 * waits until /healthz answers.
 */
export async function startApiProcess(env: Record<string, string>, opts: { port?: number } = {}): Promise<ApiProcess> {
  const port = opts.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('RETRAIN_') && !k.startsWith('AWS_')));
  let child: ChildProcess | null = null;
  let exited: Promise<unknown> = Promise.resolve();
  let output = '';

  const isRunning = () => child !== null && child.exitCode === null && child.signalCode === null;

  const spawnServer = async () => {
    output = '';
    const proc = spawn(process.execPath, [join(REPO, 'bin/retrain.mjs'), 'serve'], {
      cwd: env.RETRAIN_PROJECT_DIR ?? REPO,
      env: { ...base, RETRAIN_LOG_LEVEL: 'warn', ...env, RETRAIN_API_ADDRESS: `127.0.0.1:${port}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    const keep = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.length > OUTPUT_KEPT * 2) output = output.slice(-OUTPUT_KEPT);
    };
    proc.stdout!.on('data', keep);
    proc.stderr!.on('data', keep);
    exited = once(proc, 'exit');
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (!isRunning()) throw new Error(`retrain serve exited (${proc.exitCode ?? proc.signalCode}) before it was ready:\n${output}`);
      try {
        const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) });
        if (res.ok) return;
      } catch {
        // Not listening yet.
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    proc.kill('SIGKILL');
    throw new Error(`retrain serve did not answer ${url}/healthz within ${READY_TIMEOUT_MS / 1000}s:\n${output}`);
  };

  const kill = async () => {
    if (!isRunning()) return;
    child!.kill('SIGKILL');
    await exited;
  };

  await spawnServer();
  return {
    url,
    port,
    output: () => output,
    running: isRunning,
    kill,
    async restart() {
      await kill();
      await spawnServer();
    },
    async stop() {
      if (!isRunning()) return;
      child!.kill('SIGTERM');
      const killer = setTimeout(() => child?.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(killer);
    },
  };
}
