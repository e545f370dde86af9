/**
 * Puts the churn example data into PostgreSQL for `retrain demo --database-url`: creates
 * churn_customers (the CREATE TABLE of churn.sql) when it is absent, and loads
 * examples/data/churn.csv into it when it is empty. A table that has rows is left as it is, so
 * running the demo again reads the same rows (and trains nothing new); with a table that
 * exists and has rows, a read-only user is enough.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { parseTable } from '../../lib/table';

export const CHURN_TABLE = 'churn_customers';
const SQL_FILE = fileURLToPath(new URL('./churn.sql', import.meta.url));
const CSV_FILE = fileURLToPath(new URL('../data/churn.csv', import.meta.url));
/** Rows per INSERT: 9 parameters each, far below PostgreSQL's 65,535 per statement. */
const BATCH_ROWS = 500;
const CONNECT_TIMEOUT_MS = 10_000;
/** labelled_at runs over the year before this fixed moment, so every load writes the same rows. */
const LABELS_END_MS = Date.parse('2026-01-01T00:00:00Z');
const YEAR_MS = 365 * 24 * 3_600_000;

/** What {@link loadChurnTable} found and did. */
export interface ChurnTableLoad {
  /** The table was absent and has been created. */
  created: boolean;
  /** Rows inserted now (0 when the table already had rows). */
  loaded: number;
  /** Rows in the table afterwards. */
  rows: number;
}

/** Creates churn_customers if absent and fills it from churn.csv if empty; one transaction. */
export async function loadChurnTable(url: string): Promise<ChurnTableLoad> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  client.on('error', () => {}); // a broken connection reports through the query that fails
  await client.connect();
  try {
    await client.query('BEGIN');
    // Looked up first: CREATE TABLE IF NOT EXISTS is refused in a read-only session even when the table exists.
    const found = await client.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [CHURN_TABLE]);
    const created = found.rows[0]!.t === null;
    if (created) await client.query(createTableStatement());
    const before = await countRows(client);
    const loaded = before === 0 ? await insertCsv(client) : 0;
    await client.query('COMMIT');
    return { created, loaded, rows: before + loaded };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    await client.end().catch(() => {});
  }
}

/** The CREATE TABLE of churn.sql: one definition of the table for people and for the demo. */
function createTableStatement(): string {
  const sql = readFileSync(SQL_FILE, 'utf8');
  const statement = new RegExp(`CREATE TABLE IF NOT EXISTS ${CHURN_TABLE} \\([\\s\\S]*?\\n\\);`).exec(sql)?.[0];
  if (!statement) throw new Error(`${SQL_FILE} has no "CREATE TABLE IF NOT EXISTS ${CHURN_TABLE} (…);" statement`);
  return statement;
}

async function countRows(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${CHURN_TABLE}`);
  return rows[0]!.n;
}

/** Inserts every row of churn.csv, each with a labelled_at spread evenly over the year before LABELS_END. */
async function insertCsv(client: pg.Client): Promise<number> {
  const table = parseTable(readFileSync(CSV_FILE), 'csv', CSV_FILE);
  const columns = [...table.columns, 'labelled_at'];
  const n = table.rows.length;
  const labelledAt = (i: number) => new Date(LABELS_END_MS - Math.round(((n - i) * YEAR_MS) / n / 1000) * 1000).toISOString();
  let inserted = 0;
  for (let start = 0; start < n; start += BATCH_ROWS) {
    const batch = table.rows.slice(start, start + BATCH_ROWS).map((row, j) => [...row, labelledAt(start + j)]);
    const values = batch.map((_, r) => `(${columns.map((_, c) => `$${r * columns.length + c + 1}`).join(', ')})`);
    const result = await client.query(
      `INSERT INTO ${CHURN_TABLE} (${columns.join(', ')}) VALUES ${values.join(', ')} ON CONFLICT (customer_id) DO NOTHING`,
      batch.flat(),
    );
    inserted += result.rowCount ?? 0;
  }
  return inserted;
}
