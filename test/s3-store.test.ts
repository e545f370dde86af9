import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RetrainError } from '../lib/errors';
import { S3Store } from '../store/s3-store';
import { startMinio, type Minio } from './helpers/minio';
import { storeContract } from './helpers/store-contract';

// A real S3-compatible server on loopback, one per file. Without a MinIO binary (no Go to
// build it, no MINIO_PATH) these tests fail, naming what is missing: a skipped backend would
// hide its regressions.
let minio: Minio;
const clients: S3Client[] = [];
const scratch = mkdtempSync(join(tmpdir(), 'retrain-s3-store-'));

beforeAll(async () => {
  minio = await startMinio();
});
afterAll(async () => {
  clients.forEach((c) => c.destroy());
  await minio?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

function client(credentials?: { accessKeyId: string; secretAccessKey: string }): S3Client {
  const c = minio.client(credentials);
  clients.push(c);
  return c;
}

/** A store on a fresh prefix of the shared bucket: empty, as the contract needs. */
async function freshS3Store(): Promise<S3Store> {
  return new S3Store({ client: client(), bucket: minio.bucket, prefix: `t-${randomBytes(6).toString('hex')}` });
}

async function misconfigured(promise: Promise<unknown>): Promise<RetrainError> {
  const err = await promise.then(
    () => {
      throw new Error('expected a StoreMisconfigured error');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RetrainError);
  expect((err as RetrainError).type).toBe('StoreMisconfigured');
  expect((err as RetrainError).retryable).toBe(false);
  return err as RetrainError;
}

function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (d) => hash.update(d))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', reject);
  });
}

describe('S3Store on MinIO', () => {
  storeContract('S3Store', freshS3Store);

  describe('S3Store specifics', () => {
    it('reports s3://bucket/prefix as its location and keeps objects under the prefix', async () => {
      const store = new S3Store({ client: client(), bucket: minio.bucket, prefix: '/team-a/retrain/' });
      expect(store.location).toBe(`s3://${minio.bucket}/team-a/retrain`);
      expect(new S3Store({ client: client(), bucket: minio.bucket }).location).toBe(`s3://${minio.bucket}`);
      await store.put('registry/m/champion.json', '{}');
      const whole = new S3Store({ client: client(), bucket: minio.bucket });
      expect(await whole.list('team-a/')).toEqual(['team-a/retrain/registry/m/champion.json']);
      expect(await store.list('')).toEqual(['registry/m/champion.json']);
    });

    it('lets exactly one of two racing putIfMatch calls on the same tag win', async () => {
      const store = await freshS3Store();
      for (let round = 0; round < 10; round++) {
        await store.put('registry/m/champion.json', `v${round}`);
        const { tag } = (await store.getWithTag('registry/m/champion.json'))!;
        const results = await Promise.all(['a', 'b'].map((w) => store.putIfMatch('registry/m/champion.json', `${w}${round}`, tag)));
        expect(results.filter(Boolean)).toHaveLength(1);
        const winner = results[0] ? 'a' : 'b';
        expect((await store.get('registry/m/champion.json'))?.toString()).toBe(`${winner}${round}`);
      }
    });

    it('lists more than one page of keys (ListObjectsV2 returns 1000 at most)', async () => {
      const store = await freshS3Store();
      const keys = Array.from({ length: 1005 }, (_, i) => `many/k-${String(i).padStart(4, '0')}`);
      for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((k) => store.put(k, '')));
      expect(await store.list('many/')).toEqual(keys);
    });

    it('fails with StoreMisconfigured naming the problem when the access key is wrong', async () => {
      const store = new S3Store({
        client: client({ accessKeyId: 'not-a-user', secretAccessKey: minio.secretAccessKey }),
        bucket: minio.bucket,
      });
      const err = await misconfigured(store.get('a.json'));
      expect(err.message).toContain('InvalidAccessKeyId');
      expect(err.message).toContain(minio.bucket);
      expect(err.message).toContain(minio.endpoint);
      expect(err.message).toMatch(/credentials/);
      await misconfigured(store.put('a.json', 'x'));
      await misconfigured(store.exists('a.json'));
    });

    it('fails with StoreMisconfigured when the secret key is wrong', async () => {
      const store = new S3Store({
        client: client({ accessKeyId: minio.accessKeyId, secretAccessKey: 'wrong-secret-0000' }),
        bucket: minio.bucket,
      });
      const err = await misconfigured(store.list(''));
      expect(err.message).toContain('SignatureDoesNotMatch');
      expect(err.message).toMatch(/secret access key/);
    });

    it('fails with StoreMisconfigured naming the bucket when it does not exist', async () => {
      const store = new S3Store({ client: client(), bucket: 'no-such-bucket-retrain' });
      const err = await misconfigured(store.put('a.json', 'x'));
      expect(err.message).toContain('NoSuchBucket');
      expect(err.message).toContain('s3://no-such-bucket-retrain');
      expect(err.message).toMatch(/create it/);
      expect(err.context.bucket).toBe('no-such-bucket-retrain');
      await misconfigured(store.get('a.json'));
      await misconfigured(store.list(''));
      await misconfigured(store.putIfAbsent('a.json', 'x'));
    });

    it('leaves network errors ordinary (retryable), not StoreMisconfigured', async () => {
      // Port 1 on loopback: nothing listens, so the connection is refused.
      const offline = new S3Client({
        endpoint: 'http://127.0.0.1:1',
        region: 'us-east-1',
        forcePathStyle: true,
        maxAttempts: 1,
        credentials: { accessKeyId: minio.accessKeyId, secretAccessKey: minio.secretAccessKey },
      });
      clients.push(offline);
      const err = await new S3Store({ client: offline, bucket: minio.bucket }).get('a.json').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect(err).not.toBeInstanceOf(RetrainError);
    });

    it('round-trips a 20 MiB file through a multipart upload and a streamed download', async () => {
      const store = await freshS3Store();
      const source = join(scratch, 'big.bin');
      const bytes = randomBytes(20 * 1024 * 1024);
      await writeFile(source, bytes);
      await store.upload(source, 'models/m/v1/model.bin');
      const target = join(scratch, 'out', 'model.bin');
      await store.download('models/m/v1/model.bin', target);
      expect(await sha256File(target)).toBe(createHash('sha256').update(bytes).digest('hex'));
      // A multipart object's ETag is "<md5 of part md5s>-<parts>": it really went in parts.
      expect((await store.getWithTag('models/m/v1/model.bin'))?.tag).toMatch(/-\d+"?$/);
    });
  });
});

// MinIO serialises conditional writes with a lock and never answers 409; AWS S3 may, when
// two conditional writes to one key overlap. A stub client covers that path.
describe('S3Store conditional-write conflicts (stub client)', () => {
  function stubClient(answers: Array<number | 'ok'>): { client: S3Client; calls: () => number } {
    let calls = 0;
    const send = async () => {
      const answer = answers[Math.min(calls++, answers.length - 1)];
      if (answer === 'ok') return {};
      const name = answer === 409 ? 'ConditionalRequestConflict' : 'PreconditionFailed';
      throw Object.assign(new Error(name), { name, $metadata: { httpStatusCode: answer } });
    };
    return { client: { send } as unknown as S3Client, calls: () => calls };
  }

  it('retries a 409 ConditionalRequestConflict, then reports the real outcome', async () => {
    const won = stubClient([409, 409, 'ok']);
    expect(await new S3Store({ client: won.client, bucket: 'b' }).putIfMatch('k', 'x', '"t"')).toBe(true);
    expect(won.calls()).toBe(3);
    const lost = stubClient([409, 412]);
    expect(await new S3Store({ client: lost.client, bucket: 'b' }).putIfAbsent('k', 'x')).toBe(false);
    expect(lost.calls()).toBe(2);
  });

  it('gives up on a conflict that never clears, with the S3 error', async () => {
    const stuck = stubClient([409]);
    await expect(new S3Store({ client: stuck.client, bucket: 'b' }).putIfAbsent('k', 'x')).rejects.toThrow(/ConditionalRequestConflict/);
    expect(stuck.calls()).toBe(9);
  });
});
