import { AsyncResource } from 'node:async_hooks';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TransientError } from '../../lib/errors';

/**
 * The worker's side of the command launcher (launcher-process.mjs): one small Node process per
 * worker process, started on the first command, that starts every contract command so the worker
 * never forks itself again (a fork blocks the worker's event loop for longer the more memory it
 * holds). A launcher that dies is replaced on the next command.
 *
 * Protocol, one JSON object per line. Requests (launcher's stdin):
 * `{op:'spawn', id, program, args, cwd, env}`, `{op:'signal', id, signal}` (to the command's
 * process group), `{op:'usage', id}`. Events (launcher's stdout): `spawned` (pid), `data` (fd 1 or
 * 2, text), `exit` (the command exited; its group got SIGKILL), `close` (code, signal: all output
 * delivered), `error` (message: could not start), `usage` (CPU of the launcher and its reaped
 * children, µs).
 */

/** How long a process group gets between SIGTERM and SIGKILL. */
export const KILL_GRACE_MS = 5_000;

const SCRIPT = fileURLToPath(new URL('./launcher-process.mjs', import.meta.url));

/** A command to start: no shell, in its own process group. */
export interface CommandSpec {
  program: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
}

/** What a started command reports: output, exit, then close; or one of notStarted and lost. */
export interface CommandEvents {
  output(stream: 'stdout' | 'stderr', text: string): void;
  /** The command's own process exited (its group was sent SIGKILL); output may still follow. */
  exit(): void;
  /** All output was delivered. */
  close(exitCode: number | null, signal: NodeJS.Signals | null): void;
  /** The program could not be started: the spawn error's message. */
  notStarted(message: string): void;
  /** The launcher died while the command ran; the command's group was killed. */
  lost(error: TransientError): void;
}

/** A started command. */
export interface LaunchedCommand {
  /** Signals the command's process group, until it has closed. */
  signalGroup(signal: NodeJS.Signals): void;
}

/** CPU time in microseconds, as `process.cpuUsage()` gives it. */
export interface CpuTime {
  user: number;
  system: number;
}

/** CPU of the launcher process itself and of the commands it started and reaped (null without /proc). */
export interface LauncherUsage {
  pid: number;
  self: CpuTime;
  children: CpuTime | null;
}

type LauncherEvent =
  | { ev: 'spawned'; id: number; pid: number }
  | { ev: 'data'; id: number; fd: 1 | 2; text: string }
  | { ev: 'exit'; id: number }
  | { ev: 'close'; id: number; code: number | null; signal: NodeJS.Signals | null }
  | { ev: 'error'; id: number; message: string }
  | { ev: 'usage'; id: number; self: CpuTime; children: CpuTime | null };

interface Running {
  events: CommandEvents;
  /**
   * The async context of the caller: events arrive on the launcher's pipe, but must run where the
   * command was started (an activity's heartbeat finds its activity through AsyncLocalStorage).
   */
  scope: AsyncResource;
  pid?: number;
}

/** One launcher process and the commands it runs for us. */
class Launcher {
  private readonly child: ChildProcess;
  private readonly running = new Map<number, Running>();
  private readonly usageRequests = new Map<number, { resolve: (u: LauncherUsage) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private stderrTail = '';
  private stopping = false;
  /** Resolves once the launcher process has gone. */
  readonly gone: Promise<void>;
  /** True once it has gone (or could not start): the next command needs a new launcher. */
  dead = false;

  constructor() {
    // No execArgv and no NODE_OPTIONS: the worker may run under a TypeScript loader this script does not need.
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    // Detached: a terminal's Ctrl-C goes to the worker, which then cancels its commands as before.
    this.child = spawn(process.execPath, [SCRIPT, String(KILL_GRACE_MS)], { detached: true, stdio: ['pipe', 'pipe', 'pipe'], env });
    this.child.stdin!.on('error', () => undefined); // a launcher that died: 'close' below says so
    let buffered = '';
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (chunk: string) => {
      buffered += chunk;
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (line) this.dispatch(line);
      }
    });
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (chunk: string) => (this.stderrTail = (this.stderrTail + chunk).slice(-2_000)));
    this.gone = new Promise((resolve) => {
      this.child.on('error', (err) => {
        this.die(`could not start the command launcher: ${err.message}`);
        resolve();
      });
      // 'close', not 'exit': every event the launcher wrote has been read by then.
      this.child.on('close', (code, signal) => {
        const how = this.stopping ? 'was stopped' : signal ? `was killed by ${signal}` : `exited with code ${code}`;
        this.die(`the command launcher (pid ${this.child.pid}) ${how} while the command ran; the command was stopped`);
        resolve();
      });
    });
    this.setRef(false);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  start(spec: CommandSpec, events: CommandEvents): LaunchedCommand {
    const id = this.nextId++;
    this.running.set(id, { events, scope: new AsyncResource('RetrainContractCommand') });
    this.send({ op: 'spawn', id, ...spec });
    return {
      signalGroup: (signal) => {
        if (this.running.has(id)) this.send({ op: 'signal', id, signal });
      },
    };
  }

  usage(): Promise<LauncherUsage> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.usageRequests.set(id, { resolve, reject });
      this.send({ op: 'usage', id });
    });
  }

  /** Ends the launcher as a worker's exit would: it stops its commands and exits. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (current === this) current = null; // a command started meanwhile gets a new launcher
    this.setRef(true); // or a caller awaiting this could see its process exit first
    this.child.stdin!.end();
    await this.gone;
  }

  private send(request: object): void {
    this.setRef(true);
    this.child.stdin!.write(JSON.stringify(request) + '\n');
  }

  private dispatch(line: string): void {
    let event: LauncherEvent;
    try {
      event = JSON.parse(line) as LauncherEvent;
    } catch {
      // Not ours (nothing else should write to its stdout): keep it for an error message.
      this.stderrTail = (this.stderrTail + line + '\n').slice(-2_000);
      return;
    }
    if (event.ev === 'usage') {
      const request = this.usageRequests.get(event.id);
      this.usageRequests.delete(event.id);
      request?.resolve({ pid: this.child.pid!, self: event.self, children: event.children });
    } else {
      const run = this.running.get(event.id);
      if (!run) return;
      if (event.ev === 'spawned') run.pid = event.pid;
      else if (event.ev === 'data') run.scope.runInAsyncScope(() => run.events.output(event.fd === 1 ? 'stdout' : 'stderr', event.text));
      else if (event.ev === 'exit') run.scope.runInAsyncScope(() => run.events.exit());
      else {
        this.running.delete(event.id);
        if (event.ev === 'close') run.scope.runInAsyncScope(() => run.events.close(event.code, event.signal));
        else run.scope.runInAsyncScope(() => run.events.notStarted(event.message));
      }
    }
    this.setRef(this.running.size > 0 || this.usageRequests.size > 0);
  }

  /** The launcher has gone: every command it ran fails with `message` (and what it wrote on stderr). */
  private die(message: string): void {
    if (this.dead) return;
    this.dead = true;
    if (current === this) current = null;
    const tail = this.stderrTail.trim() ? `\n${this.stderrTail.trim()}` : '';
    for (const run of this.running.values()) {
      // Its stdin closed with the launcher, but a command that ignores that must not outlive its run.
      if (run.pid) signalGroup(run.pid, 'SIGKILL');
      const error = new TransientError(message + tail);
      run.scope.runInAsyncScope(() => run.events.lost(error));
    }
    this.running.clear();
    for (const request of this.usageRequests.values()) request.reject(new TransientError(message + tail));
    this.usageRequests.clear();
  }

  /** While nothing runs, the launcher must not keep the worker alive: a worker that exits takes it along. */
  private setRef(on: boolean): void {
    const handles = [this.child, this.child.stdin, this.child.stdout, this.child.stderr] as unknown as { ref(): void; unref(): void }[];
    for (const handle of handles) {
      if (on) handle.ref();
      else handle.unref();
    }
  }
}

let current: Launcher | null = null;
/** Made when this module loads, outside any caller's context: the launcher's pipes must not keep the first caller's. */
const ROOT_SCOPE = new AsyncResource('RetrainLauncher');

function launcher(): Launcher {
  if (!current || current.dead) current = ROOT_SCOPE.runInAsyncScope(() => new Launcher());
  return current;
}

/** Starts a command through this process's launcher, starting the launcher first if none runs. */
export function launch(spec: CommandSpec, events: CommandEvents): LaunchedCommand {
  return launcher().start(spec, events);
}

/** The pid of the running launcher, or null when none runs. */
export function launcherPid(): number | null {
  return current && !current.dead ? (current.pid ?? null) : null;
}

/** CPU of the launcher and of the commands it has started and reaped; starts a launcher if none runs. */
export function launcherUsage(): Promise<LauncherUsage> {
  return launcher().usage();
}

/**
 * Stops the launcher, if one runs, and waits until it has exited. Not needed on exit (a worker
 * that exits closes the launcher's stdin, which ends it); commands still running are stopped.
 */
export async function stopLauncher(): Promise<void> {
  await current?.stop();
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}
