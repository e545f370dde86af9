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

/**
 * Joins a source's parts, in the order given, into one dataset: CSV parts must share one header,
 * which is kept once; JSON lines are concatenated; Parquet parts are framed (one part stays the
 * plain file).
 * @throws InvalidInputError, with `context`, when two CSV parts have different headers, or a
 * Parquet part is not a Parquet file.
 */
export function combineParts(parts: SourcePart[], format: 'csv' | 'jsonl' | 'parquet', context: ErrorContext): Buffer {
  if (format === 'parquet') {
    for (const part of parts) {
      if (!isParquetFile(part.body)) {
        throw new InvalidInputError(
          `${part.name} is not a Parquet file (a Parquet file starts and ends with "PAR1"${part.body.length === 0 ? '; this one is empty' : ''})`,
          context,
        );
      }
    }
    if (parts.length === 1) return parts[0]!.body;
    return Buffer.concat([Buffer.from(PARQUET_PARTS), ...parts.flatMap((p) => [Buffer.from(`${p.body.length}\n`), p.body])]);
  }
  if (parts.length === 1) return parts[0]!.body;
  const chunks: Buffer[] = [];
  let header: { line: string; from: string } | undefined;
  for (const part of parts) {
    let body = part.body;
    if (body.length === 0) continue;
    if (format === 'csv') {
      const end = body.indexOf(0x0a);
      const line = normaliseHeader(body.subarray(0, end < 0 ? body.length : end).toString());
      if (!header) header = { line, from: part.name };
      else if (line !== header.line) {
        throw new InvalidInputError(
          `CSV part ${part.name} has header "${line}", but ${header.from} has "${header.line}": every part of a source needs the same columns in the same order`,
          context,
        );
      }
      // The first part keeps its header; later parts contribute rows only.
      if (chunks.length > 0) body = end < 0 ? Buffer.alloc(0) : body.subarray(end + 1);
    }
    if (body.length === 0) continue;
    chunks.push(body);
    if (body[body.length - 1] !== 0x0a) chunks.push(Buffer.from('\n'));
  }
  return Buffer.concat(chunks);
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
const PARQUET_PARTS = 'retrain-parquet-parts/1\n';

/**
 * The Parquet files framed in the bytes of a multi-part Parquet source, or null when the bytes
 * are not framed (one plain file). Views into `body`, no copies.
 * @throws Error when the frame is cut short (bytes that were never written by combineParts).
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
