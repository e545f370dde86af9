/**
 * One measured operation of bench/s3-transfer.ts, alone in its process, so the process's peak
 * RSS is that operation's. A separate file so the process imports only what the operation
 * needs: the S3 store and its client, no MinIO helper and no benchmark code.
 *
 *   node --import tsx bench/s3-transfer-child.ts <role> [file] [key]
 *
 * Roles: baseline (imports and a client, nothing sent), upload / download (S3Store.upload and
 * .download: streamed), naive-upload / naive-download (the whole file in a Buffer:
 * S3Store.put / .get, i.e. PutObject with a Buffer and GetObject + transformToByteArray).
 * Connection: BENCH_S3_ENDPOINT and BENCH_S3_BUCKET; credentials come from the AWS variables
 * through the default chain, as in a worker. Prints one JSON line on stdout.
 */
import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createS3Client } from '../store/s3-client';
import { S3Store } from '../store/s3-store';

export interface ChildResult {
  /** Seconds the operation took inside this process (no process start, imports or client). */
  opSeconds: number;
  /** The kernel's peak RSS of this process (VmHWM), KiB. */
  hwmKiB: number;
  /** The same peak as getrusage reports it (ru_maxrss, KiB): a cross-check. */
  maxRssKiB: number;
  /** User + system CPU seconds of the whole process, start-up included. */
  cpuSeconds: number;
}

function vmHwmKiB(): number {
  const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  if (!m) throw new Error('no VmHWM in /proc/self/status (Linux only)');
  return Number(m[1]);
}

async function main(): Promise<void> {
  const [role, file, key] = process.argv.slice(2);
  const endpoint = process.env.BENCH_S3_ENDPOINT;
  const bucket = process.env.BENCH_S3_BUCKET;
  if (!endpoint || !bucket) throw new Error('BENCH_S3_ENDPOINT and BENCH_S3_BUCKET must be set');
  const client = createS3Client({ endpoint, region: process.env.AWS_REGION ?? 'us-east-1', forcePathStyle: true });
  const store = new S3Store({ client, bucket });

  const started = performance.now();
  switch (role) {
    case 'baseline':
      break;
    case 'upload':
      await store.upload(file, key);
      break;
    case 'download':
      await store.download(key, file);
      break;
    case 'naive-upload':
      await store.put(key, await readFile(file));
      break;
    case 'naive-download': {
      const body = await store.get(key);
      if (!body) throw new Error(`no object ${key}`);
      await writeFile(file, body);
      break;
    }
    default:
      throw new Error(`unknown role ${role}`);
  }
  const opSeconds = (performance.now() - started) / 1000;
  const usage = process.resourceUsage();
  const result: ChildResult = {
    opSeconds,
    hwmKiB: vmHwmKiB(),
    maxRssKiB: usage.maxRSS,
    cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6,
  };
  client.destroy();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
