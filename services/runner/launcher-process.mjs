// The command launcher: a small, long-lived process that starts contract commands (training,
// predict) for a worker. Forking copies the forking process's page tables while its event loop
// waits, so a worker holding hundreds of MiB blocks for milliseconds per command; this process
// stays small, so starting a command here is cheap. Plain Node, no imports beyond built-ins: it
// must start fast. The worker side is launcher.ts, which documents the protocol.
//
//   node launcher-process.mjs <kill grace ms>
//
// Requests arrive on stdin, events leave on stdout, one JSON object per line. When stdin ends
// (the worker exited or was killed) every command's process group is stopped: SIGTERM, then
// SIGKILL after the grace period; then this process exits.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

const KILL_GRACE_MS = Number(process.argv[2]) || 5_000;

/** id → { child, pid }: every command started and not yet closed. */
const commands = new Map();
let shuttingDown = false;

function send(event) {
  if (!shuttingDown) process.stdout.write(JSON.stringify(event) + '\n');
}

function signalGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

function start({ id, program, args, cwd, env }) {
  let child;
  try {
    // Detached: a process group of its own, so a signal to the group reaches the grandchildren.
    child = spawn(program, args, { cwd, env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (err) {
    send({ ev: 'error', id, message: err.message });
    return;
  }
  const entry = { child, pid: child.pid };
  let failed = false;
  commands.set(id, entry);
  // stdin stays open and unwritten while this process lives: a contract command exits when it closes.
  child.stdin.on('error', () => undefined);
  child.once('spawn', () => send({ ev: 'spawned', id, pid: child.pid }));
  child.on('error', (err) => {
    failed = true;
    commands.delete(id);
    child.stdin.destroy();
    send({ ev: 'error', id, message: err.message });
    finishShutdown();
  });
  for (const [fd, stream] of [
    [1, child.stdout],
    [2, child.stderr],
  ]) {
    stream.setEncoding('utf8');
    stream.on('data', (text) => send({ ev: 'data', id, fd, text }));
  }
  // Grandchildren that outlive the command may hold its stdout/stderr, so 'close' would wait for
  // them: end the group as soon as the command itself exits.
  child.on('exit', () => {
    if (failed) return;
    signalGroup(child.pid, 'SIGKILL');
    send({ ev: 'exit', id });
  });
  child.on('close', (code, signal) => {
    if (failed) return;
    signalGroup(child.pid, 'SIGKILL');
    child.stdin.destroy();
    commands.delete(id);
    send({ ev: 'close', id, code, signal });
    finishShutdown();
  });
}

/** CPU of this process and of its reaped children (the commands), in microseconds. */
function usage(id) {
  const self = process.cpuUsage();
  let children = null;
  try {
    // Fields 16 and 17 of /proc/self/stat: cutime and cstime, in clock ticks (100 per second on Linux).
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    children = { user: Number(fields[13]) * 10_000, system: Number(fields[14]) * 10_000 };
  } catch {
    // no /proc: unknown
  }
  send({ ev: 'usage', id, self, children });
}

function handle(request) {
  if (request.op === 'spawn') start(request);
  else if (request.op === 'signal') {
    const entry = commands.get(request.id);
    if (entry?.pid) signalGroup(entry.pid, request.signal);
  } else if (request.op === 'usage') usage(request.id);
}

/** The worker is gone: stop every command's group, and exit once they have all closed. */
function shutDown() {
  if (shuttingDown) return;
  shuttingDown = true;
  for (const { pid } of commands.values()) if (pid) signalGroup(pid, 'SIGTERM');
  setTimeout(() => {
    for (const { pid } of commands.values()) if (pid) signalGroup(pid, 'SIGKILL');
    process.exit(0);
  }, KILL_GRACE_MS);
  finishShutdown();
}

function finishShutdown() {
  if (shuttingDown && commands.size === 0) process.exit(0);
}

let buffered = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  buffered += chunk;
  let newline;
  while ((newline = buffered.indexOf('\n')) >= 0) {
    const line = buffered.slice(0, newline);
    buffered = buffered.slice(newline + 1);
    if (line) handle(JSON.parse(line));
  }
});
process.stdin.on('end', shutDown);
process.stdin.on('error', shutDown);
// A worker that died cannot read what we write: writing fails with EPIPE.
process.stdout.on('error', shutDown);
// Started detached, so a terminal's Ctrl-C does not reach us; someone who signals us on purpose
// gets the same clean-up as a worker that went away.
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, shutDown);
