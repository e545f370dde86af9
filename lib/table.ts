import { isUtf8 } from 'node:buffer';
import { parse } from 'csv-parse/sync';
import { InvalidInputError } from './errors';
import { parseParquet } from './parquet-table';
import { assertUniqueColumns } from './columns';

/** A dataset held as text cells; `null` is a missing value. Parsing and typing happen later. */
export interface Table {
  columns: string[];
  rows: (string | null)[][];
}

/**
 * How the bytes of a source are read: UTF-8 (the default, strict: a byte that is not UTF-8 is
 * an error, never a silent U+FFFD), or latin1, read as windows-1252 (its superset, as browsers do).
 */
export type TextEncoding = 'utf-8' | 'latin1';

/** The formats a data source can be in. */
export type TableFormat = 'csv' | 'jsonl' | 'parquet';

/**
 * Parses data of any source format into a Table: CSV and JSON lines as {@link parseTable} does,
 * Parquet (binary; `encoding` does not apply) with hyparquet, which reads asynchronously.
 */
export async function readTable(body: Buffer, format: TableFormat, source: string, encoding: TextEncoding = 'utf-8'): Promise<Table> {
  if (format === 'parquet') return parseParquet(body, source);
  return parseTable(body, format, source, encoding);
}

/**
 * Parses CSV (header row required) or JSON lines into a Table. Bytes are decoded as `encoding`;
 * with UTF-8, a byte that is not UTF-8 fails with the line, row and column it is in. A column
 * named twice in a CSV header, or a key given twice in a JSON-lines object, fails too (a reader
 * would otherwise keep one of them silently).
 */
export function parseTable(body: Buffer | string, format: 'csv' | 'jsonl', source: string, encoding: TextEncoding = 'utf-8'): Table {
  let input: Buffer | string = body;
  if (typeof body !== 'string') {
    if (encoding === 'latin1') input = decodeWindows1252(body);
    // Checked on the bytes (no copy): a large CSV is parsed from the bytes, never held as one string.
    else if (!isUtf8(body)) throw notUtf8(body, format, source);
  }
  // A byte order mark would make line 1 invalid JSON; the CSV parser strips its own.
  return format === 'csv' ? parseCsv(input, source) : parseJsonLines(input.toString().replace(/^\uFEFF/, ''), source);
}

function parseCsv(body: Buffer | string, source: string): Table {
  const records = csvRecords(body, source);
  if (records.length === 0) return { columns: [], rows: [] };
  const [header, ...rest] = records;
  const columns = header.map((c) => c.trim());
  assertUniqueColumns(columns, source, 'header');
  return { columns, rows: rest.map((r) => r.map((cell) => (cell === '' ? null : cell))) };
}

function csvRecords(body: Buffer | string, source: string): string[][] {
  try {
    return parse(body, { bom: true, skip_empty_lines: true, relax_column_count: false });
  } catch (err) {
    throw new InvalidInputError(`${source}: not valid CSV: ${(err as Error).message}`, { step: 'validate' });
  }
}

function parseJsonLines(text: string, source: string): Table {
  const objects: Record<string, unknown>[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim()) objects.push(jsonLineObject(line, i + 1, source));
  });
  const columns = [...new Set(objects.flatMap((o) => Object.keys(o)))];
  return { columns, rows: objects.map((o) => columns.map((c) => cellOf(o[c]))) };
}

/**
 * One non-blank JSON-lines line as its object.
 * @throws InvalidInputError naming the line when it nests too deep, is not JSON, is not an
 * object, or gives a key twice.
 */
export function jsonLineObject(line: string, lineNumber: number, source: string): Record<string, unknown> {
  // Checked before parsing: turning a value nested thousands deep back into a cell would overflow the stack.
  const depth = nestingDepth(line);
  if (depth > MAX_NESTING) {
    throw new InvalidInputError(
      `${source}: line ${lineNumber} nests arrays or objects ${depth} levels deep (at most ${MAX_NESTING}): flatten the value into columns`,
      { step: 'validate' },
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new InvalidInputError(`${source}: line ${lineNumber} is not valid JSON`, { step: 'validate' });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidInputError(`${source}: line ${lineNumber} is not a JSON object`, { step: 'validate' });
  }
  const twice = repeatedKey(line);
  if (twice !== null) {
    throw new InvalidInputError(`${source}: line ${lineNumber} gives the key "${twice}" twice: remove one`, { step: 'validate' });
  }
  return value as Record<string, unknown>;
}

/** Deepest nesting of arrays and objects a JSON-lines line may have (the line's own object is level 1). */
const MAX_NESTING = 100;

/** How deep arrays and objects nest in a line of JSON (brackets inside strings do not count); a scan, no recursion. */
function nestingDepth(line: string): number {
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (ch === '"') {
      for (i++; i < line.length && line[i] !== '"'; i++) if (line[i] === '\\') i++;
    } else if (ch === '{' || ch === '[') deepest = Math.max(deepest, ++depth);
    else if (ch === '}' || ch === ']') depth--;
  }
  return deepest;
}

/**
 * The first key that a JSON object (one valid JSON-lines line) gives twice at its top level, or
 * null. JSON.parse keeps the last one silently; nested objects are cells and are left alone.
 */
function repeatedKey(line: string): string | null {
  // No key can repeat without at least two colons.
  if (line.indexOf(':') === line.lastIndexOf(':')) return null;
  const seen = new Set<string>();
  let depth = 0;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (ch === '"') {
      const start = i;
      for (i++; line[i] !== '"'; i++) if (line[i] === '\\') i++;
      if (depth !== 1) continue;
      let next = i + 1;
      while (/\s/.test(line[next] ?? '')) next++;
      if (line[next] !== ':') continue;
      const key = JSON.parse(line.slice(start, i + 1)) as string;
      if (seen.has(key)) return key;
      seen.add(key);
    } else if (ch === '{' || ch === '[') depth++;
    else if (ch === '}' || ch === ']') depth--;
  }
  return null;
}

/** Characters of the bytes 0x80–0x9F in windows-1252 (the five it leaves undefined stay C1 controls, as in latin1). */
const CP1252_80_9F = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d, 0x17d, 0x8f, 0x90, 0x2018, 0x2019,
  0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178,
].map((c) => String.fromCharCode(c));

/**
 * latin1 bytes as text, read as windows-1252 (what "latin1" files from spreadsheets are, and
 * what browsers read for the label): the same as ISO-8859-1 except € and typographic quotes.
 */
export function decodeWindows1252(body: Buffer): string {
  return body.toString('latin1').replace(/[\x80-\x9f]/g, (c) => CP1252_80_9F[c.charCodeAt(0) - 0x80]);
}

/**
 * The error for bytes that are not UTF-8 (say, "café" saved as latin1): the line and, when the
 * rest of the file parses, the data row (1 = the first row after the header) and the column.
 */
function notUtf8(body: Uint8Array, format: 'csv' | 'jsonl', source: string): InvalidInputError {
  // The scan follows the decoder's rules, so it finds the byte the decoder refused.
  const at = Math.max(0, firstInvalidUtf8(body));
  const before = new TextDecoder('utf-8').decode(body.subarray(0, at));
  const lineStart = before.lastIndexOf('\n') + 1;
  const line = before.split('\n').length;
  const byte = `0x${body[at].toString(16).toUpperCase().padStart(2, '0')}`;
  const after = before.slice(Math.max(lineStart, before.length - 20));
  const where = cellOfInvalidByte(body, format, before);
  const context = after ? ` after ${JSON.stringify(after)}` : ' at the start of the line';
  return new InvalidInputError(
    `${source}: not valid UTF-8 at line ${line}${where ? ` (${where})` : ''}: byte ${byte}${context}; ` +
      `save the file as UTF-8 (or, in a pipeline's source, declare encoding: 'latin1')`,
    { step: 'validate' },
  );
}

/** Offset of the first byte that does not start or continue a valid UTF-8 sequence; -1 if none. */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      if (c === 0xe0) lo = 0xa0;
      if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      if (c === 0xf0) lo = 0x90;
      if (c === 0xf4) hi = 0x8f;
    } else return i;
    for (let k = 1; k <= need; k++) {
      const d = b[i + k];
      if (d === undefined || d < (k === 1 ? lo : 0x80) || d > (k === 1 ? hi : 0xbf)) return i;
    }
    i += need + 1;
  }
  return -1;
}

/**
 * "row R, column "c"" for the first invalid byte, found by parsing the text with replacement
 * characters: the bad byte is the first U+FFFD after the ones the valid text before it holds.
 * Undefined when the file does not parse that way either.
 */
function cellOfInvalidByte(body: Uint8Array, format: 'csv' | 'jsonl', before: string): string | undefined {
  const lossy = new TextDecoder('utf-8').decode(body);
  let skip = before.split('\uFFFD').length - 1;
  const count = (text: string) => text.split('\uFFFD').length - 1;
  try {
    if (format === 'csv') {
      const [header, ...rows] = parse(lossy, { bom: true, skip_empty_lines: true, relax_column_count: true }) as string[][];
      const records = [header, ...rows];
      for (let r = 0; r < records.length; r++) {
        for (let c = 0; c < records[r].length; c++) {
          const n = count(records[r][c]);
          if (n <= skip) {
            skip -= n;
            continue;
          }
          return r === 0 ? `the header, column ${c + 1}` : `row ${r}, column ${JSON.stringify(header[c]?.trim() ?? `#${c + 1}`)}`;
        }
      }
      return undefined;
    }
    const lines = lossy.split('\n');
    const lineIndex = before.split('\n').length - 1;
    const row = lines.slice(0, lineIndex + 1).filter((l) => l.trim()).length;
    const prefix = before.slice(before.lastIndexOf('\n') + 1);
    skip = count(prefix);
    const object = JSON.parse(lines[lineIndex]) as Record<string, unknown>;
    for (const [key, value] of Object.entries(object)) {
      const n = count(key) + count(typeof value === 'string' ? value : (JSON.stringify(value) ?? ''));
      if (n > skip) return `row ${row}, key ${JSON.stringify(key)}`;
      skip -= n;
    }
    return `row ${row}`;
  } catch {
    return undefined;
  }
}

/** A JSON value as a cell: strings as they are (empty is missing), other values as JSON text. */
export function cellOf(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value === '' ? null : value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** Parses a numeric cell; null for missing, NaN and anything that is not a finite number. */
export function numericValue(cell: string | null): number | null {
  if (cell === null) return null;
  const simple = simpleDecimal(cell);
  if (simple !== undefined) return simple;
  // Number() ignores surrounding whitespace itself; only blank text, which it reads as 0, is checked.
  const n = Number(cell);
  if (n === 0 && cell.trim() === '') return null;
  return Number.isFinite(n) ? n : null;
}

/** Exact powers of ten up to 10^15 (every one a double without rounding). */
const POW10 = Array.from({ length: 16 }, (_, k) => 10 ** k);

/**
 * The value of a plain decimal (`-12.3456`: an optional minus, at most 15 digits, one optional
 * point), or undefined for anything else. The digits make an exact integer and the divisor an
 * exact power of ten, so their one division rounds once, correctly: the same double Number()
 * gives (the fast path of Clinger's algorithm), several times faster, and it is most cells.
 */
function simpleDecimal(text: string): number | undefined {
  const length = text.length;
  if (length === 0 || length > 17) return undefined;
  let i = text.charCodeAt(0) === 45 ? 1 : 0;
  let mantissa = 0;
  let digits = 0;
  let decimals = -1;
  for (; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      mantissa = mantissa * 10 + (c - 48);
      digits++;
      if (decimals >= 0) decimals++;
    } else if (c === 46 && decimals < 0) decimals = 0;
    else return undefined;
  }
  if (digits === 0 || digits > 15) return undefined;
  const value = decimals > 0 ? mantissa / POW10[decimals]! : mantissa;
  return text.charCodeAt(0) === 45 ? -value : value;
}

/** True for a cell that spells a missing number (NaN, nan, null, NA, empty). */
export function isMissingMarker(cell: string | null): boolean {
  return cell === null || /^(nan|null|na|n\/a|none|)$/i.test(cell.trim());
}

/** Serialises chosen columns of a table as CSV, quoting where needed. */
export function toCsv(table: Table, columns: string[] = table.columns, rowIndexes?: ArrayLike<number>): string {
  const idx = columns.map((c) => {
    const i = table.columns.indexOf(c);
    if (i < 0) throw new Error(`column "${c}" is not in the table`);
    return i;
  });
  let text = columns.map(quote).join(',') + '\n';
  const count = rowIndexes ? rowIndexes.length : table.rows.length;
  for (let k = 0; k < count; k++) text += csvLine(table.rows[rowIndexes ? rowIndexes[k]! : k]!, idx);
  return text;
}

/**
 * The cells of a row at `at` as one CSV line, with its line break. A lone missing cell is written
 * "" (an empty line would be skipped by the reader); a position of -1 is a missing cell.
 */
export function csvLine(row: readonly (string | null)[], at: readonly number[]): string {
  if (at.length === 1) return (row[at[0]!] ? quote(row[at[0]!]!) : '""') + '\n';
  let line = '';
  for (let k = 0; k < at.length; k++) line += (k ? ',' : '') + quote(row[at[k]!] ?? '');
  return line + '\n';
}

/** A CSV cell per RFC 4180: quoted when it holds a quote, comma or line break. */
export function quote(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
