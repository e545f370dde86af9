import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startPostgres, type Postgres } from './helpers/postgres';

/** The test PostgreSQL server itself: a real server, password authentication, real errors. */
describe('test PostgreSQL server', () => {
  let server: Postgres;

  beforeAll(async () => {
    server = await startPostgres();
  });

  afterAll(async () => {
    await server?.stop();
  });

  const connect = async (url = server.url) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    return client;
  };

  it('stores rows and reads them back, in order and in pages', async () => {
    const client = await connect();
    try {
      const { rows: who } = await client.query<{ db: string; version: string }>(
        'SELECT current_database() AS db, current_setting($1) AS version',
        ['server_version_num'],
      );
      expect(who[0].db).toBe(server.database);
      expect(Number(who[0].version)).toBeGreaterThanOrEqual(170000);

      await client.query('CREATE TABLE readings (id int PRIMARY KEY, label text NOT NULL, value double precision, at timestamptz)');
      const values = Array.from({ length: 250 }, (_, i) => i);
      await client.query(
        `INSERT INTO readings (id, label, value, at)
         SELECT i, 'row-' || i, i * 0.5, timestamptz '2026-01-01 00:00:00+00' + i * interval '1 hour' FROM unnest($1::int[]) AS i`,
        [values],
      );

      const { rows } = await client.query<{ n: string; total: number }>('SELECT count(*) AS n, sum(value) AS total FROM readings');
      expect(rows[0]).toEqual({ n: '250', total: values.reduce((s, i) => s + i * 0.5, 0) });

      // A server-side cursor, read in pages of 100, as a source would.
      await client.query('BEGIN');
      await client.query('DECLARE c NO SCROLL CURSOR FOR SELECT id, label, value, at FROM readings ORDER BY id');
      const seen: { id: number; label: string; value: number; at: Date }[] = [];
      const pages: number[] = [];
      for (;;) {
        const page = await client.query<(typeof seen)[number]>('FETCH 100 FROM c');
        if (page.rows.length === 0) break;
        pages.push(page.rows.length);
        seen.push(...page.rows);
      }
      await client.query('COMMIT');
      expect(pages).toEqual([100, 100, 50]);
      expect(seen.map((r) => r.id)).toEqual(values);
      expect(seen[3]).toEqual({ id: 3, label: 'row-3', value: 1.5, at: new Date('2026-01-01T03:00:00Z') });
    } finally {
      await client.end();
    }
  });

  it('refuses a wrong password with the server’s error', async () => {
    const wrong = new URL(server.url);
    wrong.password = 'not-the-password';
    const client = new pg.Client({ connectionString: wrong.toString() });
    const err = await client.connect().then(
      () => undefined,
      (e: unknown) => e,
    );
    await client.end().catch(() => undefined);
    expect(err).toMatchObject({ code: '28P01', message: expect.stringContaining('password authentication failed') });
  });

  it('refuses an INSERT in a read-only transaction', async () => {
    const client = await connect();
    try {
      await client.query('CREATE TABLE IF NOT EXISTS guarded (id int)');
      await client.query('BEGIN READ ONLY');
      const err = await client.query('INSERT INTO guarded VALUES (1)').then(
        () => undefined,
        (e: unknown) => e,
      );
      await client.query('ROLLBACK');
      expect(err).toMatchObject({ code: '25006' });
      const { rows } = await client.query('SELECT count(*)::int AS n FROM guarded');
      expect(rows[0].n).toBe(0);
    } finally {
      await client.end();
    }
  });

  it('listens on loopback only, with password authentication', async () => {
    const client = await connect(server.adminUrl);
    try {
      const { rows } = await client.query<{ name: string; setting: string }>(
        `SELECT name, setting FROM pg_settings WHERE name IN ('listen_addresses', 'unix_socket_directories', 'password_encryption') ORDER BY name`,
      );
      expect(rows).toEqual([
        { name: 'listen_addresses', setting: '127.0.0.1' },
        { name: 'password_encryption', setting: 'scram-sha-256' },
        { name: 'unix_socket_directories', setting: '' },
      ]);
    } finally {
      await client.end();
    }
  });
});
