/**
 * How long starting a contract command blocks the worker's event loop: the old way (the worker
 * forks itself: child_process.spawn with the options runContractCommand used) against the
 * launcher (services/runner/launcher.ts), in a process holding about 1 GiB of heap like a busy
 * worker. Not a test: it measures and prints, it asserts nothing.
 *
 *   node --import tsx bench/spawn-block.ts [--heap-mib 1024] [--commands 50] [--rounds 2] [--command /bin/true]
 *
 * Per command it times the synchronous call that starts it (spawn(), or runContractCommand up to
 * the promise it returns) and, over each phase of `--commands` commands, the event-loop delay that
 * perf_hooks.monitorEventLoopDelay sees (1 ms resolution: a sample is the time between two ticks
 * of a 1 ms timer, so an idle loop reads a little over 1 ms). Commands run one at a time; phases
 * alternate between the two ways for `--rounds` rounds.
 */
import { checkBenchArgs } from './bench-args';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { launcherPid, stopLauncher } from '../services/runner/launcher';
import { runContractCommand } from '../services/runner/subprocess';

const MiB = 1024 * 1024;

setFlagsFromString('--expose-gc');
/** A full collection, so the growth garbage of the held arrays is gone and no major GC falls inside a phase. */
const collect = runInNewContext('gc') as () => void;

interface Phase {
  name: string;
  round: number;
  callMs: number[];
  loopCount: number;
  loopMeanMs: number;
  loopMaxMs: number;
  loopP99Ms: number;
}

/** Arrays of doubles on the V8 heap, written, so the pages are resident as a worker's would be. */
function holdHeap(mib: number): number[][] {
  // 64 Ki elements: short enough for V8 to preallocate the array in fast mode, 512 KiB each.
  const perArray = 65_536;
  const held: number[][] = [];
  for (let i = 0; i < (mib * MiB) / (perArray * 8); i++) {
    const a = new Array<number>(perArray);
    for (let j = 0; j < perArray; j++) a[j] = j + 0.5;
    held.push(a);
  }
  return held;
}

interface Way {
  name: string;
  startOne: () => Promise<unknown>;
}

/** `commands` commands one at a time, with an event-loop delay monitor of its own over the phase. */
async function measure(way: Way, commands: number, round: number): Promise<Phase> {
  const callMs: number[] = [];
  collect();
  // A fresh monitor per phase: re-enabling one would count the time it was off as one long delay.
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  for (let i = 0; i < commands; i++) {
    const started = performance.now();
    const done = way.startOne(); // synchronous up to its first await: the time the loop is blocked
    callMs.push(performance.now() - started);
    await done;
  }
  loop.disable();
  return {
    name: way.name,
    round,
    callMs,
    loopCount: loop.count,
    loopMeanMs: loop.mean / 1e6,
    loopMaxMs: loop.max / 1e6,
    loopP99Ms: loop.percentile(99) / 1e6,
  };
}

/** One way's phases together: calls pooled, loop delay mean weighted by samples, max of maxes. */
function pooled(phases: Phase[]): { callMs: number[]; loopMeanMs: number; loopMaxMs: number } {
  const samples = phases.reduce((n, p) => n + p.loopCount, 0);
  return {
    callMs: phases.flatMap((p) => p.callMs),
    loopMeanMs: phases.reduce((sum, p) => sum + p.loopMeanMs * p.loopCount, 0) / samples,
    loopMaxMs: Math.max(...phases.map((p) => p.loopMaxMs)),
  };
}

/** The old way: runContractCommand's former spawn() call, from this process. */
function directSpawn(command: string[], requestPath: string, cwd: string): Promise<void> {
  const child = spawn(command[0], [...command.slice(1), requestPath], {
    cwd,
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
  });
  child.stdout.resume();
  child.stderr.resume();
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', () => {
      child.stdin.destroy();
      resolve();
    });
  });
}

function throughLauncher(command: string[], requestPath: string, cwd: string): Promise<unknown> {
  return runContractCommand({
    command,
    requestPath,
    cwd,
    python: 'python3',
    timeoutMs: 60_000,
    signal: new AbortController().signal,
    onProgress: () => undefined,
    onOutput: () => undefined,
  });
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const fmt = (ms: number) => ms.toFixed(3);

async function main(): Promise<void> {
  const value = checkBenchArgs(process.argv.slice(2), { values: ['--heap-mib', '--commands', '--rounds', '--command'] }, import.meta.url);
  const option = (flag: string, fallback: string) => value(flag) ?? fallback;
  const heapMiB = Number(option('--heap-mib', '1024'));
  const commands = Number(option('--commands', '50'));
  const rounds = Number(option('--rounds', '2'));
  const command = option('--command', '/bin/true').split(' ');
  const cwd = mkdtempSync(join(os.tmpdir(), 'retrain-spawn-block-'));
  const requestPath = join(cwd, 'request.json');

  const limitMiB = getHeapStatistics().heap_size_limit / MiB;
  if (limitMiB < heapMiB * 1.5) throw new Error(`heap limit ${limitMiB.toFixed(0)} MiB: run with --max-old-space-size=${heapMiB * 2}`);
  const held = holdHeap(heapMiB);
  collect();
  const memory = process.memoryUsage();
  console.log(
    `holding ${heapMiB} MiB of doubles: heap used ${(memory.heapUsed / MiB).toFixed(0)} MiB, RSS ${(memory.rss / MiB).toFixed(0)} MiB`,
  );

  // A worker starts its launcher once, on its first command: a fork of the worker as it is then.
  const launcherStarted = performance.now();
  const first = throughLauncher(command, requestPath, cwd);
  const launcherStartCallMs = performance.now() - launcherStarted;
  await first;
  const launcherFirstMs = performance.now() - launcherStarted;

  const ways: Way[] = [
    { name: 'direct spawn (fork of this process)', startOne: () => directSpawn(command, requestPath, cwd) },
    { name: `launcher (pid ${launcherPid()})`, startOne: () => throughLauncher(command, requestPath, cwd) },
  ];
  const phases: Phase[] = [];
  try {
    // Rounds alternate the ways, so load from other processes falls on both alike.
    for (let round = 1; round <= rounds; round++) for (const way of ways) phases.push(await measure(way, commands, round));
  } finally {
    await stopLauncher();
    rmSync(cwd, { recursive: true, force: true });
  }

  console.log('');
  console.log(`${commands} × \`${command.join(' ')}\` per phase, one at a time, from a process with ${heapMiB} MiB of heap`);
  console.log('');
  console.log('| way | round | start call mean ms | start call max ms | loop delay mean ms | loop delay p99 ms | loop delay max ms |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const p of phases) {
    console.log(
      `| ${p.name} | ${p.round} | ${fmt(mean(p.callMs))} | ${fmt(Math.max(...p.callMs))} | ${fmt(p.loopMeanMs)} | ${fmt(p.loopP99Ms)} | ${fmt(p.loopMaxMs)} |`,
    );
  }
  const [direct, launcher] = ways.map((way) => pooled(phases.filter((p) => p.name === way.name)));
  console.log('');
  console.log(
    `all rounds, direct / launcher: start call mean ${fmt(mean(direct.callMs))} / ${fmt(mean(launcher.callMs))} ms = ${(mean(direct.callMs) / mean(launcher.callMs)).toFixed(1)}×, ` +
      `max ${fmt(Math.max(...direct.callMs))} / ${fmt(Math.max(...launcher.callMs))} ms = ${(Math.max(...direct.callMs) / Math.max(...launcher.callMs)).toFixed(1)}×; ` +
      `loop delay mean ${fmt(direct.loopMeanMs)} / ${fmt(launcher.loopMeanMs)} ms = ${(direct.loopMeanMs / launcher.loopMeanMs).toFixed(1)}×, ` +
      `max ${fmt(direct.loopMaxMs)} / ${fmt(launcher.loopMaxMs)} ms = ${(direct.loopMaxMs / launcher.loopMaxMs).toFixed(1)}×`,
  );
  console.log(
    `the launcher's own start (once per worker process, a fork of this process): start call ${fmt(launcherStartCallMs)} ms; ` +
      `its first command done after ${fmt(launcherFirstMs)} ms (Node starting the launcher)`,
  );
  console.log(
    `load average at the end: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(', ')}`,
  );
  const cpus = os.cpus();
  console.log(
    `Machine: ${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, Node ${process.version}, ${os.platform()} ${os.release()}`,
  );
  held.length = 0;
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
