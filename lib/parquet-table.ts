/**
 * Parquet sources read into the same {@link Table} CSV and JSON lines give (text cells, `null`
 * for missing), so validation, split and the rest work unchanged. Pure: bytes in, table out;
 * hyparquet reads from memory. Numbers are written in their shortest exact decimal form,
 * strings and categories (dictionary-encoded strings) stay as they are, nulls (and NaN, which
 * pandas uses for a missing float) are missing values.
 */
import { parquetMetadata, parquetRead, parquetSchema } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { InvalidInputError } from './errors';
import { isParquetFile, splitParquetParts } from './source-parts';
import { assertUniqueColumns } from './columns';

/** The {@link import('./table').Table} lib/table.ts parses into (not imported: table.ts imports this module). */
interface Table {
  columns: string[];
  rows: (string | null)[][];
}

/**
 * Parses a Parquet file, or the parts of a multi-object Parquet source (see
 * {@link combineParts}), into a Table. Parts must have the same columns in the same order.
 * @throws InvalidInputError naming `source` when the bytes are not readable Parquet.
 */
export async function parseParquet(body: Uint8Array, source: string): Promise<Table> {
  let parts: Uint8Array[] | null;
  try {
    parts = splitParquetParts(body);
  } catch (err) {
    throw new InvalidInputError(`${source}: ${(err as Error).message}`, { step: 'validate' });
  }
  if (!parts) return parseParquetFile(body, source);
  let table: Table | undefined;
  for (let i = 0; i < parts.length; i++) {
    const what = `${source} (part ${i + 1} of ${parts.length})`;
    const part = await parseParquetFile(parts[i]!, what);
    if (!table) table = part;
    else if (part.columns.join('\u0000') !== table.columns.join('\u0000')) {
      throw new InvalidInputError(
        `${what} has columns ${JSON.stringify(part.columns)}, but part 1 has ${JSON.stringify(table.columns)}: every part of a source needs the same columns in the same order`,
        { step: 'validate' },
      );
    } else for (const row of part.rows) table.rows.push(row);
  }
  return table ?? { columns: [], rows: [] };
}

async function parseParquetFile(body: Uint8Array, source: string): Promise<Table> {
  if (!isParquetFile(body)) {
    throw new InvalidInputError(`${source}: not a Parquet file (a Parquet file starts and ends with "PAR1")`, { step: 'validate' });
  }
  // hyparquet reads an ArrayBuffer; copy only when the bytes are a view into a larger one.
  const file =
    body.byteOffset === 0 && body.byteLength === body.buffer.byteLength
      ? (body.buffer as ArrayBuffer)
      : (body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer);
  try {
    const metadata = parquetMetadata(file);
    const columns = parquetSchema(metadata).children.map((c) => c.element.name);
    assertUniqueColumns(columns, source, 'Parquet schema');
    let rows: unknown[][] = [];
    await parquetRead({
      file,
      metadata,
      // Warehouses and Spark write zstd, gzip, brotli or lz4 as often as snappy (hyparquet alone reads snappy).
      compressors,
      rowFormat: 'array',
      onComplete: (r: unknown[][]) => {
        rows = r;
      },
    });
    return { columns, rows: rows.map((r) => columns.map((_, i) => parquetCell(r[i]))) };
  } catch (err) {
    if (err instanceof InvalidInputError) throw err;
    throw new InvalidInputError(`${source}: not a readable Parquet file: ${(err as Error).message}`, { step: 'validate' });
  }
}

/** A Parquet value as a cell: the text CSV would hold for it; null for missing. */
function parquetCell(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value === '' ? null : value;
  if (typeof value === 'number') return Number.isNaN(value) ? null : String(value);
  if (typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}
