/**
 * Parquet sources read into the same {@link Table} CSV and JSON lines give (text cells, `null`
 * for missing), so validation, split and the rest work unchanged. Pure: bytes in, table out;
 * hyparquet reads from memory. Numbers are written in their shortest exact decimal form,
 * strings and categories (dictionary-encoded strings) stay as they are, nulls (and NaN, which
 * pandas uses for a missing float) are missing values.
 */
import { parquetMetadata, parquetMetadataAsync, parquetRead, parquetSchema, type AsyncBuffer } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { InvalidInputError } from './errors';
import { isParquetFile, PARQUET_PARTS, splitParquetParts } from './source-parts';
import type { RowBatch } from './row-batch';
import { assertUniqueColumns } from './columns';

/** The {@link import('./table').Table} lib/table.ts parses into (not imported: table.ts imports this module). */
interface Table {
  columns: string[];
  rows: (string | null)[][];
}

/**
 * Parses a Parquet file, or the parts of a multi-object Parquet source (see
 * {@link joinParts}), into a Table. Parts must have the same columns in the same order.
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
export function parquetCell(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value === '' ? null : value;
  if (typeof value === 'number') return Number.isNaN(value) ? null : String(value);
  if (typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

/**
 * Reads a Parquet file, or the framed parts of a multi-object Parquet source, as row batches of
 * one row group each, fetching byte ranges from `file` (a file on disk, or bytes in memory), so
 * memory holds one row group, not the dataset. Parts must have the same columns in the same order.
 * @throws InvalidInputError naming `source` when the bytes are not readable Parquet.
 */
export async function* parquetRowBatches(file: AsyncBuffer, source: string): AsyncGenerator<RowBatch> {
  for await (const slice of parquetSlices(file, source)) {
    const { columns, cursors } = slice;
    if (slice.end === slice.start) yield { columns, rows: [] };
    for (let start = slice.start; start < slice.end; start += ROWS_PER_BATCH) {
      const end = Math.min(slice.end, start + ROWS_PER_BATCH);
      const rows: (string | null)[][] = [];
      for (let r = start; r < end; r++) rows.push(cursors.map((at) => parquetCell(at(r))));
      yield { columns, rows };
    }
  }
}

/**
 * Rows `start` to `end` (absolute, end excluded) of a Parquet source, decoded column by column:
 * `cursors[c](row)` is column c's value at a row of the slice, as hyparquet decodes it (a number,
 * bigint, string, boolean, Date, bytes or null). A source without rows gives one empty slice.
 */
export interface ParquetSlice {
  columns: string[];
  start: number;
  end: number;
  cursors: ((row: number) => unknown)[];
}

/**
 * A Parquet source as slices of decoded columns (see {@link ParquetSlice}): a row group is read
 * a slice of rows at a time, so memory holds one slice's columns.
 * @throws InvalidInputError naming `source` when the bytes are not readable Parquet.
 */
export async function* parquetSlices(file: AsyncBuffer, source: string): AsyncGenerator<ParquetSlice> {
  let columns: string[] | undefined;
  let yielded = false;
  const parts = await framedParts(file, source);
  for (let p = 0; p < parts.length; p++) {
    const part = parts[p]!;
    const what = parts.length > 1 ? `${source} (part ${p + 1} of ${parts.length})` : source;
    const bad = (message: string) => new InvalidInputError(`${what}: ${message}`, { step: 'validate' });
    const ends = part.byteLength >= 12 ? [await part.slice(0, 4), await part.slice(part.byteLength - 4)] : [];
    if (ends.length === 0 || ends.some((b) => Buffer.from(b).toString('latin1') !== 'PAR1')) {
      throw bad('not a Parquet file (a Parquet file starts and ends with "PAR1")');
    }
    let metadata;
    try {
      metadata = await parquetMetadataAsync(part);
    } catch (err) {
      throw bad(`not a readable Parquet file: ${(err as Error).message}`);
    }
    const names = parquetSchema(metadata).children.map((c) => c.element.name);
    assertUniqueColumns(names, what, 'Parquet schema');
    if (!columns) columns = names;
    else if (names.join('\u0000') !== columns.join('\u0000')) {
      throw bad(
        `has columns ${JSON.stringify(names)}, but part 1 has ${JSON.stringify(columns)}: every part of a source needs the same columns in the same order`,
      );
    }
    let rowStart = 0;
    for (const group of metadata.row_groups) {
      const groupEnd = rowStart + Number(group.num_rows);
      // A row group is read a slice of rows at a time (hyparquet skips the pages before a slice
      // without decoding them), columns first: memory holds one slice's decoded columns, not a
      // group of a million rows.
      for (let sliceStart = rowStart; sliceStart < groupEnd; sliceStart += ROWS_PER_SLICE) {
        const sliceEnd = Math.min(groupEnd, sliceStart + ROWS_PER_SLICE);
        const chunks = new Map<string, { rowStart: number; data: ArrayLike<unknown> }[]>();
        try {
          await parquetRead({
            file: part,
            metadata,
            rowStart: sliceStart,
            rowEnd: sliceEnd,
            compressors,
            onChunk: (chunk) => {
              const list = chunks.get(chunk.columnName) ?? [];
              list.push({ rowStart: chunk.rowStart, data: chunk.columnData as ArrayLike<unknown> });
              chunks.set(chunk.columnName, list);
            },
          });
        } catch (err) {
          throw bad(`not a readable Parquet file: ${(err as Error).message}`);
        }
        yielded = true;
        yield { columns, start: sliceStart, end: sliceEnd, cursors: names.map((name) => columnCursor(chunks.get(name) ?? [])) };
      }
      rowStart = groupEnd;
    }
  }
  // Files without row groups still say which columns they have.
  if (!yielded) yield { columns: columns ?? [], start: 0, end: 0, cursors: [] };
}

/** Rows of a row group decoded at a time. */
const ROWS_PER_SLICE = 65_536;
/** Rows turned into text cells at a time (the rest of the slice stays columnar). */
const ROWS_PER_BATCH = 1024;

/** A column's value at a row (absolute row index), from its decoded chunks in order; undefined past them. */
function columnCursor(chunks: { rowStart: number; data: ArrayLike<unknown> }[]): (row: number) => unknown {
  chunks.sort((a, b) => a.rowStart - b.rowStart);
  let k = 0;
  return (row) => {
    while (k < chunks.length && row >= chunks[k]!.rowStart + chunks[k]!.data.length) k++;
    const chunk = chunks[k];
    return chunk && row >= chunk.rowStart ? chunk.data[row - chunk.rowStart] : undefined;
  };
}

/** The parts of framed Parquet bytes (see {@link joinParts}), or the file itself. */
async function framedParts(file: AsyncBuffer, source: string): Promise<AsyncBuffer[]> {
  const head = Buffer.from(await file.slice(0, Math.min(file.byteLength, PARQUET_PARTS.length)));
  if (head.toString('latin1') !== PARQUET_PARTS) return [file];
  const parts: AsyncBuffer[] = [];
  let at = PARQUET_PARTS.length;
  while (at < file.byteLength) {
    const line = Buffer.from(await file.slice(at, Math.min(file.byteLength, at + 24)));
    const nl = line.indexOf(0x0a);
    const length = nl < 0 ? NaN : Number(line.toString('latin1', 0, nl));
    const start = at + nl + 1;
    if (!Number.isSafeInteger(length) || length < 0 || start + length > file.byteLength) {
      throw new InvalidInputError(`${source}: multi-part Parquet bytes are cut short or damaged at byte ${at}`, { step: 'validate' });
    }
    parts.push(rangeOf(file, start, length));
    at = start + length;
  }
  return parts;
}

/** A window of `length` bytes of `file`, from `start`. */
function rangeOf(file: AsyncBuffer, start: number, length: number): AsyncBuffer {
  return {
    byteLength: length,
    slice: (from, to) => file.slice(start + from, start + (to ?? length)),
  };
}

/** Bytes in memory as an AsyncBuffer (the in-memory callers: `retrain validate`, tests). */
export function memoryAsyncBuffer(body: Uint8Array): AsyncBuffer {
  return {
    byteLength: body.byteLength,
    slice: (from, to) => {
      const view = body.subarray(from, to ?? body.byteLength);
      return view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength) as ArrayBuffer;
    },
  };
}
