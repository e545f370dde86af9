import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { findMinio } from '../../scripts/provision.mjs';
import { freePort } from './free-port';

export interface Minio {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** A fresh, empty bucket. */
  bucket: string;
  /** An S3 client for this server (path-style, as MinIO on an IP address needs). */
  client(credentials?: { accessKeyId: string; secretAccessKey: string }): S3Client;
  stop(): Promise<void>;
  /** Stops the server but keeps its data, to simulate an outage; `resume` brings it back on the same port. */
  pause(): Promise<void>;
  resume(): Promise<void>;
}

const READY_TIMEOUT_MS = 30_000;

/**
 * Starts a MinIO server on loopback with fresh random credentials and data in a temporary
 * directory, waits until it is live and creates a fresh bucket. Throws when no MinIO binary
 * is found (run `node scripts/setup.mjs`, or set MINIO_PATH).
 */
export async function startMinio(): Promise<Minio> {
  const bin = findMinio();
  if (!bin) throw new Error('no MinIO binary: run `node scripts/setup.mjs` (needs Go) or set MINIO_PATH');
  const dataDir = mkdtempSync(join(tmpdir(), 'retrain-minio-'));
  const [port, consolePort] = [await freePort(), await freePort()];
  const endpoint = `http://127.0.0.1:${port}`;
  const accessKeyId = `retrain-${randomBytes(6).toString('hex')}`;
  const secretAccessKey = randomBytes(24).toString('hex');
  let output = '';
  let child: ReturnType<typeof spawn>;
  let exited: Promise<void>;
  const spawnServer = () => {
    child = spawn(bin, ['server', dataDir, '--address', `127.0.0.1:${port}`, '--console-address', `127.0.0.1:${consolePort}`, '--quiet'], {
      env: {
        ...process.env,
        MINIO_ROOT_USER: accessKeyId,
        MINIO_ROOT_PASSWORD: secretAccessKey,
        MINIO_BROWSER: 'off',
        MINIO_UPDATE: 'off',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  };
  spawnServer();

  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killed = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(killed);
    }
  };
  const stop = async () => {
    await kill();
    rmSync(dataDir, { recursive: true, force: true });
  };
  const pause = kill;
  const resume = async () => {
    spawnServer();
    await waitUntilLive(
      endpoint,
      () => child.exitCode !== null,
      () => output,
    );
  };

  const client = (credentials = { accessKeyId, secretAccessKey }) =>
    new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials });

  try {
    await waitUntilLive(
      endpoint,
      () => child.exitCode !== null,
      () => output,
    );
    const bucket = `retrain-${randomBytes(6).toString('hex')}`;
    const admin = client();
    await admin.send(new CreateBucketCommand({ Bucket: bucket }));
    admin.destroy();
    return { endpoint, accessKeyId, secretAccessKey, bucket, client, stop, pause, resume };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Polls the liveness endpoint until it answers 200, the process dies, or time runs out. */
async function waitUntilLive(endpoint: string, died: () => boolean, output: () => string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (died()) throw new Error(`MinIO exited before it was ready:\n${output()}`);
    try {
      const res = await fetch(`${endpoint}/minio/health/live`, { signal: AbortSignal.timeout(1_000) });
      if (res.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`MinIO did not become live at ${endpoint} within ${READY_TIMEOUT_MS / 1000}s:\n${output()}`);
}
