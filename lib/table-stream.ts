/**
 * Data read as a stream of row batches, so a dataset of any size passes through with memory for
 * one batch: CSV and JSON lines from a stream of bytes (this module), Parquet from a file read
 * in ranges (lib/parquet-table.ts). Cells are text, `null` is missing, as in {@link Table}.
 */
import { assertUniqueColumns } from './columns';
import { CsvRecordReader } from './csv-records';
import { InvalidInputError } from './errors';
import type { Row, RowBatch } from './row-batch';
import { cellOf, decodeWindows1252, firstInvalidUtf8, jsonLineObject, type TextEncoding } from './table';

export type { Row, RowBatch } from './row-batch';

/**
 * Reads CSV (header row first) or JSON lines from chunks of bytes, decoded as `encoding`, as row
 * batches; always at least one batch (with no rows for data that has none). Errors are the ones
 * {@link parseTable} gives, except that bytes that are not UTF-8 are named by line only.
 */
export async function* textRowBatches(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  format: 'csv' | 'jsonl',
  source: string,
  encoding: TextEncoding = 'utf-8',
): AsyncGenerator<RowBatch> {
  const decode = textDecoder(source, encoding);
  const reader = format === 'csv' ? csvBatches(source) : jsonLineBatches(source);
  let yielded = false;
  for await (const chunk of chunks) {
    const rows = reader.push(decode(chunk));
    if (rows.length > 0) {
      yielded = true;
      yield { columns: reader.columns, rows };
    }
  }
  const rows = reader.end(decode(null));
  if (rows.length > 0 || !yielded) yield { columns: reader.columns, rows };
}

interface BatchReader {
  readonly columns: string[];
  push(text: string): Row[];
  end(text: string): Row[];
}

function csvBatches(source: string): BatchReader {
  const records = new CsvRecordReader((message) => new InvalidInputError(`${source}: not valid CSV: ${message}`, { step: 'validate' }));
  const columns: string[] = [];
  let header = false;
  const rowsOf = (out: Row[]): Row[] => {
    if (!header && out.length > 0) {
      header = true;
      columns.push(...out.shift()!.map((c) => (c ?? '').trim()));
      assertUniqueColumns(columns, source, 'header');
    }
    return out;
  };
  return {
    columns,
    push(text) {
      const out: Row[] = [];
      records.push(text, out);
      return rowsOf(out);
    },
    end(text) {
      const out: Row[] = [];
      records.push(text, out);
      records.end(out);
      return rowsOf(out);
    },
  };
}

function jsonLineBatches(source: string): BatchReader {
  const columns: string[] = [];
  const position = new Map<string, number>();
  let carry = '';
  let line = 0;
  let first = true;
  const rowsOf = (text: string, last: boolean): Row[] => {
    let s = carry + text;
    if (first && s.length > 0) {
      first = false;
      if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
    }
    const rows: Row[] = [];
    let pos = 0;
    for (;;) {
      let nl = s.indexOf('\n', pos);
      if (nl < 0) {
        if (!last || pos >= s.length) break;
        nl = s.length;
      }
      line++;
      const text = s.slice(pos, nl);
      pos = nl + 1;
      if (!text.trim()) continue;
      const object = jsonLineObject(text, line, source);
      const row: Row = new Array<string | null>(columns.length).fill(null);
      for (const key in object) {
        let at = position.get(key);
        if (at === undefined) {
          at = columns.length;
          position.set(key, at);
          columns.push(key);
        }
        row[at] = cellOf(object[key]);
      }
      rows.push(row);
    }
    carry = pos < s.length ? s.slice(pos) : '';
    return rows;
  };
  return { columns, push: (text) => rowsOf(text, false), end: (text) => rowsOf(text, true) };
}

/** Decodes chunks in order (null: the end); with UTF-8, a byte that is not UTF-8 is an error naming its line. */
function textDecoder(source: string, encoding: TextEncoding): (chunk: Uint8Array | null) => string {
  if (encoding === 'latin1')
    return (chunk) => (chunk ? decodeWindows1252(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)) : '');
  // fatal: a byte that is not UTF-8 is an error, never a silent U+FFFD. A byte order mark is dropped.
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let lines = 1;
  // The bytes of a character the last chunk ended in the middle of: the decoder holds them, and
  // an error in the next chunk is located after them.
  let pending: Uint8Array = new Uint8Array(0);
  return (chunk) => {
    try {
      const text = chunk ? decoder.decode(chunk, { stream: true }) : decoder.decode();
      for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lines++;
      if (chunk) pending = unfinishedCharacter(chunk);
      return text;
    } catch {
      const bytes = chunk ? Buffer.concat([pending, chunk]) : pending;
      const found = firstInvalidUtf8(bytes);
      // At the end, the held bytes are a character the data stops in the middle of.
      const at = !chunk || found < 0 ? bytes.length : found;
      let line = lines;
      for (let i = pending.length; i < at; i++) if (bytes[i] === 0x0a) line++;
      const byte =
        at < bytes.length ? ` byte 0x${bytes[at]!.toString(16).toUpperCase().padStart(2, '0')}` : ' an unfinished character at the end';
      throw new InvalidInputError(
        `${source}: not valid UTF-8 at line ${line}:${byte}; save the file as UTF-8 (or, in a pipeline's source, declare encoding: 'latin1')`,
        { step: 'validate' },
      );
    }
  };
}

/** The last bytes of a chunk that start a multi-byte character it does not finish (none: empty). */
function unfinishedCharacter(chunk: Uint8Array): Uint8Array {
  for (let back = 1; back <= Math.min(3, chunk.length); back++) {
    const b = chunk[chunk.length - back]!;
    if (b < 0x80) break;
    if (b >= 0xc0) {
      const length = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
      return length > back ? chunk.slice(chunk.length - back) : new Uint8Array(0);
    }
  }
  return new Uint8Array(0);
}
