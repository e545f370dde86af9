/**
 * Large artefacts through the S3 store (`S3Store.upload` / `.download`, streamed) against the
 * AWS CLI (`aws s3 cp`), on one MinIO server and the same files. Not a test: it measures and
 * prints, it asserts nothing.
 *
 *   node --import tsx bench/s3-transfer.ts [--sizes 64MiB,256MiB,1GiB] [--repeats 3] [--keep]
 *
 * Per size it writes a file of random bytes (streamed, hashed on the way), then runs each
 * operation in a process of its own (bench/s3-transfer-child.ts for ours), so a process's peak
 * RSS is that operation's alone: upload, then download to another file whose sha256 must equal
 * the source's. The AWS CLI does the same round trip; the in-memory way (PutObject with a
 * Buffer, GetObject + transformToByteArray) runs at the smallest size only, as the contrast.
 * The AWS CLI lives in a venv of its own (.retrain/bench-venv-awscli), made on first use.
 * See bench/README.md for what each column means.
 */
import { checkBenchArgs } from './bench-args';
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { startMinio, type Minio } from '../test/helpers/minio';
import { findMinio } from '../scripts/provision.mjs';
import type { ChildResult } from './s3-transfer-child';

const REPO = resolve(import.meta.dirname, '..');
const CHILD = join(REPO, 'bench/s3-transfer-child.ts');
const AWS_VENV = join(REPO, '.retrain/bench-venv-awscli');
/** Pinned: what installed when this bench was written. */
const AWSCLI_REQUIREMENT = 'awscli==1.46.2';
const MiB = 1024 * 1024;
const benchStart = Date.now();
const loadStart = os.loadavg()[0].toFixed(2);

/**
 * Runs a command and reports the kernel's peak RSS of exactly that process: os.wait4 returns
 * the rusage of the one child it reaped (ru_maxrss, KiB on Linux). Node cannot: spawnSync and
 * 'exit' give no rusage, and process.resourceUsage() covers the calling process only.
 */
const WAIT4 = `
import json, os, subprocess, sys, time
started = time.perf_counter()
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
child.returncode = os.waitstatus_to_exitcode(status)
print(json.dumps({"exit": child.returncode, "wallSeconds": time.perf_counter() - started, "maxRssKiB": usage.ru_maxrss,
                  "cpuSeconds": usage.ru_utime + usage.ru_stime}))
`;

// ---------------------------------------------------------------------------------------------
// Sizes and files

function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB)?$/i.exec(text.trim());
  if (!m) throw new Error(`--sizes: cannot read "${text}" (e.g. 64MiB, 1GiB)`);
  const unit = { b: 1, kib: 1024, mib: MiB, gib: 1024 * MiB }[(m[2] ?? 'B').toLowerCase()]!;
  return Math.round(Number(m[1]) * unit);
}

const fmtSize = (bytes: number) =>
  bytes >= 1024 * MiB && bytes % (1024 * MiB) === 0 ? `${bytes / (1024 * MiB)} GiB` : `${+(bytes / MiB).toFixed(2)} MiB`;

/** Writes `bytes` random bytes in 1 MiB chunks (never the whole file in memory); returns its sha256. */
async function writeRandomFile(path: string, bytes: number): Promise<string> {
  const hash = createHash('sha256');
  const fh = await open(path, 'w');
  try {
    for (let left = bytes; left > 0;) {
      const chunk = randomBytes(Math.min(left, MiB));
      hash.update(chunk);
      await fh.write(chunk);
      left -= chunk.length;
    }
  } finally {
    await fh.close();
  }
  return hash.digest('hex');
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

// ---------------------------------------------------------------------------------------------
// Measured processes

interface Measured {
  /** Process start to exit, as the parent (ours) or the wait4 wrapper (AWS CLI) saw it. */
  wallSeconds: number;
  peakKiB: number;
  /** User + system CPU seconds of the whole process. */
  cpuSeconds: number;
  /** Ours only: the operation alone, timed inside the process. */
  opSeconds?: number;
}

/** Runs a command to its end; resolves with its stdout, rejects on a non-zero exit. */
function runProcess(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ stdout: string; wallSeconds: number }> {
  return new Promise((resolvePromise, reject) => {
    const started = performance.now();
    const child = spawn(cmd, args, { cwd: REPO, env, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      const wallSeconds = (performance.now() - started) / 1000;
      if (code === 0) resolvePromise({ stdout, wallSeconds });
      else reject(new Error(`${cmd} ${args.join(' ')} failed (exit ${code ?? signal})`));
    });
  });
}

const lastLine = (s: string) => s.trim().split('\n').pop()!;

/** Environment for both sides: only these credentials, no user profile or config file. */
function s3Env(minio: Minio): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    AWS_ACCESS_KEY_ID: minio.accessKeyId,
    AWS_SECRET_ACCESS_KEY: minio.secretAccessKey,
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_CONFIG_FILE: '/nonexistent',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
    AWS_EC2_METADATA_DISABLED: 'true',
    BENCH_S3_ENDPOINT: minio.endpoint,
    BENCH_S3_BUCKET: minio.bucket,
  };
}

async function runOurs(minio: Minio, role: string, file = '', key = ''): Promise<Measured> {
  // --no-warnings: the SDK's notice about Node versions would print once per child.
  const { stdout, wallSeconds } = await runProcess(
    process.execPath,
    ['--no-warnings', '--import', 'tsx', CHILD, role, file, key],
    s3Env(minio),
  );
  const r: ChildResult = JSON.parse(lastLine(stdout));
  // VmHWM and ru_maxrss are the same counter read two ways; a gap would mean a mistake here.
  if (Math.abs(r.hwmKiB - r.maxRssKiB) > 1024) console.warn(`  WARNING: ${role}: VmHWM ${r.hwmKiB} KiB but ru_maxrss ${r.maxRssKiB} KiB`);
  return { wallSeconds, peakKiB: Math.max(r.hwmKiB, r.maxRssKiB), cpuSeconds: r.cpuSeconds, opSeconds: r.opSeconds };
}

async function runAws(python: string, minio: Minio, args: string[]): Promise<Measured> {
  const aws = join(AWS_VENV, 'bin', 'aws');
  const { stdout } = await runProcess(
    python,
    ['-c', WAIT4, aws, ...args, '--endpoint-url', minio.endpoint, '--only-show-errors'],
    s3Env(minio),
  );
  const r = JSON.parse(lastLine(stdout)) as { exit: number; wallSeconds: number; maxRssKiB: number; cpuSeconds: number };
  if (r.exit !== 0) throw new Error(`aws ${args.join(' ')} exited with ${r.exit}`);
  return { wallSeconds: r.wallSeconds, peakKiB: r.maxRssKiB, cpuSeconds: r.cpuSeconds };
}

/** The AWS CLI's venv, made on first use only (never by set-up or tests); null (no peer) when it cannot be had. */
function awsPython(): string | null {
  const python = join(AWS_VENV, 'bin', 'python');
  const works = () => existsSync(python) && spawnSync(join(AWS_VENV, 'bin', 'aws'), ['--version'], { stdio: 'ignore' }).status === 0;
  if (works()) return python;
  progress(`creating ${AWS_VENV} with ${AWSCLI_REQUIREMENT} (first use)`);
  const run = (cmd: string, args: string[], what: string) => {
    const r = spawnSync(cmd, args, { cwd: REPO, stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.error) throw new Error(`${what}: could not run ${cmd}: ${r.error.message}`);
    if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status ?? r.signal})`);
  };
  try {
    if (!existsSync(python)) run('python3', ['-m', 'venv', AWS_VENV], 'creating the venv');
    run(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', AWSCLI_REQUIREMENT], 'installing the AWS CLI');
    if (!works()) throw new Error('the AWS CLI installed but `aws --version` fails');
    return python;
  } catch (err) {
    console.warn(`  WARNING: no AWS CLI peer: ${(err as Error).message}; continuing without it`);
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// The run

interface Row {
  size: number;
  operation: string;
  ours: Measured;
  peer: Measured | null;
}

interface Baselines {
  ours: Measured;
  peer: Measured | null;
}

function progress(message: string): void {
  console.log(`[${((Date.now() - benchStart) / 1000).toFixed(1).padStart(6)}s] ${message}`);
}

/** Flushes written pages (untimed), so one step's writeback does not land in the next step's time. */
const flush = () => spawnSync('sync');

async function verify(path: string, expected: string, what: string): Promise<void> {
  const got = await sha256File(path);
  if (got !== expected) throw new Error(`${what}: sha256 ${got} differs from the source's ${expected}`);
}

const describe = (m: Measured) =>
  `${m.wallSeconds.toFixed(2)} s${m.opSeconds !== undefined ? ` (operation ${m.opSeconds.toFixed(2)} s)` : ''}, CPU ${m.cpuSeconds.toFixed(2)} s, peak RSS ${(m.peakKiB / 1024).toFixed(0)} MiB`;

interface Context {
  minio: Minio;
  /** The AWS CLI venv's Python, or null: no peer. */
  python: string | null;
  repeats: number;
  keep: boolean;
}

/** Median of each figure over the repeats. */
function medianOf(ms: Measured[]): Measured {
  const med = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  return {
    wallSeconds: med(ms.map((m) => m.wallSeconds)),
    peakKiB: med(ms.map((m) => m.peakKiB)),
    cpuSeconds: med(ms.map((m) => m.cpuSeconds)),
    ...(ms[0].opSeconds !== undefined ? { opSeconds: med(ms.map((m) => m.opSeconds!)) } : {}),
  };
}

async function measureSize(ctx: Context, dir: string, size: number, naive: boolean, rows: Row[]): Promise<void> {
  const { minio, python, repeats } = ctx;
  const label = fmtSize(size);
  const src = join(dir, 'source.bin');
  progress(`${label}: writing ${src}`);
  const sha = await writeRandomFile(src, size);
  flush();
  const url = (key: string) => `s3://${minio.bucket}/${key}`;
  const keys = { ours: `ours-${size}`, aws: `aws-${size}`, naive: `naive-${size}` };
  const outs = { ours: join(dir, 'download-ours.bin'), aws: join(dir, 'download-aws.bin'), naive: join(dir, 'download-naive.bin') };

  const runs = new Map<string, Measured[]>();
  const step = async (run: number, operation: string, side: string, measure: () => Promise<Measured>, out?: string) => {
    const what = `${label}: ${operation}, ${side}${repeats > 1 ? ` (${run + 1}/${repeats})` : ''}`;
    progress(what);
    const m = await measure();
    flush();
    if (out) await verify(out, sha, what);
    progress(`${what}: ${describe(m)}${out ? ', sha256 matches' : ''}`);
    if (out && !ctx.keep) rmSync(out, { force: true });
    runs.set(`${operation}|${side}`, [...(runs.get(`${operation}|${side}`) ?? []), m]);
  };

  for (let i = 0; i < repeats; i++) {
    // Ours and the peer alternate, so both see the same state of the page cache and of MinIO.
    await step(i, 'upload', 'ours', () => runOurs(minio, 'upload', src, keys.ours));
    if (python) await step(i, 'upload', 'aws cli', () => runAws(python, minio, ['s3', 'cp', src, url(keys.aws)]));
    await step(i, 'download', 'ours', () => runOurs(minio, 'download', outs.ours, keys.ours), outs.ours);
    if (python) await step(i, 'download', 'aws cli', () => runAws(python, minio, ['s3', 'cp', url(keys.aws), outs.aws]), outs.aws);
    if (naive) {
      await step(i, 'in-memory upload (put)', 'ours', () => runOurs(minio, 'naive-upload', src, keys.naive));
      await step(i, 'in-memory download (get)', 'ours', () => runOurs(minio, 'naive-download', outs.naive, keys.naive), outs.naive);
    }
  }
  for (const operation of ['upload', 'download', ...(naive ? ['in-memory upload (put)', 'in-memory download (get)'] : [])]) {
    const peer = runs.get(`${operation}|aws cli`);
    rows.push({ size, operation, ours: medianOf(runs.get(`${operation}|ours`)!), peer: peer ? medianOf(peer) : null });
  }

  // MinIO keeps every object on this disk until it stops: free the space now.
  const admin = minio.client();
  for (const key of Object.values(keys)) await admin.send(new DeleteObjectCommand({ Bucket: minio.bucket, Key: key }));
  admin.destroy();
}

// ---------------------------------------------------------------------------------------------
// Report

const mib = (kib: number) => (kib / 1024).toFixed(0);
const rate = (bytes: number, seconds: number) => (bytes / MiB / seconds).toFixed(0);

function printReport(rows: Row[], base: Baselines, awsVersion: string | null): void {
  const peak = (m: Measured, b: Measured) => {
    const growth = Math.round((m.peakKiB - b.peakKiB) / 1024);
    return `${mib(m.peakKiB)} (${growth >= 0 ? '+' : ''}${growth})`;
  };
  console.log('');
  console.log('### Throughput and peak RSS (one process per operation)');
  console.log('');
  const head = [
    'size',
    'operation',
    'ours MiB/s',
    'ours MiB/s (operation only)',
    'ours peak RSS MiB (+ over baseline)',
    'aws cli MiB/s',
    'aws cli peak RSS MiB (+ over baseline)',
    'speed ours/aws',
    'peak RSS ours/aws',
  ];
  console.log(`| ${head.join(' | ')} |`);
  console.log(
    `|---:|:---|${head
      .slice(2)
      .map(() => '---:')
      .join('|')}|`,
  );
  for (const r of rows) {
    const p = r.peer && base.peer ? r.peer : null;
    const cells = [
      fmtSize(r.size),
      r.operation,
      rate(r.size, r.ours.wallSeconds),
      rate(r.size, r.ours.opSeconds!),
      peak(r.ours, base.ours),
      p ? rate(r.size, p.wallSeconds) : 'n/a',
      p ? peak(p, base.peer!) : 'n/a',
      p ? (p.wallSeconds / r.ours.wallSeconds).toFixed(2) : 'n/a',
      p ? (r.ours.peakKiB / p.peakKiB).toFixed(2) : 'n/a',
    ];
    console.log(`| ${cells.join(' | ')} |`);
  }
  console.log('');
  console.log('### CPU (user + system seconds of the whole process, start-up included)');
  console.log('');
  console.log('| size | operation | ours CPU s | aws cli CPU s |');
  console.log('|---:|:---|---:|---:|');
  for (const r of rows)
    console.log(
      `| ${fmtSize(r.size)} | ${r.operation} | ${r.ours.cpuSeconds.toFixed(2)} | ${r.peer ? r.peer.cpuSeconds.toFixed(2) : 'n/a'} |`,
    );
  console.log('');
  console.log(`Baseline, ours (Node: imports, S3 client, nothing sent): ${describe(base.ours)}`);
  if (base.peer) console.log(`Baseline, aws cli (\`aws s3 cp --dryrun\` of a 1-byte file, nothing sent): ${describe(base.peer)}`);
  const cpus = os.cpus();
  const minioVersion = spawnSync(findMinio()!, ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0] ?? 'unknown';
  console.log(
    `Machine: ${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB RAM, ` +
      `Node ${process.version}, ${os.platform()} ${os.release()}; ${minioVersion.trim()}; ${awsVersion ?? 'no AWS CLI'}; ` +
      `load average ${loadStart} at start, ${os.loadavg()[0].toFixed(2)} at end`,
  );
}

// ---------------------------------------------------------------------------------------------

interface Options {
  sizes: number[];
  repeats: number;
  keep: boolean;
}

function parseArgs(argv: string[]): Options {
  const value = checkBenchArgs(argv, { values: ['--sizes', '--repeats'], switches: ['--keep'] }, import.meta.url);
  const sizes = (value('--sizes') ?? '64MiB,256MiB,1GiB').split(',').map(parseSize);
  if (sizes.some((n) => !(n >= 1))) throw new Error('--sizes expects sizes of at least 1 byte, e.g. 64MiB,256MiB,1GiB');
  const repeats = Number(value('--repeats') ?? 3);
  if (!(Number.isInteger(repeats) && repeats >= 1)) throw new Error('--repeats expects a positive integer');
  return { sizes, repeats, keep: argv.includes('--keep') };
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const python = awsPython();
  const awsVersion = python ? spawnSync(join(AWS_VENV, 'bin', 'aws'), ['--version'], { encoding: 'utf8' }).stdout.trim() : null;
  progress('starting MinIO');
  const minio = await startMinio();
  const dirs: string[] = [];
  const cleanUp = async () => {
    if (!opts.keep) for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
    await minio.stop();
  };
  process.once('SIGINT', () => void cleanUp().finally(() => process.exit(130)));

  const rows: Row[] = [];
  let base: Baselines;
  try {
    progress(`MinIO at ${minio.endpoint}, bucket ${minio.bucket}; baselines (${opts.repeats} run(s) each)`);
    const ours: Measured[] = [];
    const peer: Measured[] = [];
    const oneByteDir = mkdtempSync(join(os.tmpdir(), 'retrain-s3-bench-'));
    dirs.push(oneByteDir);
    const oneByte = join(oneByteDir, 'one-byte.bin');
    await writeRandomFile(oneByte, 1);
    for (let i = 0; i < opts.repeats; i++) {
      ours.push(await runOurs(minio, 'baseline'));
      progress(`baseline, ours: ${describe(ours[i])}`);
      if (!python) continue;
      // The CLI cannot make a client without a command; --dryrun parses, loads and plans, and sends nothing.
      peer.push(await runAws(python, minio, ['s3', 'cp', '--dryrun', oneByte, `s3://${minio.bucket}/one-byte`]));
      progress(`baseline, aws cli: ${describe(peer[i])}`);
    }
    base = { ours: medianOf(ours), peer: python ? medianOf(peer) : null };
    rmSync(oneByteDir, { recursive: true, force: true });
    const smallest = Math.min(...opts.sizes);
    for (const size of opts.sizes) {
      const dir = mkdtempSync(join(os.tmpdir(), 'retrain-s3-bench-'));
      dirs.push(dir);
      await measureSize({ minio, python, repeats: opts.repeats, keep: opts.keep }, dir, size, size === smallest, rows);
      if (!opts.keep) rmSync(dir, { recursive: true, force: true });
      progress(`${fmtSize(size)}: done${opts.keep ? `, files kept in ${dir} (--keep): delete them when done` : ', files deleted'}`);
    }
  } finally {
    await cleanUp();
  }
  printReport(rows, base, awsVersion);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
