import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRetrain } from '../client/client';
import { sha256 } from '../lib/canonical-json';
import { InvalidInputError, TransientError } from '../lib/errors';
import { parsePipeline, type PipelineInput, type PostgresSource } from '../lib/pipeline';
import { readTable } from '../lib/table';
import { listAudit } from '../services/audit-log';
import { snapshotSource } from '../services/datasets';
import { sourceFetcher, sourceReader } from '../services/sources';
import { REPO, startHarness, testPipeline, TRIVIAL_PREDICT, TRIVIAL_TRAINER, type Harness } from './helpers/harness';
import { startPostgres, type Postgres } from './helpers/postgres';
import { tempDir } from './helpers/runs';

/*
 * PostgreSQL sources against a real PostgreSQL server (test/helpers/postgres.ts): the query's
 * rows become a CSV snapshot, and every way the source can be wrong is a clear error.
 */

const URL_ENV = 'RETRAIN_TEST_CHURN_DATABASE_URL';
const CHURN_CSV = join(REPO, 'examples/data/churn.csv');
const ALL = 'SELECT * FROM churn_labels ORDER BY customer_id';
const context = { model: 'pg-churn', step: 'pull' };
const what = 'data source of pipeline "pg-churn"';

let server: Postgres;
let admin: pg.Client;
const savedUrl = process.env[URL_ENV];

const source = (query = ALL, params?: PostgresSource['params'], urlEnv = URL_ENV): PostgresSource => ({
  kind: 'postgres',
  urlEnv,
  query,
  ...(params ? { params } : {}),
});
const read = (s: PostgresSource, columns = pipeline('pg-churn')) =>
  sourceReader({ projectDir: REPO, s3: undefined as never })(s, what, context, columns);

function pipeline(name: string, query = ALL) {
  return testPipeline({
    name,
    source: source(query),
    training: { command: TRIVIAL_TRAINER, predictCommand: TRIVIAL_PREDICT },
  });
}

/** The error a read fails with, printed so the messages show in the test output. */
async function failure(s: PostgresSource, columns = pipeline('pg-churn')): Promise<Error> {
  const err = await read(s, columns).then(
    () => new Error('the read succeeded'),
    (e: unknown) => e as Error,
  );
  console.log(`[${err.constructor.name}] ${err.message}`);
  return err;
}

beforeAll(async () => {
  server = await startPostgres();
  admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  await admin.query(`CREATE TABLE churn_labels (
    customer_id text PRIMARY KEY, tenure_months integer, monthly_spend double precision, support_tickets integer,
    seats integer, plan text, region text, churned text)`);
  const [, ...lines] = readFileSync(CHURN_CSV, 'utf8').trim().split('\n');
  const rows = lines.map((l) => l.split(',').map((v) => (v === '' ? null : v)));
  for (let i = 0; i < rows.length; i += 500) {
    const batch = rows.slice(i, i + 500);
    const values = batch.map((_, r) => `(${Array.from({ length: 8 }, (_, c) => `$${r * 8 + c + 1}`).join(',')})`);
    await admin.query(`INSERT INTO churn_labels VALUES ${values.join(',')}`, batch.flat());
  }
  await admin.query(`CREATE TABLE typed (id integer PRIMARY KEY, flag boolean, at timestamptz, local timestamp, day date,
    amount numeric(10,2), note text)`);
  await admin.query(`INSERT INTO typed VALUES
    (1, true, '2026-03-01 10:20:30.123456+02', '2026-03-01 10:20:30', '2026-03-01', 12.50, 'plain'),
    (2, false, '2026-03-02 00:00:00+00', '2026-03-02 00:00:00.5', '2026-03-02', -0.25, 'a "quoted", multi
line note'),
    (3, null, null, null, null, null, null)`);
  await admin.query('CREATE SEQUENCE churn_seq');
  process.env[URL_ENV] = server.url;
}, 60_000);

afterAll(async () => {
  if (savedUrl === undefined) delete process.env[URL_ENV];
  else process.env[URL_ENV] = savedUrl;
  await admin?.end();
  await server?.stop();
});

describe('PostgreSQL sources: schema', () => {
  const base = (src: unknown): unknown => ({ ...(testPipeline({ name: 'pg-schema' }) as PipelineInput), source: src });

  it('accepts a postgres source next to file sources, which parse as before', () => {
    const p = parsePipeline(base(source(ALL, ['x', 1, true, null])), 'pipelines/pg-schema.ts');
    expect(p.source).toEqual({ kind: 'postgres', urlEnv: URL_ENV, query: ALL, params: ['x', 1, true, null] });
    expect(parsePipeline(base({ path: 'data/churn.csv' }), 'p').source).toEqual({ path: 'data/churn.csv' });
  });

  it.each([
    [{ ...source(), urlEnv: 'postgres://u:p@h/db' }, 'source.urlEnv: expected the name of an environment variable'],
    [source('SELECT * FROM churn_labels'), 'source.query: the query needs an ORDER BY'],
    [source('SELECT * FROM (SELECT * FROM churn_labels ORDER BY customer_id) t'), 'source.query: the query needs an ORDER BY'],
    [source('DELETE FROM churn_labels'), 'source.query: expected a SELECT (or WITH … SELECT) query, not "DELETE"'],
    [source('SELECT 1 ORDER BY 1; DROP TABLE churn_labels'), 'source.query: expected one statement'],
    [source('  '), 'source.query: expected a SELECT query'],
    [{ ...source(), url: 'postgres://x' }, 'source: Unrecognized key: "url"'],
    [{ kind: 'mysql', query: ALL }, "source.kind: expected kind 'file' (or none) or 'postgres'"],
  ])('rejects %j', (src, message) => {
    let err: unknown;
    try {
      parsePipeline(base(src), 'pipelines/pg-schema.ts');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidInputError);
    console.log((err as Error).message);
    expect((err as Error).message).toContain(message);
  });

  it('keeps holdout and drift label sources to files', () => {
    expect(() => parsePipeline({ ...(base(source()) as object), holdout: { source: source() } }, 'p')).toThrow(/holdout/);
  });
});

describe('PostgreSQL sources: reading', () => {
  it('reads the query as the CSV the file gives, the same bytes every time', async () => {
    const body = await read(source());
    const again = await read(source());
    expect(sha256(again)).toBe(sha256(body));
    const fromPg = await readTable(body, 'csv', 'pg');
    const fromFile = await readTable(readFileSync(CHURN_CSV), 'csv', 'file');
    expect(fromPg.columns).toEqual(fromFile.columns);
    expect(fromPg.rows).toEqual(fromFile.rows);
  });

  it('binds params and renders SQL types as CSV text', async () => {
    const some = await read(source('SELECT * FROM churn_labels WHERE plan = $1 AND tenure_months > $2 ORDER BY customer_id', ['pro', 12]));
    const table = await readTable(some, 'csv', 'pg');
    expect(table.rows.length).toBeGreaterThan(10);
    expect(table.rows.every((r) => r[5] === 'pro' && Number(r[1]) > 12)).toBe(true);
    const typed = await sourceReader({ projectDir: REPO, s3: undefined as never })(
      source('SELECT * FROM typed ORDER BY id'),
      what,
      context,
    );
    expect(typed.toString()).toBe(
      'id,flag,at,local,day,amount,note\n' +
        '1,true,2026-03-01T08:20:30.123456Z,2026-03-01T10:20:30,2026-03-01,12.50,plain\n' +
        '2,false,2026-03-02T00:00:00Z,2026-03-02T00:00:00.5,2026-03-02,-0.25,"a ""quoted"", multi\nline note"\n' +
        '3,,,,,,\n',
    );
  });

  it('snapshots the rows as CSV, content-addressed', async () => {
    const h = await startHarness({ runWorkers: false });
    try {
      const p = pipeline('pg-snapshot');
      const first = await snapshotSource({ store: h.store, config: h.config }, p);
      const second = await snapshotSource({ store: h.store, config: h.config }, p);
      expect(first.format).toBe('csv');
      expect(first.key).toMatch(/\.csv$/);
      expect([first.created, second.created]).toEqual([true, false]);
      expect(second.sha256).toBe(first.sha256);
    } finally {
      await h.close();
    }
  });

  it('fails when the variable with the URL is not set', async () => {
    const err = await failure(source(ALL, undefined, 'RETRAIN_TEST_UNSET_DATABASE_URL'));
    expect(err).toBeInstanceOf(InvalidInputError);
    expect(err.message).toContain('environment variable RETRAIN_TEST_UNSET_DATABASE_URL is not set');
  });

  it('retries when the server cannot be reached', async () => {
    const closed = new URL(server.url);
    closed.port = '1';
    process.env.RETRAIN_TEST_CLOSED_DATABASE_URL = closed.toString();
    try {
      const err = await failure(source(ALL, undefined, 'RETRAIN_TEST_CLOSED_DATABASE_URL'));
      expect(err).toBeInstanceOf(TransientError);
      expect(err.message).toContain(`cannot read from database postgres://postgres@127.0.0.1:1/${server.database}`);
      expect(err.message).not.toContain(server.password);
    } finally {
      delete process.env.RETRAIN_TEST_CLOSED_DATABASE_URL;
    }
  });

  it('fails on a wrong password, naming the database without the password', async () => {
    const wrong = new URL(server.url);
    wrong.password = 'not-the-password';
    process.env.RETRAIN_TEST_WRONG_DATABASE_URL = wrong.toString();
    try {
      const err = await failure(source(ALL, undefined, 'RETRAIN_TEST_WRONG_DATABASE_URL'));
      expect(err).toBeInstanceOf(InvalidInputError);
      expect(err.message).toContain(`database postgres://postgres@127.0.0.1:${server.port}/${server.database}`);
      expect(err.message).toContain('check the user and password in RETRAIN_TEST_WRONG_DATABASE_URL');
      expect(err.message).not.toContain('not-the-password');
    } finally {
      delete process.env.RETRAIN_TEST_WRONG_DATABASE_URL;
    }
  });

  it('fails on a missing table', async () => {
    const err = await failure(source('SELECT * FROM churn_lables ORDER BY customer_id'));
    expect(err).toBeInstanceOf(InvalidInputError);
    expect(err.message).toContain('relation "churn_lables" does not exist');
    expect(err.message).toContain('check the table name');
  });

  it('fails a query without ORDER BY before sending it', async () => {
    const err = await failure(source('SELECT * FROM churn_labels'));
    expect(err).toBeInstanceOf(InvalidInputError);
    expect(err.message).toContain('needs an ORDER BY');
  });

  it('fails a query that returns no rows, naming it', async () => {
    const err = await failure(source('SELECT * FROM churn_labels WHERE plan = $1 ORDER BY customer_id', ['no-such-plan']));
    expect(err).toBeInstanceOf(InvalidInputError);
    expect(err.message).toContain('the query returned no rows');
    expect(err.message).toContain('WHERE plan = $1');
  });

  it('refuses statements that write: before sending, and in the server by the read-only transaction', async () => {
    const before = await failure(source('UPDATE churn_labels SET churned = $1', ['no']));
    expect(before).toBeInstanceOf(InvalidInputError);
    expect(before.message).toContain('expected a SELECT');
    // A data-modifying WITH passes the check, and PostgreSQL refuses it in a cursor.
    const cte = await failure(source('WITH gone AS (DELETE FROM churn_labels RETURNING *) SELECT * FROM gone ORDER BY customer_id'));
    expect(cte).toBeInstanceOf(InvalidInputError);
    expect(cte.message).toContain('DECLARE CURSOR must not contain data-modifying statements in WITH');
    // A SELECT that writes (a sequence, a function) meets the read-only transaction.
    const server = await failure(source("SELECT nextval('churn_seq') AS n, * FROM churn_labels ORDER BY customer_id"));
    expect(server).toBeInstanceOf(InvalidInputError);
    expect(server.message).toContain('cannot execute nextval() in a read-only transaction');
    expect(server.message).toContain('a source is read in a read-only transaction');
    expect((await admin.query('SELECT count(*)::int AS n FROM churn_labels')).rows[0].n).toBe(2000);
  });

  it("fails when a pipeline column is missing from the result, listing the result's columns", async () => {
    const err = await failure(source('SELECT customer_id, tenure_months, plan, churned FROM churn_labels ORDER BY customer_id'));
    expect(err).toBeInstanceOf(InvalidInputError);
    expect(err.message).toContain('has no columns "monthly_spend", "support_tickets"');
    expect(err.message).toContain('(its columns: customer_id, tenure_months, plan, churned)');
  });

  it('fails a numeric feature of a text SQL type, naming the column and type', async () => {
    const err = await failure(
      source(
        'SELECT customer_id, tenure_months::text AS tenure_months, monthly_spend, support_tickets, plan, churned FROM churn_labels ORDER BY customer_id',
      ),
    );
    expect(err).toBeInstanceOf(InvalidInputError);
    expect(err.message).toContain('numeric feature "tenure_months" is SQL type text');
  });
});

describe('retraining from a PostgreSQL source', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('promotes, finds the same rows unchanged, and trains a new version on a new row', async () => {
    const p = pipeline('pg-retrain');
    const run = async () => (await startRetrain(h.client, h.config, p, { requestedBy: 'test' })).handle.result();
    const first = await run();
    expect(first.outcome).toBe('promoted');
    const second = await run();
    expect(second.outcome).toBe('unchanged');
    await admin.query(`INSERT INTO churn_labels VALUES ('c009999', 12, 55.5, 2, 3, 'pro', 'eu', 'no')`);
    const third = await run();
    expect(third.outcome).toBe('promoted');
    expect(third.version).not.toBe(first.version);
    console.log(`runs: ${first.outcome} ${first.version}, ${second.outcome}, ${third.outcome} ${third.version}`);
  }, 180_000);
});

describe('retraining from a PostgreSQL source with a time window', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
    // The churn rows, labelled one an hour from 2025-01-01: 2,000 rows reach into 2025-03-25.
    await admin.query(
      `CREATE TABLE churn_timed AS SELECT *, timestamptz '2025-01-01' + (row_number() OVER (ORDER BY customer_id) - 1) * interval '1 hour' AS labelled_at FROM churn_labels WHERE customer_id <> 'c009999'`,
    );
  });
  afterAll(async () => {
    await h?.close();
  });

  const timed = (name: string, last?: string) =>
    testPipeline({
      name,
      source: { ...source('SELECT * FROM churn_timed ORDER BY customer_id'), window: { column: 'labelled_at', ...(last ? { last } : {}) } },
      training: { command: TRIVIAL_TRAINER, predictCommand: TRIVIAL_PREDICT },
    });

  it('reads only the rows before asOf (and after asOf - last), in the server', async () => {
    const out = join(tempDir('pg-window'), 'window.csv');
    await sourceFetcher({ projectDir: REPO, s3: undefined as never })(timed('pg-window').source, what, context, out, {
      window: { column: 'labelled_at', from: '2025-01-02T00:00:00.000Z', to: '2025-01-03T00:00:00.000Z' },
    });
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(25);
    expect(lines[1]).toMatch(/,2025-01-02T00:00:00Z$/);
    expect(lines[24]).toMatch(/,2025-01-02T23:00:00Z$/);
  });

  it('a backfill with --as-of gives the earlier snapshot again; new rows after it make a new version', async () => {
    const p = timed('pg-backfill');
    const run = async (asOf?: string) =>
      (await startRetrain(h.client, h.config, p, { requestedBy: 'test', ...(asOf ? { asOf } : {}) })).handle.result();
    const march = await run('2025-03-01');
    expect(march.outcome).toBe('promoted');
    expect(march.snapshot?.rows).toBe(59 * 24);
    const now = await run();
    expect(now.outcome).toBe('promoted');
    expect(now.version).not.toBe(march.version);
    expect(now.snapshot?.sha256).not.toBe(march.snapshot?.sha256);
    const again = await run('2025-03-01');
    expect(again.snapshot?.sha256).toBe(march.snapshot?.sha256);
    expect(again.version).toBe(march.version);
    expect(again.asOf).toBe('2025-03-01T00:00:00.000Z');
    // The snapshot's audit event says what the rows came from: the query, its params and the window.
    const pulls = (await listAudit(h.store, 'pg-backfill')).filter((e) => e.type === 'snapshot');
    expect(pulls[0]!.details).toMatchObject({
      query: 'SELECT * FROM churn_timed ORDER BY customer_id',
      params: [],
      urlEnv: URL_ENV,
      asOf: '2025-03-01T00:00:00.000Z',
      window: { column: 'labelled_at', from: null, to: '2025-03-01T00:00:00.000Z' },
    });
    console.log(
      `as of 2025-03-01: ${march.outcome} ${march.version} (${march.snapshot?.rows} rows, ${march.snapshot?.sha256.slice(0, 12)}); ` +
        `as of now: ${now.outcome} ${now.version}; as of 2025-03-01 again: ${again.outcome} ${again.version} (${again.snapshot?.sha256.slice(0, 12)})`,
    );
  }, 240_000);

  it("fails a window whose column is not in the query's result, naming it", async () => {
    const p = testPipeline({
      name: 'pg-window-missing',
      source: { ...source(), window: { column: 'labelled_at' } },
      training: { command: TRIVIAL_TRAINER, predictCommand: TRIVIAL_PREDICT },
    });
    const err = await snapshotSource({ store: h.store, config: h.config }, p, { asOf: '2025-03-01' }).then(
      () => new Error('the snapshot succeeded'),
      (e: unknown) => e as Error,
    );
    console.log(`[${err.constructor.name}] ${err.message}`);
    expect(err).toBeInstanceOf(InvalidInputError);
    expect(err.message).toMatch(/the window's column "labelled_at" is not in the query's result/);
  });
});
