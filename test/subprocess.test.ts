import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, it, expect } from 'vitest';
import { expandCommand, findMissingPart, runContractCommand, type ContractRun } from '../services/runner/subprocess';
import { failOnExit, QUIET_HOOKS, runContract } from '../services/runner/contract';
import { RETRAIN_HOME } from '../lib/config';
import { InvalidInputError, TransientError } from '../lib/errors';

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

describe('runContractCommand: progress timeout', () => {
  it('stops a command that lives on without a progress line, and its group', async () => {
    const pidFile = join(work, 'silent-pids.json');
    const controller = new AbortController();
    const ticks: number[] = [];
    const started = Date.now();
    const runPromise = runContractCommand({
      command: [NODE, '-e', `console.log(JSON.stringify({ stage: 'load', progress: 0.1 })); ${familyScript(pidFile, 'wait')}`],
      requestPath: join(work, 'request.json'),
      cwd: work,
      python: NODE,
      timeoutMs: 60_000,
      progressTimeoutMs: 1_500,
      signal: controller.signal,
      onProgress: () => undefined,
      onOutput: () => undefined,
      onTick: () => ticks.push(Date.now()),
    });
    const pids = await readPids(pidFile);
    const result = await runPromise;
    expect(result.killedFor).toBe('no_progress');
    expect(result.signal).toBe('SIGTERM');
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(ticks.length).toBeGreaterThanOrEqual(1); // liveness ticks went on meanwhile
    expect(await eventually(() => !alive(pids.child) && !alive(pids.grandchild))).toBe(true);
  });

  it('stops a command that never prints a progress line', async () => {
    const result = await runContractCommand({
      command: [NODE, '-e', 'setInterval(() => {}, 1000)'],
      requestPath: join(work, 'request.json'),
      cwd: work,
      python: NODE,
      timeoutMs: 60_000,
      progressTimeoutMs: 500,
      signal: new AbortController().signal,
      onProgress: () => undefined,
      onOutput: () => undefined,
    });
    expect(result.killedFor).toBe('no_progress');
  });

  it('lets a command run past the progress timeout while progress lines keep coming', async () => {
    const result = await runContractCommand({
      command: [
        NODE,
        '-e',
        `let n = 0; const t = setInterval(() => { console.log(JSON.stringify({ stage: 'fit', progress: n / 10 })); if (++n === 10) { clearInterval(t); } }, 150);`,
      ],
      requestPath: join(work, 'request.json'),
      cwd: work,
      python: NODE,
      timeoutMs: 60_000,
      progressTimeoutMs: 600,
      signal: new AbortController().signal,
      onProgress: () => undefined,
      onOutput: () => undefined,
    });
    expect(result).toMatchObject({ exitCode: 0, killedFor: null });
  });
});

describe('failOnExit', () => {
  const ctx = { model: 'm', version: 'v1', step: 'train' };
  const ran = (over: Partial<ContractRun>): ContractRun => ({ exitCode: 1, signal: null, stderrTail: 'boom', killedFor: null, ...over });

  it('does not claim a retry it cannot know of, and marks crashes and timeouts retryable', () => {
    for (const run of [
      ran({}),
      ran({ exitCode: null, signal: 'SIGKILL' }),
      ran({ exitCode: null, signal: 'SIGTERM', killedFor: 'timeout' }),
    ]) {
      const err = (() => {
        try {
          failOnExit(run, 'training', ctx);
        } catch (e) {
          return e as Error;
        }
        throw new Error('expected a failure');
      })();
      expect(err).toBeInstanceOf(TransientError);
      expect(err.message).not.toMatch(/retried/);
      expect(err.message.endsWith('\nboom')).toBe(true);
    }
  });

  it('says the command printed no progress line for the progress timeout', () => {
    expect(() =>
      failOnExit(ran({ exitCode: null, signal: 'SIGTERM', killedFor: 'no_progress' }), 'training', ctx, { progressTimeout: '5m' }),
    ).toThrow(/^training printed no progress line for 5m \(training\.progressTimeout\) and was stopped\nboom$/);
    // Stopped is stopped, even when the command exits 0 on SIGTERM.
    expect(() => failOnExit(ran({ exitCode: 0, killedFor: 'no_progress' }), 'training', ctx, { progressTimeout: '5m' })).toThrow(
      TransientError,
    );
  });
});

describe('a command whose program or script is missing', () => {
  const trainer = join(work, 'present.py');
  writeFileSync(trainer, 'print("hi")\n');

  it('finds nothing missing in a runnable command', async () => {
    expect(await findMissingPart(['$PYTHON', trainer], NODE, work)).toBeNull();
    expect(await findMissingPart(['$PYTHON', 'present.py', '--flag'], NODE, work)).toBeNull(); // relative to cwd
    expect(await findMissingPart(['$PYTHON', '$RETRAIN_HOME/training/train.py'], NODE, work)).toBeNull();
    expect(await findMissingPart(['node', '-e', 'require("./x.js")'], NODE, work)).toBeNull(); // code, not a file
    expect(await findMissingPart(['sh', '-c', 'exec python3 missing.py'], NODE, work)).toBeNull();
    expect(await findMissingPart(['env', 'python3', '-m', 'train.py'], NODE, work)).toBeNull(); // a module
  });

  it('names a script that does not exist, as given and as looked for', async () => {
    expect(await findMissingPart(['$PYTHON', 'trian.py'], NODE, work)).toEqual({
      what: 'script',
      given: 'trian.py',
      path: join(work, 'trian.py'),
      problem: 'does not exist',
    });
    expect(await findMissingPart(['$PYTHON', '$RETRAIN_HOME/training/trian.py'], NODE, work)).toMatchObject({
      given: '$RETRAIN_HOME/training/trian.py',
      path: join(RETRAIN_HOME, 'training/trian.py'),
    });
  });

  it('names a program that does not exist, is not executable or is not on PATH', async () => {
    expect(await findMissingPart(['$PYTHON', trainer], join(work, 'no-venv/bin/python'), work)).toMatchObject({
      what: 'program',
      given: '$PYTHON',
      path: join(work, 'no-venv/bin/python'),
      problem: 'does not exist',
    });
    expect(await findMissingPart([trainer], NODE, work)).toMatchObject({ what: 'program', problem: 'is not executable' });
    expect(await findMissingPart(['no-such-program-retrain', trainer], NODE, work)).toMatchObject({
      what: 'program',
      problem: 'is not on PATH',
    });
  });

  it('fails before running, not retried, naming the path and the pipeline field', async () => {
    const run = (command: string[], field?: string) =>
      runContract({
        command,
        dir: join(work, 'missing-run'),
        request: {},
        timeoutMs: 10_000,
        python: NODE,
        cwd: work,
        hooks: QUIET_HOOKS,
        ...(field ? { field } : {}),
        context: { model: 'churn', step: 'train' },
      });
    const err = (await run(['$PYTHON', 'trian.py']).then(
      () => null,
      (e: unknown) => e,
    )) as InvalidInputError;
    expect(err).toBeInstanceOf(InvalidInputError);
    expect(err.retryable).toBe(false);
    expect(err.message).toBe(
      `training.command of pipeline churn names a script that does not exist: ${join(work, 'trian.py')} (given as "trian.py", relative to the project directory ${work})`,
    );
    expect(err.context).toMatchObject({ model: 'churn', field: 'training.command' });
    const predict = (await run(['python-that-is-not-there'], 'training.predictCommand').then(
      () => null,
      (e: unknown) => e,
    )) as Error;
    expect(predict.message).toBe('training.predictCommand of pipeline churn: its program "python-that-is-not-there" is not on PATH');
    expect(existsSync(join(work, 'missing-run', 'request.json'))).toBe(false); // nothing ran
  });
});
