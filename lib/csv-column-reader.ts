/**
 * A CSV reader that hands each cell to a sink as bytes, column by column, and never builds a row:
 * the sink parses a number straight from the bytes, or makes a string only for the cells that need
 * one (text, categories). `retrain drift-report` reads files into typed columns with it, with no
 * string per numeric cell and no array per row, so the garbage collector has little to do.
 *
 * Same CSV as {@link CsvRecordReader} (which reads the rare record that holds a quote): RFC 4180,
 * \n or \r\n line ends, empty lines skipped, a byte order mark dropped, every record as wide as
 * the header, UTF-8 checked (a byte that is not UTF-8 is an error naming its line). Pure: bytes in,
 * calls out.
 */
import { isUtf8 } from 'node:buffer';
import { assertUniqueColumns } from './columns';
import { CsvRecordReader } from './csv-records';
import { InvalidInputError } from './errors';
import { firstInvalidUtf8 } from './table';

/** Receives the cells of each record after the header, in column order. */
export interface CellSink {
  /**
   * Cell `column` of the current record as the bytes `[start, end)` of `bytes` (an unquoted
   * field; empty when start === end); `ascii` is true when every byte is below 0x80, so
   * `bytes.toString('latin1', start, end)` is its text (and fast). `number` is the cell's value
   * when it is a plain decimal (an optional minus, at most 15 digits, one optional point: the
   * fast path of lib/table.ts numericValue, which gives the same double), else NaN: read it, and
   * the cell need not be decoded. The bytes are only valid during the call.
   */
  bytes(column: number, bytes: Buffer, start: number, end: number, ascii: boolean, number: number): void;
  /** Cell `column` of a record that held a quote, as text (null when empty). */
  text(column: number, cell: string | null): void;
}

const COMMA = 44;
const QUOTE = 34;
const LF = 10;
const CR = 13;
const DOT = 46;
const MINUS = 45;
/** Exact powers of ten up to 10^15 (every one a double without rounding). */
const POW10 = Array.from({ length: 16 }, (_, k) => 10 ** k);

/** Reads CSV from chunks of bytes: the header first (see {@link columns}), then every cell into the sink. */
export class CsvColumnReader {
  /** Bytes of a record the last chunk ended in the middle of. */
  private carry: Buffer = Buffer.alloc(0);
  /** Line number (1-based) of the next record. */
  private line = 1;
  private started = false;
  private header: string[] | null = null;
  private sink: CellSink | null = null;
  /** Data records read (the header not counted). */
  rows = 0;

  /**
   * @param source names the data in errors.
   * @param onHeader is called with the header's column names (trimmed) and returns the sink for the rows.
   */
  constructor(
    private readonly source: string,
    private readonly onHeader: (columns: string[]) => CellSink,
  ) {}

  /** The header's column names; null before it is read. */
  get columns(): string[] | null {
    return this.header;
  }

  /** Reads the complete records of `chunk`, after what earlier chunks left. */
  push(chunk: Uint8Array): void {
    let buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.carry.length > 0) buf = Buffer.concat([this.carry, buf]);
    let pos = 0;
    if (!this.started) {
      if (buf.length < 3) {
        this.carry = Buffer.from(buf);
        return;
      }
      this.started = true;
      if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) pos = 3;
    }
    // The next quote, found once per quote rather than once per line.
    let quote = -2;
    while (pos < buf.length) {
      const nl = buf.indexOf(LF, pos);
      if (nl < 0) break;
      if (quote !== -1 && quote < pos) quote = buf.indexOf(QUOTE, pos);
      if (quote < 0 || quote > nl) {
        const end = nl > pos && buf[nl - 1] === CR ? nl - 1 : nl;
        if (end > pos) this.plainRecord(buf, pos, end);
        this.line++;
        pos = nl + 1;
        continue;
      }
      const end = recordEnd(buf, pos);
      if (end < 0) break;
      const lines = this.quotedRecord(buf, pos, end + 1);
      this.line += lines;
      pos = end + 1;
      quote = -2;
    }
    this.carry = Buffer.from(buf.subarray(pos));
  }

  /** Reads the last record (data need not end with a line break). */
  end(): void {
    if (!this.started && this.carry.length > 0) {
      // Fewer than 3 bytes in all: no byte order mark to look for.
      this.started = true;
    }
    if (this.carry.length > 0) {
      this.push(Buffer.from('\n'));
      if (this.carry.length > 0) {
        throw this.invalid(`Quote Not Closed: the quoted field that starts on line ${this.line} is never closed`);
      }
    }
  }

  private invalid(message: string): InvalidInputError {
    return new InvalidInputError(`${this.source}: not valid CSV: ${message}`, { step: 'validate' });
  }

  /**
   * A line without quotes: its cells are the bytes between commas. Each cell's plain decimal
   * value is read in the same pass over its bytes (see {@link CellSink.bytes}).
   */
  private plainRecord(buf: Buffer, start: number, end: number): void {
    const sink = this.sink;
    if (!sink) {
      this.readHeader(this.decode(buf, start, end).split(','));
      return;
    }
    const last = this.header!.length - 1;
    let column = 0;
    let from = start;
    // Bytes other than digits, '.' and a leading '-', OR-ed: >= 0x80 means not ASCII.
    let bits = 0;
    let mantissa = 0;
    let digits = 0;
    let decimals = -1;
    let plain = true;
    for (let i = start; i <= end; i++) {
      const b = i < end ? buf[i]! : COMMA;
      if (b === COMMA) {
        if (i < end && column === last) this.widthError(this.commas(buf, start, end) + 1);
        let value = NaN;
        if (plain && digits > 0 && digits <= 15) {
          value = decimals > 0 ? mantissa / POW10[decimals]! : mantissa;
          if (buf[from] === MINUS) value = -value;
        }
        if (bits < 0x80) sink.bytes(column, buf, from, i, true, value);
        else {
          // Checked here, since a numeric cell is never decoded.
          if (!isUtf8(buf.subarray(from, i))) this.utf8Error(buf, from, i);
          sink.bytes(column, buf, from, i, false, value);
        }
        column++;
        from = i + 1;
        bits = 0;
        mantissa = 0;
        digits = 0;
        decimals = -1;
        plain = true;
        continue;
      }
      const digit = b - 48;
      if (digit >= 0 && digit <= 9) {
        mantissa = mantissa * 10 + digit;
        digits++;
        if (decimals >= 0) decimals++;
      } else if (b === DOT && decimals < 0) decimals = 0;
      else if (!(b === MINUS && i === from)) {
        plain = false;
        bits |= b;
      }
    }
    if (column !== last + 1) this.widthError(column);
    this.rows++;
  }

  /** A record that holds a quote (perhaps over several lines), read by CsvRecordReader; returns its line count. */
  private quotedRecord(buf: Buffer, start: number, end: number): number {
    const text = this.decode(buf, start, end);
    const out: (string | null)[][] = [];
    const reader = new CsvRecordReader((message) => this.invalid(message), { firstLine: this.line, midFile: true });
    reader.push(text, out);
    reader.end(out);
    let lines = 0;
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lines++;
    const cells = out[0];
    if (!cells) return lines;
    if (!this.sink) {
      this.readHeader(cells.map((c) => c ?? ''));
      return lines;
    }
    if (cells.length !== this.header!.length) this.widthError(cells.length);
    for (let c = 0; c < cells.length; c++) this.sink.text(c, cells[c]!);
    this.rows++;
    return lines;
  }

  private readHeader(cells: string[]): void {
    this.header = cells.map((c) => c.trim());
    assertUniqueColumns(this.header, this.source, 'header');
    this.sink = this.onHeader(this.header);
  }

  private commas(buf: Buffer, start: number, end: number): number {
    let n = 0;
    for (let i = start; i < end; i++) if (buf[i] === COMMA) n++;
    return n;
  }

  private widthError(got: number): never {
    throw this.invalid(`Invalid Record Length: expect ${this.header!.length}, got ${got} on line ${this.line}`);
  }

  private decode(buf: Buffer, start: number, end: number): string {
    const bytes = buf.subarray(start, end);
    if (!isUtf8(bytes)) this.utf8Error(buf, start, end);
    return bytes.toString('utf8');
  }

  private utf8Error(buf: Buffer, start: number, end: number): never {
    const found = firstInvalidUtf8(buf.subarray(start, end));
    const bad = found < 0 ? end : start + found;
    const line = this.line + countLineBreaks(buf, start, bad);
    const byte = bad < end ? ` byte 0x${buf[bad]!.toString(16).toUpperCase().padStart(2, '0')}` : ' an unfinished character at the end';
    throw new InvalidInputError(
      `${this.source}: not valid UTF-8 at line ${line}:${byte}; save the file as UTF-8 (or, in a pipeline's source, declare encoding: 'latin1')`,
      { step: 'validate' },
    );
  }
}

/**
 * Where the record that starts at `pos` and holds a quote ends: its line break outside quotes, or
 * -1 when the bytes end first. A quote opens a quoted field only at a field's start; a record with
 * a quote elsewhere ends at its line's break, for CsvRecordReader to refuse it.
 */
function recordEnd(buf: Buffer, pos: number): number {
  let quoted = false;
  let fieldStart = true;
  for (let i = pos; i < buf.length; i++) {
    const b = buf[i];
    if (quoted) {
      if (b !== QUOTE) continue;
      // "" inside quotes is a quote; the bytes may end between the two.
      if (i + 1 >= buf.length) return -1;
      if (buf[i + 1] === QUOTE) i++;
      else quoted = false;
      continue;
    }
    if (b === LF) return i;
    if (b === QUOTE && !fieldStart) return buf.indexOf(LF, i);
    quoted = b === QUOTE;
    fieldStart = b === COMMA;
  }
  return -1;
}

function countLineBreaks(buf: Buffer, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i++) if (buf[i] === LF) n++;
  return n;
}
