import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, isAbsolute, resolve } from 'node:path';
import { RETRAIN_HOME } from '../../lib/config';
import { KILL_GRACE_MS, launch } from './launcher';

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
 * cancellation and timeouts end it and everything it started. The command is started by this
 * process's launcher (launcher.ts), never by a fork of the worker. Its stdin stays open while the
 * worker lives: when the worker dies, the launcher stops the command's group and exits, and a
 * command following the contract exits anyway when its stdin closes. Each stdout line that parses
 * as a JSON object goes to `onProgress`; other lines to `onOutput`. Rejects when the program
 * cannot be started, and with a `TransientError` when the launcher dies while the command runs.
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
    let stderrTail = '';
    let killedFor: ContractRun['killedFor'] = null;
    let exited = false;
    let killTimer: NodeJS.Timeout | undefined;
    const stdout = lineSplitter((line) => {
      const progress = parseObject(line);
      if (progress) {
        progressed();
        opts.onProgress(progress);
      } else opts.onOutput(line, 'stdout');
    });
    const stderr = lineSplitter((line) => {
      stderrTail = (stderrTail + line + '\n').slice(-STDERR_TAIL);
      opts.onOutput(line, 'stderr');
    });

    const command = launch(
      { program, args: [...args, opts.requestPath], cwd: opts.cwd, env: { ...process.env, PYTHONUNBUFFERED: '1' } },
      {
        output: (stream, text) => (stream === 'stdout' ? stdout : stderr).push(text),
        // The launcher has sent the group SIGKILL already: grandchildren must not outlive the command.
        exit: () => (exited = true),
        close: (exitCode, signal) => {
          stdout.end();
          stderr.end();
          cleanup();
          resolvePromise({ exitCode, signal, stderrTail: stderrTail.trim(), killedFor });
        },
        notStarted: (message) => {
          cleanup();
          reject(new Error(`could not start ${program}: ${message}`));
        },
        lost: (error) => {
          cleanup();
          reject(error);
        },
      },
    );

    const killGroup = (why: NonNullable<ContractRun['killedFor']>) => {
      if (killedFor || exited) return;
      killedFor = why;
      command.signalGroup('SIGTERM');
      killTimer = setTimeout(() => command.signalGroup('SIGKILL'), KILL_GRACE_MS);
    };
    const onAbort = () => killGroup('cancelled');
    opts.signal.addEventListener('abort', onAbort);
    const timeout = setTimeout(() => killGroup('timeout'), opts.timeoutMs);
    const ticker = opts.onTick ? setInterval(opts.onTick, 1_000) : undefined;
    // The liveness ticks above go on whatever the command does; this catches one that lives but
    // no longer gets anywhere.
    let silence: NodeJS.Timeout | undefined;
    function progressed() {
      if (!opts.progressTimeoutMs) return;
      clearTimeout(silence);
      silence = setTimeout(() => killGroup('no_progress'), opts.progressTimeoutMs);
    }
    progressed();

    function cleanup() {
      clearTimeout(timeout);
      clearTimeout(silence);
      clearTimeout(killTimer);
      if (ticker) clearInterval(ticker);
      opts.signal.removeEventListener('abort', onAbort);
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

/** Splits text arriving in pieces into lines; `end` delivers a last line without a newline. */
function lineSplitter(onLine: (line: string) => void): { push(text: string): void; end(): void } {
  let buffered = '';
  return {
    push(text) {
      buffered += text;
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline).trimEnd();
        buffered = buffered.slice(newline + 1);
        if (line) onLine(line);
      }
    },
    end() {
      if (buffered.trim()) onLine(buffered.trim());
      buffered = '';
    },
  };
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
