import { spawn } from 'node:child_process';
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
  /** Why we ended it, when we did. */
  killedFor: 'cancelled' | 'timeout' | null;
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

    const killGroup = (why: 'cancelled' | 'timeout') => {
      if (killedFor || child.exitCode !== null || !child.pid) return;
      killedFor = why;
      signalGroup(child.pid, 'SIGTERM');
      killTimer = setTimeout(() => signalGroup(child.pid!, 'SIGKILL'), KILL_GRACE_MS);
    };
    const onAbort = () => killGroup('cancelled');
    opts.signal.addEventListener('abort', onAbort);
    const timeout = setTimeout(() => killGroup('timeout'), opts.timeoutMs);
    const ticker = opts.onTick ? setInterval(opts.onTick, 1_000) : undefined;

    splitLines(child.stdout, (line) => {
      const progress = parseObject(line);
      if (progress) opts.onProgress(progress);
      else opts.onOutput(line, 'stdout');
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
