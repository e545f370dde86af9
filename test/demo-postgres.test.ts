import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTable } from '../lib/table';
import { readPointer, readVersion } from '../services/registry';
import { makeUserProject, runCli } from './helpers/cli-project';
import { REPO, startHarness, type Harness } from './helpers/harness';
import { startPostgres, type Postgres } from './helpers/postgres';

/*
 * `retrain demo` with a PostgreSQL database: the real CLI in a user's project without pipelines
 * of its own, on the shared dev server (the demo's own in-process worker polls this file's task
 * queues), against a real PostgreSQL (test/helpers/postgres.ts).
 */

let server: Postgres;
let admin: pg.Client;
let h: Harness;
let project: string;
/** Where the server reports itself in messages: the URL without its password. */
let where: string;

const demo = (args: string[], env: Record<string, string> = {}) => runCli(h, project, ['demo', ...args], env);

beforeAll(async () => {
  [server, h] = await Promise.all([startPostgres(), startHarness({ runWorkers: false })]);
  admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  project = makeUserProject('retrain-demo-pg-');
  where = `postgres://postgres@127.0.0.1:${server.port}/${server.database}`;
}, 120_000);

afterAll(async () => {
  await admin?.end();
  await server?.stop();
  await h?.close();
});

describe('retrain demo with a PostgreSQL database', () => {
  it('fills the table, trains and promotes churn-pg from it, then finds it unchanged as a read-only user', async () => {
    const first = await demo(['--database-url', server.url]);
    console.log(first.stdout);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`PostgreSQL: created table churn_customers in ${where}: 2000 rows from examples/data/churn.csv.`);
    expect(first.stdout).toContain('=== churn-pg (classification; PostgreSQL query (CHURN_DATABASE_URL) "SELECT customer_id');
    expect(first.stdout).toMatch(/^churn-pg: PROMOTED$/m);
    expect(first.stdout).not.toContain(server.password);

    // The champion was trained on the query's rows: the snapshot is the table, as CSV.
    const { pointer } = await readPointer(h.store, 'churn-pg');
    expect(pointer.champion).toMatch(/^v[0-9a-f]{12}$/);
    const version = await readVersion(h.store, 'churn-pg', pointer.champion!);
    const snapshot = parseTable((await h.store.get(version.lineage.datasetKey))!, 'csv', 'snapshot');
    expect(snapshot.columns).toEqual([
      'customer_id',
      'tenure_months',
      'monthly_spend',
      'support_tickets',
      'seats',
      'plan',
      'region',
      'churned',
    ]);
    expect(snapshot.rows).toHaveLength(2000);
    expect(version.lineage.rows.train + version.lineage.rows.holdout).toBe(2000);

    // SQL types, not text; labelled_at over the year before 2026-01-01, the same on every load.
    const types = await admin.query(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'churn_customers' ORDER BY ordinal_position`,
    );
    expect(Object.fromEntries(types.rows.map((r) => [r.column_name, r.data_type]))).toMatchObject({
      tenure_months: 'integer',
      monthly_spend: 'numeric',
      plan: 'text',
      churned: 'text',
      labelled_at: 'timestamp with time zone',
    });
    const span = await admin.query(`SELECT count(*)::int AS n, min(labelled_at) AS first, max(labelled_at) AS last FROM churn_customers`);
    expect(span.rows[0].n).toBe(2000);
    expect(span.rows[0].first.toISOString()).toBe('2025-01-01T00:00:00.000Z');
    expect(span.rows[0].last.getTime()).toBeLessThan(Date.parse('2026-01-01T00:00:00Z'));

    // churn.sql's read-only user, with a password of our own: it can read but never write.
    const password = randomBytes(12).toString('hex');
    const sql = readFileSync(join(REPO, 'examples/postgres/churn.sql'), 'utf8');
    expect(sql).toContain("PASSWORD 'change-me'");
    await admin.query(sql.replace("PASSWORD 'change-me'", `PASSWORD '${password}'`));
    const readerUrl = `postgres://retrain_reader:${password}@127.0.0.1:${server.port}/${server.database}`;
    await expectRefused(readerUrl, `INSERT INTO churn_customers VALUES ('c999999', 1, 1, 1, 1, 'pro', 'eu', 'no', now())`, '25006');
    await expectRefused(
      readerUrl,
      `BEGIN READ WRITE; INSERT INTO churn_customers VALUES ('c999999', 1, 1, 1, 1, 'pro', 'eu', 'no', now())`,
      '42501',
    );

    // Again, as that user and from the environment: nothing to load, nothing new to train.
    const second = await demo(['churn-pg'], { RETRAIN_DEMO_DATABASE_URL: readerUrl });
    console.log(second.stdout);
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(
      `PostgreSQL: table churn_customers in postgres://retrain_reader@127.0.0.1:${server.port}/${server.database} has 2000 rows; left as it is.`,
    );
    expect(second.stdout).toMatch(/^churn-pg: UNCHANGED$/m);
    expect(second.stdout).not.toContain(password);
    expect((await readPointer(h.store, 'churn-pg')).pointer.champion).toBe(pointer.champion);
  }, 300_000);

  it('refuses a URL that is not PostgreSQL, from the flag or the environment, without echoing it', async () => {
    const flag = await demo(['--database-url', 'mysql://me:hunter2@localhost/shop']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('--database-url: expected a PostgreSQL URL, postgres://user:password@host:5432/database');
    const env = await demo([], { RETRAIN_DEMO_DATABASE_URL: 'localhost:5432/shop' });
    expect(env.code).toBe(2);
    expect(env.stderr).toContain('RETRAIN_DEMO_DATABASE_URL: expected a PostgreSQL URL');
    for (const r of [flag, env]) expect(r.stderr).not.toContain('hunter2');
  });

  it('asks for a database when churn-pg is named without one', async () => {
    const r = await demo(['churn-pg']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('churn-pg reads churn from PostgreSQL: give the demo a database with --database-url');
  });

  it('says which database it cannot reach, without the password, before starting anything', async () => {
    const closed = new URL(server.url);
    closed.port = '1';
    const r = await demo(['--database-url', closed.toString()]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot prepare the demo table churn_customers in postgres://postgres@127.0.0.1:1/${server.database}`);
    expect(r.stderr).not.toContain(server.password);
    expect(r.stdout).not.toContain('Temporal');
  });
});

/** Runs `sql` as the user of `url` and expects PostgreSQL to refuse it with `code`. */
async function expectRefused(url: string, sql: string, code: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await expect(client.query(sql)).rejects.toMatchObject({ code });
  } finally {
    await client.end();
  }
}
