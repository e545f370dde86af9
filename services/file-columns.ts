/**
 * A data file read into typed columns for `retrain drift-report`: one {@link ColumnCollector} per
 * column, filled as the file streams by, so memory holds typed columns (or, with file storage,
 * one block per column), never the file as text. CSV is read byte by byte into the columns
 * (lib/csv-column-reader.ts: no string per number, one per distinct category, no array per row); JSON lines and Parquet go
 * through the row batches every dataset step reads.
 */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import type { ColumnStorage } from '../lib/column-storage';
import type { CellSink } from '../lib/csv-column-reader';
import { ColumnCollector } from '../lib/drift/column-collector';
import { InvalidInputError } from '../lib/errors';
import type { FeatureKind } from '../lib/feature-kind';
import { sourceFormat } from '../lib/pipeline';
import type { TableFormat } from '../lib/table';
import { cellText } from '../lib/byte-dictionary';
import { readCsvCells, rowBatches } from './dataset-rows';
import { sha256File } from './datasets';

/** A data file read into one collector per kept column, with its row count and hash. */
export interface FileColumns {
  path: string;
  format: TableFormat;
  /** Every column of the file, in order. */
  columns: string[];
  rows: number;
  sha256: string;
  collectors: Map<string, ColumnCollector>;
}

/** What {@link readFileColumns} reads and how. */
export interface ReadFileColumnsOptions {
  /** How the file is named in errors (`--reference ref.csv`). */
  what: string;
  /**
   * The kind of each column to keep (a current file, by its reference); null keeps every column
   * and infers its kind.
   */
  kinds: Map<string, FeatureKind> | null;
  storage: ColumnStorage;
  /** Called every so often with the bytes read so far, for progress output. */
  onProgress?: (bytesRead: number, size: number) => void;
}

/**
 * Reads a file into columns.
 * @throws InvalidInputError for a missing file, a directory, an empty file or one without rows, and
 *   for data that is not valid CSV/JSON lines/Parquet or not UTF-8.
 */
export async function readFileColumns(path: string, opts: ReadFileColumnsOptions): Promise<FileColumns> {
  const size = await fileSize(path, opts.what);
  const format = sourceFormat({ path });
  const read = format === 'csv' ? await readCsv(path, size, opts) : await readRows(path, format, opts);
  if (read.columns.length === 0) throw new InvalidInputError(`${opts.what} is empty: expected a header row and data`, { step: 'cli' });
  if (read.rows === 0) throw new InvalidInputError(`${opts.what} has a header but no rows`, { step: 'cli' });
  return { path, format, ...read };
}

async function fileSize(path: string, what: string): Promise<number> {
  try {
    const info = await stat(path);
    if (!info.isFile()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    return info.size;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
    throw new InvalidInputError(`${what}: ${why}`, { step: 'cli' });
  }
}

type Read = Omit<FileColumns, 'path' | 'format'>;

/** A collector for a column, or null for a column not kept. */
function collectorFor(name: string, opts: ReadFileColumnsOptions): ColumnCollector | null {
  if (opts.kinds && !opts.kinds.has(name)) return null;
  return new ColumnCollector(opts.kinds?.get(name) ?? null, opts.storage);
}

/** CSV straight from bytes into the collectors, hashed on the way. */
async function readCsv(path: string, size: number, opts: ReadFileColumnsOptions): Promise<Read> {
  const collectors = new Map<string, ColumnCollector>();
  const hash = createHash('sha256');
  let bytesRead = 0;
  const read = await readCsvCells(
    { path },
    opts.what,
    (columns) =>
      cellSink(
        columns.map((name) => {
          const collector = collectorFor(name, opts);
          if (collector) collectors.set(name, collector);
          return collector;
        }),
      ),
    {
      onChunk: (chunk) => {
        hash.update(chunk);
        bytesRead += chunk.length;
        opts.onProgress?.(bytesRead, size);
      },
    },
  );
  return { columns: read.columns ?? [], rows: read.rows, sha256: hash.digest('hex'), collectors };
}

/** Hands each cell to its column's collector: a plain number without making its text, anything else as text. */
function cellSink(byIndex: (ColumnCollector | null)[]): CellSink {
  return {
    bytes(column, bytes, start, end, ascii, number) {
      const collector = byIndex[column];
      if (!collector) return;
      if (start === end) return collector.add(null);
      if (number === number && collector.takesBareNumbers) return collector.addNumber(number, bytes, start, end);
      if (collector.takesBareCategories) return collector.addCategoryBytes(bytes, start, end);
      collector.add(cellText(bytes, start, end, ascii));
    },
    text(column, cell) {
      byIndex[column]?.add(cell);
    },
  };
}

/** JSON lines and Parquet, through row batches. */
async function readRows(path: string, format: TableFormat, opts: ReadFileColumnsOptions): Promise<Read> {
  const collectors = new Map<string, ColumnCollector>();
  let columns: readonly string[] = [];
  let rows = 0;
  for await (const batch of rowBatches({ path }, format, opts.what)) {
    columns = batch.columns;
    batch.columns.forEach((name, c) => {
      let collector = collectors.get(name);
      if (!collector) {
        const made = collectorFor(name, opts);
        if (!made) return;
        collector = made;
        // A JSON-lines key first given after `rows` rows: it was missing in those.
        for (let r = 0; r < rows; r++) collector.add(null);
        collectors.set(name, collector);
      }
      for (const row of batch.rows) collector.add(row[c] ?? null);
    });
    rows += batch.rows.length;
  }
  return { columns: [...columns], rows, sha256: await sha256File(path), collectors };
}

/** The raw cells of some columns of a file (the rare reference column whose categories were dropped). */
export async function readCells(file: FileColumns, names: string[]): Promise<Map<string, (string | null)[]>> {
  const cells = new Map(names.map((n) => [n, [] as (string | null)[]]));
  for await (const batch of rowBatches({ path: file.path }, file.format, file.path)) {
    for (const [name, list] of cells) {
      const c = batch.columns.indexOf(name);
      for (const row of batch.rows) list.push(c >= 0 ? (row[c] ?? null) : null);
    }
  }
  return cells;
}
