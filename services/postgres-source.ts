import { createWriteStream, type WriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { once } from 'node:events';
import pg from 'pg';
import { InvalidInputError, TransientError, type ErrorContext } from '../lib/errors';
import { postgresQueryProblem, type Pipeline, type PostgresSource } from '../lib/pipeline';
import { quote } from '../lib/table';

/** Rows fetched from the server-side cursor at a time. */
const FETCH_ROWS = 10_000;
const CONNECT_TIMEOUT_MS = 10_000;

/** The rows of a time window: `column` in [from, to) (from null: no lower bound); ISO-8601 instants. */
export interface SqlWindow {
  column: string;
  from: string | null;
  to: string;
}

/** The columns a pipeline needs from a source, to check them before reading every row. */
export type SourceColumns = Pick<Pipeline, 'features' | 'label'> & { idColumn?: string };

/** SQL type names of the common type OIDs (pg_type), and what kind of value each holds. */
const SQL_TYPES: Record<number, { name: string; kind: 'numeric' | 'text' | 'bool' | 'timestamp' | 'timestamptz' | 'date' }> = {
  20: { name: 'bigint', kind: 'numeric' },
  21: { name: 'smallint', kind: 'numeric' },
  23: { name: 'integer', kind: 'numeric' },
  700: { name: 'real', kind: 'numeric' },
  701: { name: 'double precision', kind: 'numeric' },
  1700: { name: 'numeric', kind: 'numeric' },
  25: { name: 'text', kind: 'text' },
  1043: { name: 'varchar', kind: 'text' },
  1042: { name: 'char', kind: 'text' },
  16: { name: 'boolean', kind: 'bool' },
  1114: { name: 'timestamp', kind: 'timestamp' },
  1184: { name: 'timestamptz', kind: 'timestamptz' },
  1082: { name: 'date', kind: 'date' },
};

/** Every value as the server's text: no JavaScript parsing, so numbers keep their exact digits. */
const TEXT_TYPES = { getTypeParser: () => (value: string) => value };

/**
 * Writes a PostgreSQL source as CSV to the file `out`: the query runs with its bound params in a
 * read-only transaction (a statement that writes is refused by the server), through a
 * server-side cursor fetched {@link FETCH_ROWS} rows at a time, each batch written before the
 * next is fetched, so memory holds one batch whatever the table's size. The header is the
 * result's column names; numbers are the server's decimal text, null is empty, booleans
 * true/false, timestamps ISO-8601 (UTC for timestamptz).
 *
 * With a `window`, the server returns only its rows: the query is wrapped as
 * `SELECT * FROM (query) WHERE column >= from AND column < to`. PostgreSQL keeps the order of a
 * sorted subquery under such a filter (SQL itself does not promise it; were it ever lost, the
 * snapshot hash would differ and the run would train a new version, never a wrong one).
 *
 * @throws InvalidInputError for what a retry cannot fix (variable unset, bad URL, wrong password,
 * missing table, no ORDER BY, no rows, a pipeline column missing or of the wrong SQL type);
 * TransientError when the server cannot be reached (retried). Nothing is left at `out` then.
 */
export async function fetchPostgresSource(
  source: PostgresSource,
  what: string,
  context: ErrorContext,
  out: string,
  columns?: SourceColumns,
  window?: SqlWindow,
): Promise<void> {
  const fail = (message: string) => new InvalidInputError(`${what}: ${message}`, context);
  const problem = postgresQueryProblem(source.query);
  if (problem) throw fail(`${problem} (query: ${shortQuery(source.query)})`);
  const url = process.env[source.urlEnv];
  if (!url) {
    throw fail(
      `environment variable ${source.urlEnv} is not set: set it, in the worker's environment, to the database URL (postgres://user:password@host:5432/database)`,
    );
  }
  let database: string;
  try {
    database = describeDatabase(url);
  } catch {
    throw fail(`${source.urlEnv} is not a PostgreSQL URL (expected postgres://user:password@host:5432/database)`);
  }
  const where = `database ${database} (from ${source.urlEnv})`;

  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, types: TEXT_TYPES });
  // A connection that breaks mid-read reports through the query that fails; keep the event quiet.
  client.on('error', () => {});
  let file: WriteStream | undefined;
  try {
    try {
      await client.connect();
    } catch (err) {
      throw classify(err, what, where, source, context);
    }
    try {
      await client.query('BEGIN TRANSACTION READ ONLY');
      await client.query("SET LOCAL TIME ZONE 'UTC'");
      await client.query("SET LOCAL DateStyle = 'ISO, YMD'");
      await client.query('SET LOCAL extra_float_digits = 1');
      const { text, values } = windowedQuery(source, window);
      await client.query({ text: `DECLARE retrain_source NO SCROLL CURSOR FOR ${text}`, values });
      file = createWriteStream(out);
      const failed = once(file, 'error').then(([err]) => Promise.reject(err as Error));
      failed.catch(() => {});
      let rows = 0;
      let render: ((row: unknown[]) => string) | undefined;
      for (;;) {
        const batch = await client.query({ text: `FETCH ${FETCH_ROWS} FROM retrain_source`, rowMode: 'array' });
        let chunk = '';
        if (!render) {
          render = rowRenderer(batch.fields, what, where, context, columns);
          chunk = batch.fields.map((f) => quote(f.name)).join(',') + '\n';
        }
        for (const row of batch.rows as unknown[][]) chunk += render(row);
        rows += batch.rows.length;
        if (!file.write(chunk)) await Promise.race([once(file, 'drain'), failed]);
        if (batch.rows.length < FETCH_ROWS) break;
      }
      await client.query('COMMIT');
      if (rows === 0) {
        const within = window ? ` in the window ${window.column} ${window.from ? `>= ${window.from} and ` : ''}< ${window.to}` : '';
        throw fail(`the query returned no rows${within} from ${where} (query: ${shortQuery(source.query)})`);
      }
      await Promise.race([new Promise<void>((done) => file!.end(done)), failed]);
    } catch (err) {
      throw classify(err, what, where, source, context, window);
    }
  } catch (err) {
    file?.destroy();
    await rm(out, { force: true });
    throw err;
  } finally {
    await client.end().catch(() => {});
  }
}

/** The source's query and params, wrapped in the window's filter when there is one. */
function windowedQuery(source: PostgresSource, window: SqlWindow | undefined): { text: string; values: unknown[] } {
  const query = source.query.trim().replace(/;\s*$/, '');
  const values: unknown[] = [...(source.params ?? [])];
  if (!window) return { text: query, values };
  const column = `"${window.column.replace(/"/g, '""')}"`;
  const conditions: string[] = [];
  if (window.from) {
    values.push(window.from);
    conditions.push(`${column} >= $${values.length}::timestamptz`);
  }
  values.push(window.to);
  conditions.push(`${column} < $${values.length}::timestamptz`);
  return { text: `SELECT * FROM (${query}\n) AS retrain_window WHERE ${conditions.join(' AND ')}`, values };
}

/** A check of the result's columns, then a function that writes one row as a CSV line. */
function rowRenderer(
  fields: pg.FieldDef[],
  what: string,
  where: string,
  context: ErrorContext,
  columns: SourceColumns | undefined,
): (row: unknown[]) => string {
  const names = fields.map((f) => f.name);
  const typeOf = (f: pg.FieldDef) => SQL_TYPES[f.dataTypeID];
  if (columns) {
    const wanted = [...columns.features.map((f) => f.name), columns.label, ...(columns.idColumn ? [columns.idColumn] : [])];
    const missing = wanted.filter((c) => !names.includes(c));
    if (missing.length) {
      throw new InvalidInputError(
        `${what}: the query's result from ${where} has no column${missing.length > 1 ? 's' : ''} ${missing.map((c) => `"${c}"`).join(', ')} (its columns: ${names.join(', ')}): select ${missing.length > 1 ? 'them' : 'it'}, or alias the column (AS ${missing[0]})`,
        context,
      );
    }
    for (const feature of columns.features) {
      if (feature.type !== 'numeric') continue;
      const field = fields.find((f) => f.name === feature.name)!;
      const type = typeOf(field);
      if (type && type.kind !== 'numeric') {
        throw new InvalidInputError(
          `${what}: numeric feature "${feature.name}" is SQL type ${type.name} in ${where}: cast it in the query (e.g. ${feature.name}::numeric AS ${feature.name}) or declare the feature categorical`,
          context,
        );
      }
    }
  }
  const renderers = fields.map((f): ((value: string) => string) => {
    switch (typeOf(f)?.kind) {
      case 'bool':
        return (v) => (v === 't' ? 'true' : v === 'f' ? 'false' : v);
      case 'timestamp':
        return (v) => v.replace(' ', 'T');
      case 'timestamptz':
        // The session is in UTC: "2026-01-02 03:04:05.678+00" is 2026-01-02T03:04:05.678Z.
        return (v) => v.replace(' ', 'T').replace(/\+00(?::00)?$/, 'Z');
      default:
        return quote;
    }
  });
  // A lone empty cell would be an empty line, which the CSV reader skips: write it as "".
  if (fields.length === 1) return (row) => (row[0] === null || row[0] === '' ? '""' : renderers[0]!(String(row[0]))) + '\n';
  return (row) => row.map((v, i) => (v === null ? '' : renderers[i]!(String(v)))).join(',') + '\n';
}

/** Turns a driver or server error into one a person can act on, and says whether a retry can help. */
function classify(err: unknown, what: string, where: string, source: PostgresSource, context: ErrorContext, window?: SqlWindow): Error {
  if (err instanceof InvalidInputError || err instanceof TransientError) return err;
  const e = err as { code?: string; message?: string; errors?: { code?: string }[] };
  const code = e.code ?? e.errors?.[0]?.code;
  const message = e.message || String(err);
  const bad = (text: string) => new InvalidInputError(`${what}: ${text}`, context);
  if (window && code === '42703' && message.includes(`"${window.column}"`)) {
    return bad(`the window's column "${window.column}" is not in the query's result from ${where}: select it (a timestamp column)`);
  }
  if (window && (code === '42883' || code === '42804') && /timestamp/i.test(message)) {
    return bad(
      `the window's column "${window.column}" is not a timestamp or date in ${where} (${message}): cast it in the query (${window.column}::timestamptz AS ${window.column})`,
    );
  }
  switch (code) {
    case '28P01':
    case '28000':
      return bad(
        `${where} refused the login (${message}): check the user and password in ${source.urlEnv}, and that the user may connect (pg_hba.conf)`,
      );
    case '3D000':
      return bad(`${where} does not exist (${message}): check the database name in ${source.urlEnv}`);
    case '42P01':
      return bad(
        `${message} in ${where}: check the table name in the query, and that it exists in this database and schema (query: ${shortQuery(source.query)})`,
      );
    case '42703':
    case '42601':
    case '42883':
    case '42804':
    case '0A000':
      return bad(`the query failed in ${where}: ${message} (query: ${shortQuery(source.query)})`);
    case '42501':
      return bad(`${message} in ${where}: grant the source's user SELECT on the tables the query reads`);
    case '25006':
      return bad(`${where} refused the query (${message}): a source is read in a read-only transaction, so the query may only read`);
    case '08P01':
    case '22023':
      return bad(`the query's parameters do not fit it in ${where}: ${message}`);
  }
  if (
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE'].includes(code ?? '') ||
    /^(08|53|57P0)/.test(code ?? '') ||
    ['40001', '40P01'].includes(code ?? '') ||
    /timeout|Connection terminated/i.test(message)
  ) {
    return new TransientError(`${what}: cannot read from ${where}: ${message || code}`, { cause: err });
  }
  return err instanceof Error ? err : new Error(message);
}

/** postgres://user@host:port/database: where a URL points, without its password. */
export function describeDatabase(url: string): string {
  const u = new URL(url);
  if (!/^postgres(ql)?:$/.test(u.protocol)) throw new Error('not a postgres URL');
  const user = u.username ? `${decodeURIComponent(u.username)}@` : '';
  return `postgres://${user}${u.host}${u.pathname}`;
}

function shortQuery(query: string): string {
  const q = query.replace(/\s+/g, ' ').trim();
  return `"${q.length > 120 ? `${q.slice(0, 117)}…` : q}"`;
}
