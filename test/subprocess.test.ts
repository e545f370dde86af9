import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, it, expect } from 'vitest';
import { expandCommand, runContractCommand, type ContractRun } from '../services/runner/subprocess';
import { RETRAIN_HOME } from '../lib/config';

const NODE = process.execPath;
const work = mkdtempSync(join(tmpdir(), 'retrain-subprocess-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Pids a test started; killed afterwards whatever happened, so no test leaks processes. */
const started: number[] = [];
afterEach(() => {
  for (const pid of started.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** True while a process exists and is not a zombie waiting for a parent that will never reap it. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Polls (bounded) until `check` holds; returns whether it did. */
async function eventually(check: () => boolean, tries = 400, everyMs = 25): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (check()) return true;
    await sleep(everyMs);
  }
  return check();
}

interface Captured {
  run: Promise<ContractRun>;
  progress: Record<string, unknown>[];
  output: { line: string; stream: 'stdout' | 'stderr' }[];
  controller: AbortController;
}

function run(
  code: string,
  opts: { timeoutMs?: number; onTick?: (c: Captured) => void; command?: string[]; signal?: AbortSignal } = {},
): Captured {
  const controller = new AbortController();
  const captured = { progress: [], output: [], controller } as unknown as Captured;
  captured.run = runContractCommand({
    command: opts.command ?? [NODE, '-e', code],
    requestPath: join(work, 'request.json'),
    cwd: work,
    python: NODE,
    timeoutMs: opts.timeoutMs ?? 60_000,
    signal: opts.signal ?? controller.signal,
    onProgress: (p) => captured.progress.push(p),
    onOutput: (line, stream) => captured.output.push({ line, stream }),
    onTick: opts.onTick && (() => opts.onTick!(captured)),
  });
  return captured;
}

/**
 * A command that starts a grandchild node process (same process group, inherited stdio),
 * writes both pids to `pidFile`, then does `then` ('wait' forever, or 'exit' at once).
 */
function familyScript(pidFile: string, then: 'wait' | 'exit', ignoreTerm = false): string {
  return `
    const { spawn } = require('node:child_process');
    const { writeFileSync } = require('node:fs');
    ${ignoreTerm ? "process.on('SIGTERM', () => {});" : ''}
    const grandchild = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'inherit' });
    writeFileSync(${JSON.stringify(pidFile)}, JSON.stringify({ child: process.pid, grandchild: grandchild.pid }));
    ${then === 'wait' ? 'setInterval(() => {}, 1000);' : 'process.exit(0);'}
  `;
}

async function readPids(pidFile: string): Promise<{ child: number; grandchild: number }> {
  expect(await eventually(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('}'))).toBe(true);
  const pids = JSON.parse(readFileSync(pidFile, 'utf8')) as { child: number; grandchild: number };
  started.push(pids.child, pids.grandchild);
  return pids;
}

describe('runContractCommand: output', () => {
  it('sends JSON object lines to onProgress and every other line to onOutput', async () => {
    const c = run(`
      console.log(JSON.stringify({ stage: 'fit', progress: 0.5 }));
      console.log('plain text');
      console.log('[1, 2, 3]');
      console.log('{ not json');
      console.error('a warning');
      console.log(JSON.stringify({ stage: 'done', progress: 1 }));
    `);
    const result = await c.run;
    expect(result).toEqual({ exitCode: 0, signal: null, stderrTail: 'a warning', killedFor: null });
    expect(c.progress).toEqual([
      { stage: 'fit', progress: 0.5 },
      { stage: 'done', progress: 1 },
    ]);
    expect(c.output.filter((o) => o.stream === 'stdout').map((o) => o.line)).toEqual(['plain text', '[1, 2, 3]', '{ not json']);
    expect(c.output.filter((o) => o.stream === 'stderr').map((o) => o.line)).toEqual(['a warning']);
  });

  it('passes the request path as the last argument and runs in cwd', async () => {
    const c = run(
      `console.log(JSON.stringify({ request: process.argv[1], cwd: process.cwd(), unbuffered: process.env.PYTHONUNBUFFERED }))`,
    );
    await c.run;
    expect(c.progress).toEqual([{ request: join(work, 'request.json'), cwd: work, unbuffered: '1' }]);
  });

  it('delivers a last line without a newline, and lines split across writes', async () => {
    const c = run(`
      process.stdout.write('{"a"');
      setTimeout(() => { process.stdout.write(':1}\\nhalf'); setTimeout(() => process.stdout.write(' line'), 20); }, 20);
    `);
    await c.run;
    expect(c.progress).toEqual([{ a: 1 }]);
    expect(c.output).toEqual([{ line: 'half line', stream: 'stdout' }]);
  });

  it('reports the exit code and the tail of stderr', async () => {
    const c = run(`
      for (let i = 0; i < 500; i++) console.error('noise line ' + i);
      console.error('Traceback: the real error');
      process.exitCode = 3;
    `);
    const result = await c.run;
    expect(result.exitCode).toBe(3);
    expect(result.signal).toBeNull();
    expect(result.killedFor).toBeNull();
    expect(result.stderrTail.length).toBeLessThanOrEqual(4_000);
    expect(result.stderrTail.endsWith('Traceback: the real error')).toBe(true);
    expect(result.stderrTail).not.toContain('noise line 0\n');
    expect(c.output.filter((o) => o.stream === 'stderr')).toHaveLength(501);
  });

  it('keeps stdin open while the runner lives', async () => {
    const c = run(`
      process.stdin.on('end', () => process.exit(9));
      process.stdin.resume();
      setTimeout(() => process.exit(0), 200);
    `);
    expect((await c.run).exitCode).toBe(0);
  });

  it('expands $PYTHON in the command', async () => {
    const c = run('', { command: ['$PYTHON', '-e', 'console.log(JSON.stringify({ exe: process.execPath }))'] });
    await c.run;
    expect(c.progress).toEqual([{ exe: NODE }]);
  });

  it('rejects when the program cannot be started', async () => {
    await expect(run('', { command: [join(work, 'no-such-program')] }).run).rejects.toThrow(/could not start/);
  });

  it('calls onTick while a quiet command runs', async () => {
    let ticks = 0;
    const c = run('setInterval(() => {}, 1000)', {
      onTick: (captured) => {
        ticks++;
        captured.controller.abort();
      },
    });
    const result = await c.run;
    expect(ticks).toBeGreaterThanOrEqual(1);
    expect(result.killedFor).toBe('cancelled');
  });
});

describe('runContractCommand: ending the process group', () => {
  it('kills the command and its grandchildren when the signal aborts', async () => {
    const pidFile = join(work, 'abort-pids.json');
    const c = run(familyScript(pidFile, 'wait'));
    const pids = await readPids(pidFile);
    expect(alive(pids.child)).toBe(true);
    expect(alive(pids.grandchild)).toBe(true);
    c.controller.abort();
    const result = await c.run;
    expect(result.killedFor).toBe('cancelled');
    expect(result.exitCode).toBeNull();
    expect(result.signal).toBe('SIGTERM');
    expect(await eventually(() => !alive(pids.child) && !alive(pids.grandchild))).toBe(true);
  });

  it('does not start work for a signal that is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const result = await run('setInterval(() => {}, 1000)', { signal: controller.signal }).run;
    expect(result.killedFor).toBe('cancelled');
    expect(result.exitCode).toBeNull();
  });

  it('kills a command that ignores SIGTERM with SIGKILL after the grace period', async () => {
    const pidFile = join(work, 'stubborn-pids.json');
    const c = run(familyScript(pidFile, 'wait', true));
    const pids = await readPids(pidFile);
    c.controller.abort();
    const result = await c.run;
    expect(result.killedFor).toBe('cancelled');
    expect(result.signal).toBe('SIGKILL');
    expect(await eventually(() => !alive(pids.child) && !alive(pids.grandchild))).toBe(true);
  });

  it('kills the group on timeout and reports killedFor "timeout"', async () => {
    const pidFile = join(work, 'timeout-pids.json');
    const c = run(familyScript(pidFile, 'wait'), { timeoutMs: 2_000 });
    const pids = await readPids(pidFile);
    const result = await c.run;
    expect(result.killedFor).toBe('timeout');
    expect(result.signal).toBe('SIGTERM');
    expect(await eventually(() => !alive(pids.child) && !alive(pids.grandchild))).toBe(true);
  });

  it('ends a grandchild that outlives the command and still holds its output', async () => {
    const pidFile = join(work, 'orphan-pids.json');
    const c = run(familyScript(pidFile, 'exit'));
    const pids = await readPids(pidFile); // registered first, so afterEach ends them even if this hangs
    const result = await c.run;
    expect(result).toMatchObject({ exitCode: 0, killedFor: null });
    expect(await eventually(() => !alive(pids.grandchild))).toBe(true);
  }, 30_000);
});

describe('expandCommand', () => {
  it('replaces $PYTHON as a whole argument and $RETRAIN_HOME anywhere', () => {
    expect(
      expandCommand(
        ['$PYTHON', '$RETRAIN_HOME/training/train.py', '--home=$RETRAIN_HOME', '--py=$PYTHON', '$PYTHONPATH'],
        '/venv/bin/python',
      ),
    ).toEqual(['/venv/bin/python', `${RETRAIN_HOME}/training/train.py`, `--home=${RETRAIN_HOME}`, '--py=$PYTHON', '$PYTHONPATH']);
  });

  it('leaves a command without placeholders unchanged', () => {
    expect(expandCommand(['/usr/bin/env', 'python3', 'train.py'], 'py')).toEqual(['/usr/bin/env', 'python3', 'train.py']);
  });

  it('points $RETRAIN_HOME at the directory holding the default training scripts', () => {
    expect(existsSync(join(RETRAIN_HOME, 'training'))).toBe(true);
  });
});
