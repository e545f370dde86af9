/**
 * A data source under an s3:// prefix is several objects (a daily export, a Spark job's part
 * files). They become one dataset: CSV parts must share one header, which is kept once; JSON
 * lines are concatenated; Parquet parts (binary, each a whole file) are framed one after another
 * (see {@link splitParquetParts}). Parts are joined in key order, so the same objects always give the
 * same bytes, and so the same content-addressed snapshot.
 */
import { InvalidInputError, type ErrorContext } from './errors';

/** One object of a multi-object source, with its bytes. */
export interface SourcePart {
  /** Where the part came from, for errors (e.g. s3://bucket/exports/part-0001.csv). */
  name: string;
  body: Buffer;
}

/**
 * Object names that are not data: directory markers ("…/") and the hidden or bookkeeping
 * files data tools leave next to their output (_SUCCESS, _metadata, .crc files).
 */
export function isDataPart(key: string): boolean {
  if (key.endsWith('/')) return false;
  const name = key.slice(key.lastIndexOf('/') + 1);
  return name !== '' && !name.startsWith('_') && !name.startsWith('.');
}

/** One object of a multi-object source, read as a stream (a file downloaded from S3, a local file). */
export interface StreamedPart {
  /** Where the part came from, for errors. */
  name: string;
  /** Its length in bytes (a framed Parquet part is preceded by it). */
  size: number;
  chunks(): AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
}

/**
 * Joins a source's parts, in the order given, into one dataset, chunk by chunk (memory holds a
 * chunk, not a part): CSV parts must share one header, which is kept once; JSON lines are
 * concatenated, each part ending with a line break; Parquet parts are framed (one part stays the
 * plain file). Throws InvalidInputError, with `context`, when two CSV parts have different
 * headers. A Parquet part's magic bytes are checked as it passes, so a bad part
 * fails the stream (its reader discards what it wrote).
 */
export async function* joinParts(
  parts: Iterable<StreamedPart> | AsyncIterable<StreamedPart>,
  format: 'csv' | 'jsonl' | 'parquet',
  context: ErrorContext,
): AsyncGenerator<Uint8Array> {
  const list: StreamedPart[] = [];
  for await (const part of parts) list.push(part);
  if (format === 'parquet') {
    const framed = list.length > 1;
    if (framed) yield Buffer.from(PARQUET_PARTS);
    for (const part of list) {
      if (framed) yield Buffer.from(`${part.size}\n`);
      yield* checkedParquet(part, context);
    }
    return;
  }
  if (list.length === 1) {
    yield* list[0]!.chunks();
    return;
  }
  let header: { line: string; from: string } | undefined;
  for (const part of list) {
    let head: Buffer | null = format === 'csv' ? Buffer.alloc(0) : null;
    let last = -1;
    for await (const chunk of part.chunks()) {
      let body = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      if (head) {
        // The header line is held until its line break arrives.
        head = Buffer.concat([head, body]);
        const end = head.indexOf(0x0a);
        if (end < 0) continue;
        const line = normaliseHeader(head.subarray(0, end).toString());
        body = checkHeader(line, part.name, head, end);
        head = null;
      }
      if (body.length === 0) continue;
      yield body;
      last = body[body.length - 1]!;
    }
    if (head && head.length > 0) {
      // A part that is only a header, without a line break.
      const body = checkHeader(normaliseHeader(head.toString()), part.name, head, -1);
      if (body.length > 0) {
        yield body;
        last = body[body.length - 1]!;
      }
    }
    if (last >= 0 && last !== 0x0a) yield Buffer.from('\n');
  }

  /** The part's bytes to keep after its header line (which ends at `end`, -1: at the end). */
  function checkHeader(line: string, from: string, bytes: Buffer, end: number): Buffer {
    if (!header) {
      header = { line, from };
      return bytes;
    }
    if (line !== header.line) {
      throw new InvalidInputError(
        `CSV part ${from} has header "${line}", but ${header.from} has "${header.line}": every part of a source needs the same columns in the same order`,
        context,
      );
    }
    // The first part keeps its header; later parts contribute rows only.
    return end < 0 ? Buffer.alloc(0) : bytes.subarray(end + 1);
  }
}

/** A Parquet part's bytes, failing when it does not start and end with "PAR1". */
async function* checkedParquet(part: StreamedPart, context: ErrorContext): AsyncGenerator<Uint8Array> {
  let first = Buffer.alloc(0);
  let tail = Buffer.alloc(0);
  let size = 0;
  for await (const chunk of part.chunks()) {
    const body = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (first.length < 4) first = Buffer.concat([first, body.subarray(0, 4 - first.length)]);
    tail = Buffer.concat([tail, body.subarray(Math.max(0, body.length - 4))]).subarray(-4);
    size += body.length;
    yield body;
  }
  if (size < 12 || first.toString('latin1') !== 'PAR1' || tail.toString('latin1') !== 'PAR1') {
    throw new InvalidInputError(
      `${part.name} is not a Parquet file (a Parquet file starts and ends with "PAR1"${size === 0 ? '; this one is empty' : ''})`,
      context,
    );
  }
}

/** A header line without a byte order mark or a Windows line ending, so such parts still match. */
function normaliseHeader(line: string): string {
  return line.replace(/^\uFEFF/, '').replace(/\r$/, '');
}

/** Whether the bytes look like a Parquet file: "PAR1" at both ends, with room for a footer. */
export function isParquetFile(body: Uint8Array): boolean {
  if (body.length < 12) return false;
  const magic = [0x50, 0x41, 0x52, 0x31]; // "PAR1"
  const end = body.length - 4;
  return magic.every((b, i) => body[i] === b && body[end + i] === b);
}

/**
 * First line of the bytes of a Parquet source made of several parts: then each part follows as
 * its length in bytes (decimal, a line) and its bytes. Parquet files cannot simply be
 * concatenated; the frame keeps the same parts in the same order the same bytes, so the snapshot
 * stays content-addressed. A plain Parquet file starts with "PAR1", never with this.
 */
export const PARQUET_PARTS = 'retrain-parquet-parts/1\n';

/**
 * The Parquet files framed in the bytes of a multi-part Parquet source, or null when the bytes
 * are not framed (one plain file). Views into `body`, no copies.
 * @throws Error when the frame is cut short (bytes that were never written by joinParts).
 */
export function splitParquetParts(body: Uint8Array): Uint8Array[] | null {
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (bytes.length < PARQUET_PARTS.length || bytes.toString('latin1', 0, PARQUET_PARTS.length) !== PARQUET_PARTS) return null;
  const parts: Uint8Array[] = [];
  let at = PARQUET_PARTS.length;
  while (at < bytes.length) {
    const nl = bytes.indexOf(0x0a, at);
    const length = nl < 0 ? NaN : Number(bytes.toString('latin1', at, nl));
    if (!Number.isSafeInteger(length) || length < 0 || nl + 1 + length > bytes.length) {
      throw new Error(`multi-part Parquet bytes are cut short or damaged at byte ${at}`);
    }
    parts.push(bytes.subarray(nl + 1, nl + 1 + length));
    at = nl + 1 + length;
  }
  return parts;
}
