/**
 * Starting a training command: a fresh Python against a fork of the fork server
 * (training/fork_server.py), both through the command launcher as a worker starts them. The
 * command imports what training/train.py imports (scikit-learn, numpy, joblib…) and exits, so
 * the time is what every training and predict command pays before its own work. Not a test: it
 * measures and prints, it asserts nothing.
 *
 * Both sides run in this process's launcher, alternating. The fresh side sets
 * PYTHONNOUSERSITE=1, a variable a Python reads when it starts, so the launcher gives it a new
 * interpreter (the venv has no user site, so the variable changes nothing else).
 *
 *   node --import tsx bench/python-start.ts [--runs 10]
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import os from 'node:os';
import { loadConfig } from '../services/config';
import { launcherUsage, stopLauncher } from '../services/runner/launcher';
import { runContractCommand } from '../services/runner/subprocess';
import { REPO } from '../test/helpers/pipelines';
import { checkBenchArgs } from './bench-args';

const arg = checkBenchArgs(process.argv.slice(2), { values: ['--runs'] }, import.meta.url);
const RUNS = Number(arg('--runs') ?? 10);
if (!(Number.isInteger(RUNS) && RUNS > 0)) {
  process.stderr.write(`--runs must be a positive integer, got ${arg('--runs')}\n`);
  process.exit(2);
}
const python = loadConfig({ RETRAIN_PROJECT_DIR: REPO }).python;
const work = os.tmpdir();
const script = join(work, `retrain-python-start-${process.pid}.py`);
writeFileSync(
  script,
  [
    'import os, sys',
    `sys.path.insert(0, ${JSON.stringify(join(REPO, 'training'))})`,
    'import train  # noqa: F401  (its imports: scikit-learn, numpy, joblib, the contract)',
    'print(os.environ.get("RETRAIN_FORK_SERVER") or "fresh")',
  ].join('\n'),
);

async function start(fresh: boolean): Promise<{ ms: number; how: string }> {
  const env = process.env;
  if (fresh) process.env.PYTHONNOUSERSITE = '1';
  let how = '';
  const started = performance.now();
  try {
    const run = await runContractCommand({
      command: ['$PYTHON', script],
      requestPath: join(work, 'unused-request.json'),
      cwd: work,
      python,
      timeoutMs: 120_000,
      signal: new AbortController().signal,
      onProgress: () => undefined,
      onOutput: (line) => (how = line === '1' ? 'forked' : line),
    });
    if (run.exitCode !== 0) throw new Error(`the command failed (${run.exitCode}): ${run.stderrTail}`);
  } finally {
    if (fresh) delete env.PYTHONNOUSERSITE;
  }
  return { ms: performance.now() - started, how };
}

// The first command starts the fork server; wait until commands are forked.
process.stdout.write('warming up the fork server…\n');
for (let i = 0; i < 120 && (await start(false)).how !== 'forked'; i++) await new Promise((r) => setTimeout(r, 500));
const before = await launcherUsage();
const times = { fresh: [] as number[], forked: [] as number[] };
for (let i = 0; i < RUNS; i++) {
  for (const fresh of [true, false]) {
    const { ms, how } = await start(fresh);
    if (how !== (fresh ? 'fresh' : 'forked')) throw new Error(`expected a ${fresh ? 'fresh' : 'forked'} start, got ${how}`);
    times[fresh ? 'fresh' : 'forked'].push(ms);
  }
}
const after = await launcherUsage();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
process.stdout.write(`\n${os.cpus().length} cores; ${RUNS} starts each, alternating; ${python}\n`);
process.stdout.write(`| start | median ms | mean ms | min ms | max ms |\n|---|---:|---:|---:|---:|\n`);
for (const side of ['fresh', 'forked'] as const) {
  const xs = times[side];
  process.stdout.write(
    `| ${side} | ${median(xs).toFixed(1)} | ${mean(xs).toFixed(1)} | ${Math.min(...xs).toFixed(1)} | ${Math.max(...xs).toFixed(1)} |\n`,
  );
}
process.stdout.write(`fresh / forked (median): ${(median(times.fresh) / median(times.forked)).toFixed(1)}×\n`);
if (before.children && after.children) {
  const cpuMs = (after.children.user + after.children.system - before.children.user - before.children.system) / 1000;
  process.stdout.write(`CPU of both sides' Python processes: ${cpuMs.toFixed(0)} ms for ${2 * RUNS} starts\n`);
}
await stopLauncher();
