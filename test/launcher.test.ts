import { AsyncLocalStorage } from 'node:async_hooks';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { TransientError } from '../lib/errors';
import { launcherPid, stopLauncher } from '../services/runner/launcher';
import { loadConfig } from '../services/config';
import { runContractCommand, type ContractRun } from '../services/runner/subprocess';

const NODE = process.execPath;
const REPO = resolve(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'retrain-launcher-'));
afterAll(async () => {
  await stopLauncher();
  rmSync(work, { recursive: true, force: true });
});

/** Process groups and processes a test started; killed afterwards whatever happened. */
const groups: number[] = [];
const processes: ChildProcess[] = [];
afterEach(() => {
  for (const pid of groups.splice(0)) kill(-pid);
  for (const child of processes.splice(0)) if (child.pid) kill(child.pid);
});

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The fields of /proc/<pid>/stat after the command name: [state, ppid, pgrp, …], or null when gone. */
function statOf(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** True while a process exists and is not a zombie. */
function alive(pid: number): boolean {
  const stat = statOf(pid);
  return stat !== null && stat[0] !== 'Z';
}

const parentOf = (pid: number) => Number(statOf(pid)?.[1]);
const groupOf = (pid: number) => Number(statOf(pid)?.[2]);

/** True while any live (not zombie) process belongs to the process group. */
function groupAlive(pgid: number): boolean {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .some((d) => {
      const stat = statOf(Number(d));
      return stat !== null && stat[0] !== 'Z' && Number(stat[2]) === pgid;
    });
}

/** Polls (bounded) until `check` holds; returns whether it did. */
async function eventually(check: () => boolean, tries = 400, everyMs = 25): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (check()) return true;
    await sleep(everyMs);
  }
  return check();
}

async function readJson<T>(file: string): Promise<T> {
  expect(await eventually(() => existsSync(file) && readFileSync(file, 'utf8').trimEnd().endsWith('}'))).toBe(true);
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

/** A node command that starts a grandchild (same group, inherited stdio), writes both pids to `pidFile`, and waits. */
function family(pidFile: string): string[] {
  return [
    NODE,
    '-e',
    `
    const { spawn } = require('node:child_process');
    const grandchild = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'inherit' });
    require('node:fs').writeFileSync(${JSON.stringify(pidFile)}, JSON.stringify({ child: process.pid, grandchild: grandchild.pid }));
    setInterval(() => {}, 1000);
    `,
  ];
}

function run(command: string[], signal = new AbortController().signal): Promise<ContractRun> {
  return runContractCommand({
    command,
    requestPath: join(work, 'request.json'),
    cwd: work,
    python: NODE,
    timeoutMs: 120_000,
    signal,
    onProgress: () => undefined,
    onOutput: () => undefined,
  });
}

describe('the command launcher', () => {
  it('starts every command from one launcher process, each in a process group of its own', async () => {
    const parents = new Set<number>();
    for (let i = 0; i < 3; i++) {
      const pidFile = join(work, `group-${i}.json`);
      const controller = new AbortController();
      const result = run(family(pidFile), controller.signal);
      const pids = await readJson<{ child: number; grandchild: number }>(pidFile);
      groups.push(pids.child);
      expect(groupOf(pids.child)).toBe(pids.child);
      expect(groupOf(pids.grandchild)).toBe(pids.child);
      parents.add(parentOf(pids.child));
      controller.abort();
      expect(await result).toMatchObject({ killedFor: 'cancelled', signal: 'SIGTERM' });
      expect(await eventually(() => !groupAlive(pids.child))).toBe(true);
    }
    // Started by the launcher, not by a fork of this process.
    expect([...parents]).toEqual([launcherPid()]);
    expect(launcherPid()).not.toBe(process.pid);
    expect(groupOf(launcherPid()!)).not.toBe(groupOf(process.pid));
  });

  it('fails a run whose launcher dies with a retryable error naming it, and the next run starts a new launcher', async () => {
    const pidFile = join(work, 'lost.json');
    const result = run(family(pidFile)).then(
      (r) => r,
      (e: unknown) => e,
    );
    const pids = await readJson<{ child: number; grandchild: number }>(pidFile);
    groups.push(pids.child);
    const first = launcherPid()!;
    process.kill(first, 'SIGKILL');

    const err = (await result) as Error;
    expect(err).toBeInstanceOf(TransientError);
    expect(err.message).toBe(`the command launcher (pid ${first}) was killed by SIGKILL while the command ran; the command was stopped`);
    expect(await eventually(() => !groupAlive(pids.child))).toBe(true);

    expect(await run([NODE, '-e', 'process.exit(0)'])).toEqual({ exitCode: 0, signal: null, stderrTail: '', killedFor: null });
    expect(launcherPid()).not.toBeNull();
    expect(launcherPid()).not.toBe(first);
  });

  it('calls each run back in the async context that started it, as activity heartbeats need', async () => {
    const activity = new AsyncLocalStorage<string>();
    const seen: Record<string, (string | undefined)[]> = { first: [], second: [] };
    const start = (name: 'first' | 'second') =>
      activity.run(name, () =>
        runContractCommand({
          command: [NODE, '-e', 'console.log(JSON.stringify({ progress: 1 })); console.log("text"); console.error("log")'],
          requestPath: join(work, 'request.json'),
          cwd: work,
          python: NODE,
          timeoutMs: 120_000,
          signal: new AbortController().signal,
          onProgress: () => seen[name].push(activity.getStore()),
          onOutput: () => seen[name].push(activity.getStore()),
        }),
      );
    await Promise.all([start('first'), start('second')]);
    expect(seen).toEqual({ first: ['first', 'first', 'first'], second: ['second', 'second', 'second'] });
  });

  it('still reports a program that cannot be started', async () => {
    await expect(run([join(work, 'no-such-program')])).rejects.toThrow(
      `could not start ${join(work, 'no-such-program')}: spawn ${join(work, 'no-such-program')} ENOENT`,
    );
  });
});

describe('a worker process that uses the launcher', () => {
  /** Starts a Node process that runs `command` through runContractCommand and prints the launcher's pid. */
  async function startWorker(name: string, command: string[]): Promise<{ child: ChildProcess; launcher: number }> {
    const script = join(work, `${name}.mts`); // .mts: an ES module, for the top-level await
    writeFileSync(
      script,
      `
      import { runContractCommand } from ${JSON.stringify(join(REPO, 'services/runner/subprocess.ts'))};
      import { launcherPid } from ${JSON.stringify(join(REPO, 'services/runner/launcher.ts'))};
      const run = runContractCommand({
        command: ${JSON.stringify(command)},
        requestPath: ${JSON.stringify(join(work, 'request.json'))},
        cwd: ${JSON.stringify(work)},
        python: ${JSON.stringify(NODE)},
        timeoutMs: 120_000,
        signal: new AbortController().signal,
        onProgress: () => undefined,
        onOutput: () => undefined,
      });
      process.stdout.write(JSON.stringify({ launcher: launcherPid() }) + '\\n');
      await run;
      `,
    );
    const child = spawn(NODE, ['--import', 'tsx', script], { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
    processes.push(child);
    const line = await new Promise<string>((resolveLine, reject) => {
      child.stdout!.once('data', (chunk: Buffer) => resolveLine(chunk.toString()));
      child.once('exit', (code) => reject(new Error(`the worker process exited (${code}) before it started its command`)));
    });
    const { launcher } = JSON.parse(line) as { launcher: number };
    return { child, launcher };
  }

  it('ends the process group of a running command when the worker is SIGKILLed, then exits', async () => {
    const pidFile = join(work, 'orphan.json');
    const { child, launcher } = await startWorker('killed-worker', [
      'sh',
      '-c',
      `sleep 300 & echo "{\\"sh\\": $$, \\"sleep\\": $!}" > ${pidFile}; wait`,
      'sh',
    ]);
    const pids = await readJson<{ sh: number; sleep: number }>(pidFile);
    groups.push(pids.sh);
    expect(groupOf(pids.sleep)).toBe(pids.sh);
    expect(parentOf(pids.sh)).toBe(launcher);

    child.kill('SIGKILL');
    expect(await eventually(() => !groupAlive(pids.sh))).toBe(true);
    expect(await eventually(() => !alive(launcher))).toBe(true);
  });

  it('lets a worker exit by itself once its commands are done, and the launcher exits with it', async () => {
    const { child, launcher } = await startWorker('exiting-worker', [NODE, '-e', 'setTimeout(() => {}, 200)']);
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(await eventually(() => !alive(launcher))).toBe(true);
  });
});

describe('the Python fork server', () => {
  const PYTHON = loadConfig({ RETRAIN_PROJECT_DIR: REPO }).python;

  /** Writes a Python script and runs it as a contract command through the launcher, collecting its output lines. */
  function runPython(name: string, source: string, signal = new AbortController().signal) {
    const script = join(work, name);
    writeFileSync(script, source);
    const lines: string[] = [];
    const result = runContractCommand({
      command: ['$PYTHON', script, 'first arg'],
      requestPath: join(work, 'request.json'),
      cwd: work,
      python: PYTHON,
      timeoutMs: 120_000,
      signal,
      onProgress: () => undefined,
      onOutput: (line, stream) => lines.push(`${stream}: ${line}`),
    });
    return { result, lines };
  }

  /** Runs the script until a run was forked (the server warms up in the background), at most 60 s. */
  async function untilForked(name: string, source: string) {
    for (let i = 0; i < 120; i++) {
      const { result, lines } = runPython(name, source);
      const run = await result;
      if (lines.includes('stdout: forked 1')) return { run, lines };
      await sleep(500);
    }
    throw new Error('no run was forked within 60 s');
  }

  const REPORTER = `
import os, sys
print("argv", sys.argv[1:-1], os.path.basename(sys.argv[-1]))
print("cwd", os.getcwd())
print("value", os.environ.get("RETRAIN_TEST_VALUE"))
print("main", __name__, os.path.basename(__file__))
import signal
print("signals", [str(signal.getsignal(s)) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE, signal.SIGCHLD, signal.SIGHUP)])
print("forked", os.environ.get("RETRAIN_FORK_SERVER"))
print("to stderr", file=sys.stderr)
sys.exit(4)
`;

  it('forks a Python script from a warmed-up server with the output, exit code, argv, cwd and environment of a fresh start', async () => {
    process.env.RETRAIN_TEST_VALUE = 'seen';
    try {
      const fresh = runPython('report.py', REPORTER);
      const freshRun = await fresh.result;
      const forked = await untilForked('report.py', REPORTER);
      expect(forked.run).toEqual(freshRun);
      expect(freshRun).toMatchObject({ exitCode: 4, signal: null, stderrTail: 'to stderr' });
      const withoutMark = (lines: string[]) => lines.filter((l) => !l.startsWith('stdout: forked'));
      expect(withoutMark(forked.lines)).toEqual(withoutMark(fresh.lines));
      expect(forked.lines).toEqual(
        expect.arrayContaining([
          "stdout: argv ['first arg'] request.json",
          `stdout: cwd ${work}`,
          'stdout: value seen',
          'stdout: main __main__ report.py',
        ]),
      );
    } finally {
      delete process.env.RETRAIN_TEST_VALUE;
    }
  });

  it("ends a forked command's whole process group when it is cancelled", async () => {
    const pidFile = join(work, 'forked-family.json');
    const source = `
import json, os, subprocess, sys, time
grandchild = subprocess.Popen(["sleep", "60"])
with open(${JSON.stringify(pidFile)} + ".tmp", "w") as f:
    json.dump({"child": os.getpid(), "grandchild": grandchild.pid, "forked": os.environ.get("RETRAIN_FORK_SERVER")}, f)
os.rename(${JSON.stringify(pidFile)} + ".tmp", ${JSON.stringify(pidFile)})
time.sleep(60)
`;
    await untilForked('warm.py', REPORTER);
    const controller = new AbortController();
    const { result } = runPython('family.py', source, controller.signal);
    const pids = await readJson<{ child: number; grandchild: number; forked: string | null }>(pidFile);
    groups.push(pids.child);
    expect(pids.forked).toBe('1');
    expect(groupOf(pids.child)).toBe(pids.child);
    expect(groupOf(pids.grandchild)).toBe(pids.child);
    // A fork of the server, which the launcher started.
    expect(parentOf(parentOf(pids.child))).toBe(launcherPid());
    controller.abort();
    expect(await result).toMatchObject({ killedFor: 'cancelled', signal: 'SIGTERM' });
    expect(await eventually(() => !groupAlive(pids.child))).toBe(true);
  });

  it("starts a fresh interpreter when a variable Python reads at start-up differs from the server's", async () => {
    await untilForked('warm.py', REPORTER);
    process.env.OMP_NUM_THREADS = '3';
    try {
      const { result, lines } = runPython('report.py', REPORTER);
      expect((await result).exitCode).toBe(4);
      expect(lines).toContain('stdout: forked None');
    } finally {
      delete process.env.OMP_NUM_THREADS;
    }
  });

  it('reports a forked command as killed when the server dies under it, and starts a new server', async () => {
    const pidFile = join(work, 'forked-orphan.json');
    const source = `
import json, os, time
with open(${JSON.stringify(pidFile)} + ".tmp", "w") as f:
    json.dump({"child": os.getpid(), "server": os.getppid(), "forked": os.environ.get("RETRAIN_FORK_SERVER")}, f)
os.rename(${JSON.stringify(pidFile)} + ".tmp", ${JSON.stringify(pidFile)})
time.sleep(60)
`;
    await untilForked('warm.py', REPORTER);
    const { result } = runPython('orphan.py', source);
    const pids = await readJson<{ child: number; server: number; forked: string | null }>(pidFile);
    groups.push(pids.child);
    expect(pids.forked).toBe('1');
    kill(pids.server);
    expect(await result).toMatchObject({ exitCode: null, signal: 'SIGKILL' });
    expect(await eventually(() => !alive(pids.child))).toBe(true);
    const again = await untilForked('warm.py', REPORTER);
    expect(again.run.exitCode).toBe(4);
  });
});
