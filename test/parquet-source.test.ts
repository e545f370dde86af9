import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRetrain } from '../client/client';
import { InvalidInputError } from '../lib/errors';
import { sourceFormat } from '../lib/pipeline';
import { joinParts } from '../lib/source-parts';
import { readTable, type Table } from '../lib/table';
import { findSdkPython } from '../scripts/provision.mjs';
import { snapshotSource, splitSnapshot, validateData, validateSnapshot } from '../services/datasets';
import { sourceReader } from '../services/sources';
import { startHarness, testPipeline, TRIVIAL_PREDICT, TRIVIAL_TRAINER, type Harness } from './helpers/harness';
import { startMinio, type Minio } from './helpers/minio';
import { expectRunFailure, tempDir } from './helpers/runs';

/*
 * Parquet sources, read with hyparquet from files another implementation wrote: pyarrow, from
 * .retrain/venv-sdk (test/requirements-sdk.txt; `node scripts/setup.mjs` installs it).
 */

const PYTHON = findSdkPython();
const probe = spawnSync(PYTHON, ['-c', 'import pyarrow'], { encoding: 'utf8' });
const pyarrowMissing =
  probe.error || probe.status !== 0
    ? `pyarrow is not installed (${PYTHON}: ${probe.error?.message ?? probe.stderr.trim().split('\n').pop()}); run \`node scripts/setup.mjs\``
    : null;
if (pyarrowMissing) console.warn(`skipping test/parquet-source.test.ts: ${pyarrowMissing}`);

/** Writes the test files with pyarrow; row i of every file is the same function of i (see `expected`). */
const WRITER = String.raw`
import sys, os
import pyarrow as pa, pyarrow.parquet as pq
out, n = sys.argv[1], 200

def row(i):
    return {
        "customer_id": f"c{i:04d}",
        "tenure_months": None if i % 29 == 3 else 1 + i % 48,
        "monthly_spend": None if i % 31 == 5 else 20.1 + i * 1.5,
        "support_tickets": i % 5,
        "plan": None if i % 37 == 4 else ["basic", "pro", "team"][i % 3],
        "churned": "yes" if i % 3 == 0 else "no",
    }

schema = pa.schema([
    ("customer_id", pa.string()),
    ("tenure_months", pa.int64()),
    ("monthly_spend", pa.float64()),
    ("support_tickets", pa.int32()),
    ("plan", pa.dictionary(pa.int32(), pa.string())),
    ("churned", pa.string()),
])

def table(lo, hi):
    rows = [row(i) for i in range(lo, hi)]
    return pa.table({f.name: pa.array([r[f.name] for r in rows], type=f.type) for f in schema}, schema=schema)

pq.write_table(table(0, n), os.path.join(out, "churn.parquet"))
pq.write_table(table(0, n), os.path.join(out, "groups.parquet"), row_group_size=37)
for codec in ("zstd", "gzip", "brotli", "lz4"):
    pq.write_table(table(0, n), os.path.join(out, f"churn-{codec}.parquet"), compression=codec)
os.makedirs(os.path.join(out, "parts"), exist_ok=True)
pq.write_table(table(0, 120), os.path.join(out, "parts", "part-0000.parquet"))
pq.write_table(table(120, n), os.path.join(out, "parts", "part-0001.parquet"))
# A numeric column written as text: the Parquet type reaches validation as it is.
bad = table(0, n).set_column(1, "tenure_months", pa.array([f"m{i}" for i in range(n)], type=pa.string()))
pq.write_table(bad, os.path.join(out, "text-tenure.parquet"))
print(pq.ParquetFile(os.path.join(out, "groups.parquet")).metadata.num_row_groups)
`;

const N = 200;
const COLUMNS = ['customer_id', 'tenure_months', 'monthly_spend', 'support_tickets', 'plan', 'churned'];

/** The cells row i must read as: numbers in their shortest decimal form, nulls as null. */
function expected(i: number): (string | null)[] {
  return [
    `c${String(i).padStart(4, '0')}`,
    i % 29 === 3 ? null : String(1 + (i % 48)),
    i % 31 === 5 ? null : String(20.1 + i * 1.5),
    String(i % 5),
    i % 37 === 4 ? null : ['basic', 'pro', 'team'][i % 3]!,
    i % 3 === 0 ? 'yes' : 'no',
  ];
}
const rowsFrom = (lo: number, hi: number) => Array.from({ length: hi - lo }, (_, k) => expected(lo + k));

let dir: string;
let rowGroups: number;

function pipelineOn(name: string, path: string, format?: 'parquet') {
  return testPipeline({
    name,
    source: { path, ...(format ? { format } : {}) },
    training: { command: TRIVIAL_TRAINER, predictCommand: TRIVIAL_PREDICT },
  });
}

beforeAll(() => {
  if (pyarrowMissing) return;
  dir = tempDir('parquet');
  rowGroups = Number(execFileSync(PYTHON, ['-c', WRITER, dir], { encoding: 'utf8' }).trim());
});

describe.skipIf(pyarrowMissing)('Parquet sources written by pyarrow', () => {
  it('chooses the format by the .parquet extension or an explicit format', () => {
    expect(sourceFormat({ path: 'data/churn.parquet' })).toBe('parquet');
    expect(sourceFormat({ path: 's3://b/exports/CHURN.PARQUET' })).toBe('parquet');
    expect(sourceFormat({ path: 's3://b/exports/churn/', format: 'parquet' })).toBe('parquet');
    expect(sourceFormat({ path: 'data/churn.csv' })).toBe('csv');
  });

  it('reads numeric and categorical columns with nulls into the table CSV gives', async () => {
    const table = await readTable(readFileSync(join(dir, 'churn.parquet')), 'parquet', 'churn.parquet');
    expect(table.columns).toEqual(COLUMNS);
    expect(table.rows).toEqual(rowsFrom(0, N));
    // The missing values really are there, in numeric and dictionary-encoded columns alike.
    expect(table.rows[3]![1]).toBeNull();
    expect(table.rows[5]![2]).toBeNull();
    expect(table.rows[4]![4]).toBeNull();
    expect(table.rows[1]![2]).toBe('21.6');
  });

  it.each(['zstd', 'gzip', 'brotli', 'lz4'])('reads a %s-compressed file as warehouses write them', async (codec) => {
    const table = await readTable(readFileSync(join(dir, `churn-${codec}.parquet`)), 'parquet', `churn-${codec}.parquet`);
    expect(table.rows).toEqual(rowsFrom(0, N));
  });

  it('reads a file of several row groups in order', async () => {
    expect(rowGroups).toBeGreaterThan(1);
    const table = await readTable(readFileSync(join(dir, 'groups.parquet')), 'parquet', 'groups.parquet');
    expect(table.rows).toEqual(rowsFrom(0, N));
  });

  it('joins part files in order, the same parts always giving the same bytes', async () => {
    const parts = ['part-0000.parquet', 'part-0001.parquet'].map((f) => ({ name: f, body: readFileSync(join(dir, 'parts', f)) }));
    const joined = async () => {
      const streamed = parts.map((p) => ({ name: p.name, size: p.body.length, chunks: () => [p.body] as never }));
      const out: Uint8Array[] = [];
      for await (const chunk of joinParts(streamed, 'parquet', { model: 'churn', step: 'pull' })) out.push(chunk);
      return Buffer.concat(out);
    };
    const body = await joined();
    expect((await joined()).equals(body)).toBe(true);
    const table = await readTable(body, 'parquet', 'parts');
    expect(table.columns).toEqual(COLUMNS);
    expect(table.rows).toEqual(rowsFrom(0, N));
  });

  it('validates a Parquet source with the pipeline, and the Parquet types reach validation', async () => {
    const ok = await validateData(
      readFileSync(join(dir, 'churn.parquet')),
      'parquet',
      'churn.parquet',
      pipelineOn('pq-ok', 'x.parquet'),
      async () => null,
    );
    expect(ok.problems).toEqual([]);
    expect(ok.ok).toBe(true);
    const text = await validateData(
      readFileSync(join(dir, 'text-tenure.parquet')),
      'parquet',
      'text-tenure.parquet',
      pipelineOn('pq-text', 'x.parquet'),
      async () => null,
    );
    expect(text.ok).toBe(false);
    expect(JSON.stringify(text.problems)).toContain('tenure_months');
  });

  it('snapshots the source bytes, validates and splits the snapshot', async () => {
    const h = await startHarness({ runWorkers: false });
    try {
      const path = join(dir, 'churn.parquet');
      const pipeline = pipelineOn('pq-snapshot', path);
      const snapshot = await snapshotSource({ store: h.store, config: h.config }, pipeline);
      expect(snapshot.format).toBe('parquet');
      expect(snapshot.key).toMatch(/\.parquet$/);
      expect(snapshot.bytes).toBe(readFileSync(path).length);
      expect((await validateSnapshot(h.store, pipeline, snapshot)).ok).toBe(true);
      const split = await splitSnapshot({ store: h.store, config: h.config }, pipeline, snapshot);
      expect(split.trainRows + split.holdoutRows).toBe(N);
      const train = (await h.store.get(split.trainKey))!.toString();
      expect(train.split('\n')[0]).toBe('tenure_months,monthly_spend,support_tickets,plan,churned');
    } finally {
      await h.close();
    }
  });

  it('fails a .parquet file that is not Parquet with an InvalidInput error naming the file', async () => {
    const path = join(dir, 'not-really.parquet');
    writeFileSync(path, 'customer_id,churned\nc1,yes\n');
    const read = sourceReader({ projectDir: dir, s3: undefined as never });
    const err = await read({ path }, 'data source of pipeline "pq-bad"', { model: 'pq-bad', step: 'pull' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as Error).message).toBe(
      `data source of pipeline "pq-bad" ${path} is not a Parquet file (a Parquet file starts and ends with "PAR1")`,
    );
    // The same bytes reaching validation (e.g. `retrain validate --data`) are an unreadable report, not a crash.
    const report = await validateData(readFileSync(path), 'parquet', path, pipelineOn('pq-bad', path), async () => null);
    expect(report.ok).toBe(false);
    expect(JSON.stringify(report.problems)).toContain(`${path}: not a Parquet file`);
    // Parquet magic around damaged bytes: still named, still bad input.
    const damaged = Buffer.concat([Buffer.from('PAR1'), Buffer.alloc(40, 7), Buffer.from('PAR1')]);
    await expect(readTable(damaged, 'parquet', 'damaged.parquet')).rejects.toThrow(/^damaged\.parquet: not a readable Parquet file: /);
  });
});

describe.skipIf(pyarrowMissing)('retraining from a Parquet source', () => {
  let h: Harness;
  let minio: Minio;
  let s3: S3Client;
  const savedEnv = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
  beforeAll(async () => {
    minio = await startMinio();
    s3 = minio.client();
    process.env.AWS_ACCESS_KEY_ID = minio.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = minio.secretAccessKey;
    h = await startHarness({ s3: { endpoint: minio.endpoint, region: 'us-east-1', forcePathStyle: true } });
    for (const f of ['part-0000.parquet', 'part-0001.parquet']) {
      await s3.send(new PutObjectCommand({ Bucket: minio.bucket, Key: `exports/pq/${f}`, Body: readFileSync(join(dir, 'parts', f)) }));
    }
    await s3.send(new PutObjectCommand({ Bucket: minio.bucket, Key: 'exports/pq/_SUCCESS', Body: '', ContentLength: 0 }));
    await s3.send(new PutObjectCommand({ Bucket: minio.bucket, Key: 'exports/bad/x.parquet', Body: 'not parquet' }));
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

  it('reads an s3:// prefix of Parquet part files as one table', async () => {
    const read = sourceReader(h.config);
    const context = { model: 'pq-s3', step: 'pull' };
    const body = await read({ path: `s3://${minio.bucket}/exports/pq/`, format: 'parquet' }, 'data source', context);
    const table: Table = await readTable(body, 'parquet', 'prefix');
    expect(table.rows).toEqual(rowsFrom(0, N));
    const one = await read({ path: `s3://${minio.bucket}/exports/pq/part-0001.parquet` }, 'data source', context);
    expect((await readTable(one, 'parquet', 'one')).rows).toEqual(rowsFrom(120, N));
    // Without format a prefix reads as CSV: say what to write instead.
    await expect(read({ path: `s3://${minio.bucket}/exports/pq/` }, 'data source', context)).rejects.toThrow(
      `data source s3://${minio.bucket}/exports/pq/: the objects under it are Parquet files (exports/pq/part-0000.parquet…): add format: 'parquet' to the source`,
    );
    await expect(read({ path: `s3://${minio.bucket}/exports/bad/`, format: 'parquet' }, 'data source', context)).rejects.toThrow(
      `s3://${minio.bucket}/exports/bad/x.parquet is not a Parquet file`,
    );
  });

  it('retrains end to end from a local Parquet file with the trivial trainer', async () => {
    const pipeline = pipelineOn('pq-retrain', join(dir, 'churn.parquet'));
    const { handle } = await startRetrain(h.client, h.config, pipeline, { requestedBy: 'test' });
    const summary = await handle.result();
    expect(summary.outcome).toBe('promoted');
  });

  it('fails the run, without retrying, on a .parquet source that is not Parquet', async () => {
    const path = join(dir, 'run-not-parquet.parquet');
    writeFileSync(path, 'a,b\n1,2\n');
    const pipeline = pipelineOn('pq-not', path);
    const { handle } = await startRetrain(h.client, h.config, pipeline, { requestedBy: 'test' });
    const failure = await expectRunFailure(handle);
    expect(failure.application.type).toBe('InvalidInput');
    expect(failure.application.nonRetryable).toBe(true);
    expect(failure.application.message).toContain(`${path} is not a Parquet file`);
  });
});
