import { activityAttempts } from './helpers/runs';
import { ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { WorkflowFailedError } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../services/audit-log';
import { listVersions, readPointer } from '../services/registry';
import { registryActivities } from '../activities/registry';
import { sourceReader } from '../services/sources';
import { generateChurn } from '../examples/data/generators';
import { sha256 } from '../lib/canonical-json';
import { InvalidInputError, RetrainError } from '../lib/errors';
import { driftScheduleId } from '../lib/workflow-ids';
import { startRetrain } from '../client/client';
import { createPredictionLogger } from '../serving';
import type { DriftCheckSummary } from '../shared/inputs';
import { REPO, startHarness, testPipeline, TRIVIAL_PREDICT, TRIVIAL_TRAINER, type Harness } from './helpers/harness';
import { startMinio, type Minio } from './helpers/minio';

// The whole lifecycle with every artefact in a real S3-compatible server on loopback: the
// data source is an s3:// prefix of part files, the store is s3://<bucket>/retrain.
let minio: Minio;
let s3: S3Client;
let h: Harness;
const PREFIX = 'retrain';
const churnCsv = readFileSync(join(REPO, 'examples/data/churn.csv'));
// The activities' step logs are for production; here they would only bury the test output.
const quiet = new DefaultLogger('ERROR');
const savedEnv = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };

beforeAll(async () => {
  minio = await startMinio();
  s3 = minio.client();
  // Credentials reach the workers the way they reach production ones: the AWS default chain.
  process.env.AWS_ACCESS_KEY_ID = minio.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = minio.secretAccessKey;
  h = await startHarness({
    store: { kind: 's3', bucket: minio.bucket, prefix: PREFIX },
    s3: { endpoint: minio.endpoint, region: 'us-east-1', forcePathStyle: true },
  });
  await uploadInParts('exports/churn', churnCsv, 3);
});
afterAll(async () => {
  await h?.close();
  s3?.destroy();
  await minio?.stop();
  process.env.AWS_ACCESS_KEY_ID = savedEnv.id;
  process.env.AWS_SECRET_ACCESS_KEY = savedEnv.secret;
  if (savedEnv.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
  if (savedEnv.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
});

/** Writes a CSV as `parts` objects, each with the header, plus the _SUCCESS marker data tools leave. */
async function uploadInParts(prefix: string, csv: Buffer, parts: number): Promise<void> {
  const [header, ...rows] = csv.toString().trimEnd().split('\n');
  const size = Math.ceil(rows.length / parts);
  for (let i = 0; i < parts; i++) {
    const body = `${header}\n${rows.slice(i * size, (i + 1) * size).join('\n')}\n`;
    await s3.send(new PutObjectCommand({ Bucket: minio.bucket, Key: `${prefix}/part-${String(i).padStart(4, '0')}.csv`, Body: body }));
  }
  await s3.send(new PutObjectCommand({ Bucket: minio.bucket, Key: `${prefix}/_SUCCESS`, Body: '', ContentLength: 0 }));
}

async function bucketKeys(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let ContinuationToken: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: minio.bucket, Prefix: prefix, ContinuationToken }));
    keys.push(...(page.Contents ?? []).map((o) => o.Key!));
    ContinuationToken = page.NextContinuationToken;
  } while (ContinuationToken);
  return keys;
}

describe('the retraining pipeline on S3', () => {
  it('trains from an s3:// prefix and keeps snapshots, models, registry and audit in the bucket', async () => {
    const pipeline = testPipeline({ name: 's3-churn', source: { path: `s3://${minio.bucket}/exports/churn/` } });
    const summary = await (await startRetrain(h.client, h.config, pipeline, { requestedBy: 'test' })).handle.result();

    expect(summary.outcome).toBe('promoted');
    // The parts joined give back the original file byte for byte, so the snapshot is the one a
    // local copy of the same data would have had.
    expect(summary.snapshot.sha256).toBe(sha256(churnCsv));
    const { pointer, tag } = await readPointer(h.store, 's3-churn');
    expect(pointer.champion).toBe(summary.version);
    expect(tag).toMatch(/^"[0-9a-f-]+"$/); // an S3 ETag: the compare-and-swap tag
    const [version] = await listVersions(h.store, 's3-churn');
    expect(version!.version).toBe(summary.version);
    expect(await h.store.exists(version!.artifacts.model)).toBe(true);

    const stored = await bucketKeys(`${PREFIX}/`);
    for (const area of [
      'datasets/s3-churn/',
      `models/s3-churn/${summary.version}/`,
      'registry/s3-churn/champion.json',
      'registry/s3-churn/versions/',
      'audit/s3-churn/',
    ]) {
      expect(
        stored.some((k) => k.startsWith(`${PREFIX}/${area}`)),
        `${area} in the bucket`,
      ).toBe(true);
    }
    expect(stored).toContain(`${PREFIX}/datasets/s3-churn/${summary.snapshot.sha256}.csv`);
    expect((await listAudit(h.store, 's3-churn')).map((e) => e.type)).toEqual([
      'snapshot',
      'validation',
      'training',
      'registration',
      'evaluation',
      'gate',
      'promotion',
      'verification',
    ]);

    // A rerun on the same objects: no second version, no second promotion, no new objects but audit.
    const again = await (await startRetrain(h.client, h.config, pipeline)).handle.result();
    expect(again.outcome).toBe('unchanged');
    expect(await listVersions(h.store, 's3-churn')).toHaveLength(1);
    expect((await bucketKeys(`${PREFIX}/models/`)).sort()).toEqual(stored.filter((k) => k.startsWith(`${PREFIX}/models/`)).sort());
  });

  it('fails at once, without retrying, when an s3:// source has no data', async () => {
    const pipeline = testPipeline({ name: 's3-empty', source: { path: `s3://${minio.bucket}/exports/nothing-here/` } });
    const err = await (await startRetrain(h.client, h.config, pipeline)).handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause?.cause as { message: string; type?: string; nonRetryable?: boolean };
    expect(cause.message).toBe(
      `data source of pipeline "s3-empty" s3://${minio.bucket}/exports/nothing-here/: no object with that key and no data objects under it`,
    );
    expect(cause.nonRetryable).toBe(true);
    expect(await listVersions(h.store, 's3-empty')).toHaveLength(0);
  });

  it('fails at once, naming the bucket and the fix, when the source bucket does not exist', async () => {
    const pipeline = testPipeline({ name: 's3-nobucket', source: { path: 's3://retrain-no-such-bucket/churn.csv' } });
    const { handle } = await startRetrain(h.client, h.config, pipeline);
    const err = await handle.result().catch((e: unknown) => e);
    const cause = (err as WorkflowFailedError).cause?.cause as { message: string; type?: string; nonRetryable?: boolean };
    expect(cause.type).toBe('StoreMisconfigured');
    expect(cause.nonRetryable).toBe(true);
    expect(cause.message).toContain(`data source of pipeline "s3-nobucket" s3://retrain-no-such-bucket at ${minio.endpoint}`);
    expect(cause.message).toContain('the bucket does not exist: create it, or fix the bucket name');
    // One attempt only: the activity was not retried (the run then records its failure in the audit).
    expect(await activityAttempts(handle)).toEqual({ checkRetrainInput: [1], snapshotDataset: [1], recordAudit: [1] });
  });

  it('rides out an S3 outage: the failing step is retried until the server is back, and the run ends with one version', async () => {
    const pipeline = testPipeline({ name: 's3-outage', training: { command: TRIVIAL_TRAINER, predictCommand: TRIVIAL_PREDICT } });
    await minio.pause();
    let handle;
    try {
      ({ handle } = await startRetrain(h.client, h.config, pipeline));
      // Wait until the first step has failed on the unreachable store at least once and is
      // waiting for its next attempt.
      for (;;) {
        const pending = (await handle.describe()).raw.pendingActivities ?? [];
        if (pending.some((a) => (a.attempt ?? 0) >= 2)) {
          expect(pending[0]!.activityType?.name).toBe('snapshotDataset');
          expect(pending[0]!.lastFailure?.message).toMatch(/ECONNREFUSED|connect/i);
          break;
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    } finally {
      await minio.resume();
    }
    const summary = await handle!.result();
    expect(summary.outcome).toBe('promoted');
    expect(await listVersions(h.store, 's3-outage')).toHaveLength(1);
    expect((await listAudit(h.store, 's3-outage')).filter((e) => e.type === 'snapshot')).toHaveLength(1);
  });

  it('logs predictions to S3 and writes the drift reports there', async () => {
    const pipeline = testPipeline({
      name: 's3-drift',
      source: { path: `s3://${minio.bucket}/exports/churn/part-0000.csv` },
      training: { command: TRIVIAL_TRAINER, predictCommand: TRIVIAL_PREDICT },
      drift: { window: '1h', minPredictions: 30 },
    });
    const trained = await (await startRetrain(h.client, h.config, pipeline)).handle.result();
    expect(trained.outcome).toBe('promoted');

    const logger = createPredictionLogger({ store: h.store, model: 's3-drift', version: trained.version });
    for (const r of generateChurn({ rows: 400, seed: 11, drift: 1 })) {
      logger.logPrediction({
        id: `s3-drift-${r.customer_id}`,
        timestamp: new Date(Date.now() - 60_000),
        features: { tenure_months: r.tenure_months, monthly_spend: r.monthly_spend, support_tickets: r.support_tickets, plan: r.plan },
        prediction: 'no',
        latencyMs: 4,
      });
    }
    await logger.close();
    expect((await bucketKeys(`${PREFIX}/predictions/s3-drift/`)).length).toBeGreaterThan(0);

    const summary: DriftCheckSummary = await h.client.workflow.execute('driftCheck', {
      taskQueue: h.config.taskQueue,
      workflowId: `${driftScheduleId('s3-drift')}-test-${Date.now()}`,
      args: [{ pipeline, trigger: 'test' }],
    });
    expect(summary.result?.predictions).toBe(400);
    expect(summary.outcome).toBe('drift-alerted');
    const reports = await bucketKeys(`${PREFIX}/reports/s3-drift/`);
    expect(reports.map((k) => k.slice(k.lastIndexOf('.')))).toEqual(expect.arrayContaining(['.json', '.html']));
  });
});

describe('s3:// data sources', () => {
  const read = (path: string, format?: 'csv' | 'jsonl') =>
    sourceReader(h.config)({ path, ...(format ? { format } : {}) }, 'data source', { model: 'm', step: 'pull' });
  const put = (key: string, body: string) =>
    s3.send(new PutObjectCommand({ Bucket: minio.bucket, Key: key, Body: body, ContentLength: Buffer.byteLength(body) }));
  const failure = (p: Promise<unknown>) =>
    p.then(
      () => expect.unreachable('expected an error'),
      (e: RetrainError) => e,
    );

  it('reads one object, or the data objects under a prefix in key order', async () => {
    await put('src/one.csv', 'a,b\n1,2\n');
    await put('src/daily/2026-11-02.csv', 'a,b\n3,4\n');
    await put('src/daily/2026-11-01.csv', 'a,b\n1,2\n');
    await put('src/daily/_SUCCESS', '');
    expect((await read(`s3://${minio.bucket}/src/one.csv`)).toString()).toBe('a,b\n1,2\n');
    expect((await read(`s3://${minio.bucket}/src/daily`)).toString()).toBe('a,b\n1,2\n3,4\n');
    expect((await read(`s3://${minio.bucket}/src/daily/`)).toString()).toBe('a,b\n1,2\n3,4\n');
  });

  it('reads JSON-lines parts when the source says so, and says to when it does not', async () => {
    await put('src/events/part-1.jsonl', '{"a":1}\n');
    await put('src/events/part-2.jsonl', '{"a":2}\n');
    expect((await read(`s3://${minio.bucket}/src/events/`, 'jsonl')).toString()).toBe('{"a":1}\n{"a":2}\n');
    const err = await failure(read(`s3://${minio.bucket}/src/events/`));
    expect(err).toBeInstanceOf(InvalidInputError);
    expect(err.message).toBe(
      `data source s3://${minio.bucket}/src/events/: the objects under it are JSON lines (src/events/part-1.jsonl…): add format: 'jsonl' to the source`,
    );
  });

  it('rejects CSV parts with different headers, naming both (not retried)', async () => {
    await put('src/mixed/1.csv', 'a,b\n1,2\n');
    await put('src/mixed/2.csv', 'a,c\n1,2\n');
    const err = await failure(read(`s3://${minio.bucket}/src/mixed`));
    expect(err.retryable).toBe(false);
    expect(err.message).toBe(
      `CSV part s3://${minio.bucket}/src/mixed/2.csv has header "a,c", but s3://${minio.bucket}/src/mixed/1.csv has "a,b": every part of a source needs the same columns in the same order`,
    );
  });
});

describe('retrain worker with an S3 store', () => {
  it('refuses to start when the bucket does not exist, saying which and what to do', async () => {
    const child = spawn(process.execPath, [join(REPO, 'bin/retrain.mjs'), 'worker'], {
      cwd: REPO,
      env: {
        ...process.env,
        RETRAIN_PROJECT_DIR: REPO,
        RETRAIN_TEMPORAL_ADDRESS: h.config.temporalAddress,
        RETRAIN_STORE: 's3://retrain-missing-bucket/store',
        RETRAIN_S3_ENDPOINT: minio.endpoint,
        AWS_ACCESS_KEY_ID: minio.accessKeyId,
        AWS_SECRET_ACCESS_KEY: minio.secretAccessKey,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const [code] = await once(child, 'exit');
    expect(code).toBe(1);
    expect(stderr).toContain(
      `retrain: S3 store s3://retrain-missing-bucket/store at ${minio.endpoint}: ListObjectsV2 failed with NoSuchBucket: the bucket does not exist: create it, or fix the bucket name`,
    );
  });
});

describe('racing promotions on S3', () => {
  it('lets exactly one of several concurrent promotions win; the others see a conflict and nothing is lost', async () => {
    const activities = registryActivities({ store: h.store, config: h.config });
    const promote = (version: string, expectedChampion: string | null, eventId: string) =>
      new MockActivityEnvironment(undefined, { logger: quiet }).run(activities.promoteChampion, {
        model: 's3-race',
        version,
        expectedChampion,
        reason: 'race',
        actor: 'test',
        eventId,
      });

    for (let round = 0; round < 5; round++) {
      const before = (await readPointer(h.store, 's3-race')).pointer;
      const contenders = ['a', 'b', 'c', 'd'].map((c) => `v-${round}-${c}`);
      const results = await Promise.allSettled(contenders.map((v) => promote(v, before.champion, `promote-${v}`)));

      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(won).toHaveLength(1);
      for (const r of lost) expect((r.reason as RetrainError).type).toBe('RegistryConflict');
      const after = (await readPointer(h.store, 's3-race')).pointer;
      // The winner is the champion and the history grew by exactly its one change.
      expect(contenders).toContain(after.champion);
      expect(after.history).toHaveLength(before.history.length + 1);
      expect(after.history.at(-1)).toMatchObject({ action: 'promote', from: before.champion, to: after.champion });
    }
    // Every winning promotion is in the history, in order: none was overwritten by a later one.
    const { pointer } = await readPointer(h.store, 's3-race');
    expect(pointer.history.map((c) => c.to)).toEqual(pointer.history.map((_, i) => expect.stringMatching(new RegExp(`^v-${i}-[abcd]$`))));
  });

  it('applies a retried promotion once (same event id)', async () => {
    const activities = registryActivities({ store: h.store, config: h.config });
    const run = () =>
      new MockActivityEnvironment(undefined, { logger: quiet }).run(activities.promoteChampion, {
        model: 's3-retry',
        version: 'v1',
        expectedChampion: null,
        reason: 'retry',
        actor: 'test',
        eventId: 'promote-v1',
      });
    await Promise.all([run(), run(), run()]);
    const { pointer } = await readPointer(h.store, 's3-retry');
    expect(pointer.champion).toBe('v1');
    expect(pointer.history).toHaveLength(1);
  });
});
