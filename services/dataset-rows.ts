import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asyncBufferFromFile } from 'hyparquet';
import { CsvColumnReader, type CellSink } from '../lib/csv-column-reader';
import { InvalidInputError } from '../lib/errors';
import { memoryAsyncBuffer, parquetRowBatches, parquetSlices, type ParquetSlice } from '../lib/parquet-table';
import { parseTable, type TableFormat, type TextEncoding } from '../lib/table';
import { textRowBatches, type RowBatch } from '../lib/table-stream';
import type { DatasetSnapshot } from '../shared/results';
import type { Store } from '../store/store';

/**
 * Bytes read from disk at a time, so rows per batch (about 200 of a 20-column CSV). Small on
 * purpose: a batch's rows are alive until it is done, and batches that outlive V8's young
 * generation get promoted and collected the slow way. 32 KiB validated 1e6 rows in a fifth of
 * the time 1 MiB took, with half the peak memory (bench/README.md, bench:data).
 */
const CHUNK = 1 << 15;
/**
 * Bytes read from disk at a time, handed on in pieces of {@link CHUNK}: each read is a round trip
 * to libuv's thread pool, and at 32 KiB those round trips were a tenth of a validation's time.
 */
const READ = 1 << 20;

/** The chunks of a stream cut into views of at most {@link CHUNK} bytes (no copies). */
async function* slices(stream: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  for await (const chunk of stream) for (let at = 0; at < chunk.length; at += CHUNK) yield chunk.subarray(at, at + CHUNK);
}

/**
 * Up to this size, data that is not UTF-8 is read once more, whole, to name the row and column
 * of the bad byte (streaming names its line only).
 */
const DETAILED_ERRORS_UP_TO = 64 << 20;

/** Data to read as rows: a file on disk, or bytes in memory (small data: `retrain validate`, tests). */
export type RowInput = { path: string } | { body: Buffer };

/**
 * The rows of CSV, JSON-lines or Parquet data, in batches (see {@link RowBatch}), with memory for
 * one batch.
 * @throws InvalidInputError naming `what` when the data cannot be read.
 */
export async function* rowBatches(input: RowInput, format: TableFormat, what: string, encoding?: TextEncoding): AsyncGenerator<RowBatch> {
  if (format === 'parquet') {
    yield* parquetRowBatches('path' in input ? await asyncBufferFromFile(input.path) : memoryAsyncBuffer(input.body), what);
    return;
  }
  const chunks = 'path' in input ? slices(createReadStream(input.path, { highWaterMark: READ })) : [input.body];
  try {
    yield* textRowBatches(chunks, format, what, encoding);
  } catch (err) {
    await rethrowDetailed(err, input, format, what, encoding);
  }
}

/** A Parquet file or bytes as slices of decoded columns (see lib/parquet-table.ts parquetSlices). */
export async function* parquetSlicesOf(input: RowInput, what: string): AsyncGenerator<ParquetSlice> {
  yield* parquetSlices('path' in input ? await asyncBufferFromFile(input.path) : memoryAsyncBuffer(input.body), what);
}

/** What {@link readCsvCells} calls around each chunk of bytes it reads. */
export interface CsvChunkHooks {
  /** Before a chunk's records are read (to hash the bytes or report progress, say). */
  onChunk?: (chunk: Buffer) => void;
  /** After a chunk's records are read (to write what the sink made, say), and once at the end. */
  afterChunk?: () => Promise<void>;
}

/**
 * Reads UTF-8 CSV cell by cell into the sink `onHeader` returns for its header (see
 * lib/csv-column-reader.ts: no row arrays, numbers read from bytes); returns the header's columns
 * (null for empty data) and the rows read. Errors are {@link rowBatches}' errors.
 */
export async function readCsvCells(
  input: RowInput,
  what: string,
  onHeader: (columns: string[]) => CellSink,
  hooks: CsvChunkHooks = {},
): Promise<{ columns: string[] | null; rows: number }> {
  const reader = new CsvColumnReader(what, onHeader);
  try {
    const chunks = 'path' in input ? (createReadStream(input.path, { highWaterMark: READ }) as AsyncIterable<Buffer>) : [input.body];
    for await (const chunk of chunks) {
      hooks.onChunk?.(chunk);
      reader.push(chunk);
      await hooks.afterChunk?.();
    }
    reader.end();
    await hooks.afterChunk?.();
  } catch (err) {
    await rethrowDetailed(err, input, 'csv', what, 'utf-8');
  }
  return { columns: reader.columns, rows: reader.rows };
}

/**
 * Throws `err`; when it is about bytes that are not UTF-8 (streaming names their line only), data
 * small enough is read once more, whole, and the error of the in-memory reader, which names the
 * row and column, is thrown instead.
 */
async function rethrowDetailed(
  err: unknown,
  input: RowInput,
  format: 'csv' | 'jsonl',
  what: string,
  encoding?: TextEncoding,
): Promise<never> {
  if (!(err instanceof InvalidInputError) || !/not valid UTF-8/.test(err.message)) throw err;
  const body = 'path' in input ? ((await stat(input.path)).size <= DETAILED_ERRORS_UP_TO ? await readFile(input.path) : null) : input.body;
  if (body) parseTable(body, format, what, encoding);
  throw err;
}

/**
 * Runs `use` on a local file of a snapshot: the store's own file when it keeps one on this
 * machine (snapshots are content-addressed, never rewritten: read in place), else a copy
 * downloaded from the store and removed afterwards.
 */
export async function withSnapshotFile<T>(store: Store, snapshot: DatasetSnapshot, use: (path: string) => Promise<T>): Promise<T> {
  const inPlace = store.localFile ? await store.localFile(snapshot.key) : null;
  if (inPlace) return use(inPlace);
  const work = await mkdtemp(join(tmpdir(), 'retrain-snapshot-'));
  try {
    const path = join(work, `snapshot.${snapshot.format}`);
    try {
      await store.download(snapshot.key, path);
    } catch (err) {
      if (!(await store.exists(snapshot.key))) throw new Error(`snapshot ${snapshot.key} is missing from the store (${store.location})`);
      throw err;
    }
    return await use(path);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
