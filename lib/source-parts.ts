/**
 * A data source under an s3:// prefix is several objects (a daily export, a Spark job's part
 * files). They become one dataset: CSV parts must share one header, which is kept once; JSON
 * lines are concatenated. Parts are joined in key order, so the same objects always give the
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
 * which is kept once; JSON lines are concatenated.
 * @throws InvalidInputError, with `context`, when two CSV parts have different headers.
 */
export function combineParts(parts: SourcePart[], format: 'csv' | 'jsonl', context: ErrorContext): Buffer {
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
