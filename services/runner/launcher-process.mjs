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
import { readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { fileURLToPath } from 'node:url';

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

function start(request) {
  if (startForked(request)) return;
  const { id, program, args, cwd, env } = request;
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

/** Fields after the command name of /proc/<pid>/stat (field 3 is index 0). */
function procStat(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/**
 * CPU of this process and of its children (the commands, and the fork servers with the commands
 * they forked), in microseconds.
 */
function usage(id) {
  const self = process.cpuUsage();
  let children = null;
  try {
    // Fields 14 to 17 of /proc/<pid>/stat: utime, stime, cutime and cstime, in clock ticks (100 a second on Linux).
    const fields = procStat('self');
    children = { user: Number(fields[13]) * 10_000, system: Number(fields[14]) * 10_000 };
    for (const server of forkServers.values()) {
      if (server.state === 'dead' || !server.child?.pid) continue;
      const f = procStat(server.child.pid);
      children.user += (Number(f[11]) + Number(f[13])) * 10_000;
      children.system += (Number(f[12]) + Number(f[14])) * 10_000;
    }
  } catch {
    // no /proc: unknown
  }
  send({ ev: 'usage', id, self, children });
}

// ---------------------------------------------------------------------------------------------
// The Python fork server (training/fork_server.py): a `<python> script.py …` command starts as a
// fork of a Python that has imported scikit-learn, pandas and numpy once, instead of a new
// interpreter importing them again (about a second of CPU each time). The first such command
// starts the server and runs the usual way; later ones are forked once it is ready. Off with
// RETRAIN_PYTHON_FORK_SERVER=false; the modules it imports: RETRAIN_PYTHON_PRELOAD (comma-separated).
// ---------------------------------------------------------------------------------------------

const FORK_SERVER_SCRIPT = fileURLToPath(new URL('../../training/fork_server.py', import.meta.url));
// Checked by the worker's configuration (lib/config.ts) before this process starts.
const FORK_ENABLED = !['false', '0', 'no'].includes(process.env.RETRAIN_PYTHON_FORK_SERVER ?? '');
const PRELOAD =
  process.env.RETRAIN_PYTHON_PRELOAD ??
  'numpy,pandas,joblib,sklearn.compose,sklearn.dummy,sklearn.ensemble,sklearn.impute,sklearn.linear_model,sklearn.metrics,sklearn.pipeline,sklearn.preprocessing';
/**
 * Variables a Python reads when it starts or when it imports those libraries (thread pools,
 * paths, hash seed, locale): a command whose values differ from the server's gets a fresh
 * interpreter, so forking never changes what a command sees.
 */
const STARTUP_VARIABLE = /^(PYTHON(?!UNBUFFERED$)|OMP_|MKL_|OPENBLAS_|GOTO_|NUMEXPR_|VECLIB_|KMP_|LD_|SKLEARN_|JOBLIB_|LANG$|LC_)/;
/** After a forked command exits, how long an output connection not yet made may take to come. */
const CONNECT_GRACE_MS = 100;
/** After a forked command exits, how long its output connections get to end. */
const OUTPUT_DRAIN_MS = 2_000;

/** Python program path → { child, key, state: 'starting' | 'ready' | 'dead' }. */
const forkServers = new Map();
/** Forked commands by their id as text (how their connections name them). */
const forkedByText = new Map();
let socketPath = null;

function startupKey(env) {
  return JSON.stringify(
    Object.keys(env)
      .filter((k) => STARTUP_VARIABLE.test(k))
      .sort()
      .map((k) => [k, env[k]]),
  );
}

/** The socket forked commands connect their stdin, stdout and stderr to. */
function outputSocket() {
  if (socketPath) return socketPath;
  const path = join(tmpdir(), `retrain-launcher-${process.pid}.sock`);
  rmSync(path, { force: true });
  createServer(acceptStream).listen(path).unref();
  process.on('exit', () => rmSync(path, { force: true }));
  socketPath = path;
  return path;
}

/** A connection from a forked command: "<id> <fd>\n", then its output (fd 1, 2), or nothing (fd 0). */
function acceptStream(socket) {
  let header = Buffer.alloc(0);
  socket.on('error', () => undefined);
  const onHeader = (chunk) => {
    header = Buffer.concat([header, chunk]);
    const newline = header.indexOf(10);
    if (newline < 0) return;
    socket.off('data', onHeader);
    const [idText, fdText] = header.subarray(0, newline).toString().split(' ');
    const entry = forkedByText.get(idText);
    const id = entry?.id;
    const fd = Number(fdText);
    if (!entry?.forked || entry.closed) return void socket.destroy();
    if (fd === 0) {
      // Held open and never written: the command's stdin ends when this process goes away.
      entry.stdin = socket;
      if (entry.exit) socket.destroy();
      return;
    }
    entry.streams[fd] = 'open';
    const decoder = new StringDecoder('utf8');
    const emit = (bytes) => {
      const text = decoder.write(bytes);
      if (text) send({ ev: 'data', id, fd, text });
    };
    if (newline + 1 < header.length) emit(header.subarray(newline + 1));
    socket.on('data', emit);
    socket.once('close', () => {
      const rest = decoder.end();
      if (rest) send({ ev: 'data', id, fd, text: rest });
      entry.streams[fd] = 'ended';
      closeForked(entry);
    });
  };
  socket.on('data', onHeader);
}

function startForkServer(program, env) {
  const server = { child: null, key: startupKey(env), state: 'starting' };
  forkServers.set(program, server);
  try {
    server.child = spawn(program, [FORK_SERVER_SCRIPT, outputSocket(), PRELOAD], { env, stdio: ['pipe', 'pipe', 'inherit'] });
  } catch {
    server.state = 'dead';
    return;
  }
  server.child.stdin.on('error', () => undefined);
  server.child.on('error', () => forkServerGone(server));
  server.child.on('exit', () => forkServerGone(server));
  let buffered = '';
  server.child.stdout.setEncoding('utf8');
  server.child.stdout.on('data', (chunk) => {
    buffered += chunk;
    let newline;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (line) forkServerEvent(server, JSON.parse(line));
    }
  });
}

function forkServerEvent(server, event) {
  if (event.ev === 'ready') {
    if (server.state === 'starting') server.state = 'ready';
    return;
  }
  const entry = commands.get(event.id);
  if (!entry) return;
  if (event.ev === 'started') {
    entry.pid = event.pid;
    send({ ev: 'spawned', id: entry.id, pid: event.pid });
    if (entry.pendingSignal) signalGroup(entry.pid, entry.pendingSignal);
  } else if (event.ev === 'exited') {
    forkedExited(entry, event.code, event.signal);
  }
}

/** The server died: its commands cannot be followed any more, so they are stopped and reported killed. */
function forkServerGone(server) {
  if (server.state === 'dead') return;
  server.state = 'dead';
  for (const entry of [...commands.values()]) {
    if (entry.forked !== server || entry.exit) continue;
    if (entry.pid) forkedExited(entry, null, 'SIGKILL');
    else {
      commands.delete(entry.id);
      forkedByText.delete(String(entry.id));
      entry.closed = true;
      send({ ev: 'error', id: entry.id, message: 'the Python fork server exited before it started the command' });
      finishShutdown();
    }
  }
}

/** Starts the command as a fork of a ready fork server when it is a Python script; false otherwise. */
function startForked({ id, program, args, cwd, env }) {
  if (!FORK_ENABLED || shuttingDown || args.length === 0 || !args[0].endsWith('.py') || !/^python[0-9.]*$/.test(basename(program)))
    return false;
  const server = forkServers.get(program);
  if (!server || server.state === 'dead') {
    // Warmed up in the background (again, after a crash); this command starts the usual way meanwhile.
    startForkServer(program, env);
    return false;
  }
  if (server.state !== 'ready' || server.key !== startupKey(env)) return false;
  const entry = { id, forked: server, pid: null, streams: { 1: 'none', 2: 'none' }, stdin: null, exit: null, closed: false };
  commands.set(id, entry);
  forkedByText.set(String(id), entry);
  server.child.stdin.write(JSON.stringify({ op: 'run', id, script: args[0], args: args.slice(1), cwd, env }) + '\n');
  return true;
}

function forkedExited(entry, code, signal) {
  if (entry.exit) return;
  entry.exit = { code, signal };
  // As for a spawned command: grandchildren must not outlive it.
  if (entry.pid) signalGroup(entry.pid, 'SIGKILL');
  entry.stdin?.destroy();
  send({ ev: 'exit', id: entry.id });
  // Gives up, after a moment, on an output connection that never came (the command died before
  // it connected), and after longer on one that does not end.
  const giveUp = (ms, states) =>
    setTimeout(() => {
      for (const fd of [1, 2]) if (states.includes(entry.streams[fd])) entry.streams[fd] = 'ended';
      closeForked(entry);
    }, ms).unref();
  giveUp(CONNECT_GRACE_MS, ['none']);
  giveUp(OUTPUT_DRAIN_MS, ['none', 'open']);
  closeForked(entry);
}

/** 'close' once the command has exited and both its output streams have ended. */
function closeForked(entry) {
  if (entry.closed || !entry.exit || entry.streams[1] !== 'ended' || entry.streams[2] !== 'ended') return;
  entry.closed = true;
  commands.delete(entry.id);
  forkedByText.delete(String(entry.id));
  send({ ev: 'close', id: entry.id, code: entry.exit.code, signal: entry.exit.signal });
  finishShutdown();
}

function handle(request) {
  if (request.op === 'spawn') start(request);
  else if (request.op === 'signal') {
    const entry = commands.get(request.id);
    if (entry?.pid) signalGroup(entry.pid, request.signal);
    else if (entry?.forked) entry.pendingSignal = request.signal;
  } else if (request.op === 'usage') usage(request.id);
}

/** The worker is gone: stop every command's group, and exit once they have all closed. */
function shutDown() {
  if (shuttingDown) return;
  shuttingDown = true;
  for (const { pid } of commands.values()) if (pid) signalGroup(pid, 'SIGTERM');
  for (const server of forkServers.values()) server.child?.stdin.end();
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
