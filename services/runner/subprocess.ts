import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, isAbsolute, resolve } from 'node:path';
import { RETRAIN_HOME } from '../../lib/config';

/** How long a process gets between SIGTERM and SIGKILL. */
const KILL_GRACE_MS = 5_000;
const STDERR_TAIL = 4_000;

/** How a contract command ended. */
export interface ContractRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** The last few KB of stderr, for error messages. */
  stderrTail: string;
  /** Why we ended it, when we did: cancelled, past its timeout, or silent past its progress timeout. */
  killedFor: 'cancelled' | 'timeout' | 'no_progress' | null;
}

/**
 * Runs a contract command (training or predict) without a shell, in its own process group so
 * cancellation and timeouts end it and everything it started. stdin stays open while we live:
 * a command following the contract exits when it closes, so a dead worker leaves no orphans.
 * Each stdout line that parses as a JSON object goes to `onProgress`; other lines to `onOutput`.
 */
export function runContractCommand(opts: {
  command: string[];
  requestPath: string;
  cwd: string;
  python: string;
  timeoutMs: number;
  signal: AbortSignal;
  onProgress: (progress: Record<string, unknown>) => void;
  onOutput: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Called on a timer while the process lives, so a quiet command still proves liveness. */
  onTick?: () => void;
  /**
   * Stop the command when it prints no progress line (a JSON object on stdout) for this long,
   * from its start or its last progress line. Unset: no limit but `timeoutMs`.
   */
  progressTimeoutMs?: number;
}): Promise<ContractRun> {
  const [program, ...args] = expandCommand(opts.command, opts.python);
  return new Promise((resolvePromise, reject) => {
    const child = spawn(program, [...args, opts.requestPath], {
      cwd: opts.cwd,
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, PYTHONUNBUFFERED: '1' },
    });
    let stderrTail = '';
    let killedFor: ContractRun['killedFor'] = null;
    let killTimer: NodeJS.Timeout | undefined;

    const killGroup = (why: NonNullable<ContractRun['killedFor']>) => {
      if (killedFor || child.exitCode !== null || !child.pid) return;
      killedFor = why;
      signalGroup(child.pid, 'SIGTERM');
      killTimer = setTimeout(() => signalGroup(child.pid!, 'SIGKILL'), KILL_GRACE_MS);
    };
    const onAbort = () => killGroup('cancelled');
    opts.signal.addEventListener('abort', onAbort);
    const timeout = setTimeout(() => killGroup('timeout'), opts.timeoutMs);
    const ticker = opts.onTick ? setInterval(opts.onTick, 1_000) : undefined;
    // The liveness ticks above go on whatever the command does; this catches one that lives but
    // no longer gets anywhere.
    let silence: NodeJS.Timeout | undefined;
    const progressed = () => {
      if (!opts.progressTimeoutMs) return;
      clearTimeout(silence);
      silence = setTimeout(() => killGroup('no_progress'), opts.progressTimeoutMs);
    };
    progressed();

    splitLines(child.stdout, (line) => {
      const progress = parseObject(line);
      if (progress) {
        progressed();
        opts.onProgress(progress);
      } else opts.onOutput(line, 'stdout');
    });
    splitLines(child.stderr, (line) => {
      stderrTail = (stderrTail + line + '\n').slice(-STDERR_TAIL);
      opts.onOutput(line, 'stderr');
    });
    child.stdin.on('error', () => undefined); // the command may exit without reading stdin

    child.on('error', (err) => {
      cleanup();
      reject(new Error(`could not start ${program}: ${err.message}`));
    });
    // The group may hold grandchildren that outlived their parent: end them as soon as the
    // parent exits. Waiting for 'close' is not enough: a grandchild holding the inherited
    // stdout/stderr keeps 'close' from firing, and the timeout no longer applies, so the run
    // would hang as long as the grandchild lives.
    child.on('exit', () => {
      if (child.pid) signalGroup(child.pid, 'SIGKILL');
    });
    child.on('close', (exitCode, signal) => {
      cleanup();
      if (child.pid) signalGroup(child.pid, 'SIGKILL');
      resolvePromise({ exitCode, signal, stderrTail: stderrTail.trim(), killedFor });
    });

    function cleanup() {
      clearTimeout(timeout);
      clearTimeout(silence);
      clearTimeout(killTimer);
      if (ticker) clearInterval(ticker);
      opts.signal.removeEventListener('abort', onAbort);
      child.stdin.destroy();
    }
    if (opts.signal.aborted) onAbort();
  });
}

/** Replaces `$PYTHON` and `$RETRAIN_HOME` in a command. */
export function expandCommand(command: string[], python: string): string[] {
  return command.map((part) => part.replace(/^\$PYTHON$/, python).replaceAll('$RETRAIN_HOME', RETRAIN_HOME));
}

/** Extensions of script files an interpreter runs: an argument ending in one names a file. */
const SCRIPT_FILE = /^[^\s'"`;|&<>(){}$]+\.(py|pyc|pyz|ipynb|R|r|jl|js|mjs|cjs|ts|mts|rb|pl|sh|bash|jar|lua|php)$/;
/** Options whose next argument is code or a module name, not a file. */
const CODE_OPTIONS = new Set(['-c', '-e', '-m', '-p', '--eval', '--print', '--command']);

/** What is missing for a command to run: its program, or a script file it names. */
export interface MissingPart {
  what: 'program' | 'script';
  /** As the command gives it, before `$PYTHON`/`$RETRAIN_HOME` expansion. */
  given: string;
  /** Where it was looked for. */
  path: string;
  problem: string;
}

/**
 * Checks, before a command runs, that its program can be started (a path to an executable
 * file, or a name found on PATH) and that every argument that looks like a script file (`.py`,
 * `.R`, `.js`…) exists; relative paths start from `cwd`. Returns the first missing part, or null.
 * A missing script would otherwise make the interpreter exit with its own code (Python: 2,
 * which the contract reads as "rejected its input").
 */
export async function findMissingPart(command: string[], python: string, cwd: string): Promise<MissingPart | null> {
  const expanded = expandCommand(command, python);
  const program = expanded[0];
  if (program.includes('/')) {
    const path = resolve(cwd, program);
    const problem = await executableProblem(path);
    if (problem) return { what: 'program', given: command[0], path, problem };
  } else if (!(await onPath(program, cwd))) {
    return { what: 'program', given: command[0], path: program, problem: 'is not on PATH' };
  }
  for (let i = 1; i < expanded.length; i++) {
    const arg = expanded[i];
    if (CODE_OPTIONS.has(expanded[i - 1]) || arg.startsWith('-') || !SCRIPT_FILE.test(arg)) continue;
    const path = isAbsolute(arg) ? arg : resolve(cwd, arg);
    const found = await stat(path).then(
      (s) => (s.isFile() ? null : 'is not a file'),
      () => 'does not exist',
    );
    if (found) return { what: 'script', given: command[i], path, problem: found };
  }
  return null;
}

async function executableProblem(path: string): Promise<string | null> {
  const info = await stat(path).catch(() => null);
  if (!info) return 'does not exist';
  if (!info.isFile()) return 'is not a file';
  return access(path, constants.X_OK).then(
    () => null,
    () => 'is not executable',
  );
}

/** Whether a program name resolves on PATH as spawn would find it (an empty entry is the working directory). */
async function onPath(program: string, cwd: string): Promise<boolean> {
  for (const dir of (process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(delimiter)) {
    if (!(await executableProblem(resolve(cwd, dir, program)))) return true;
  }
  return false;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

function splitLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let buffered = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffered += chunk;
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline).trimEnd();
      buffered = buffered.slice(newline + 1);
      if (line) onLine(line);
    }
  });
  stream.on('end', () => {
    if (buffered.trim()) onLine(buffered.trim());
  });
}

function parseObject(line: string): Record<string, unknown> | null {
  if (!line.startsWith('{')) return null;
  try {
    const value = JSON.parse(line);
    return value && typeof value === 'object' && !Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}
