/**
 * An incremental CSV reader (RFC 4180: comma-separated, fields quoted with ", "" inside quotes,
 * quoted fields may hold commas and line breaks; \n or \r\n line ends; empty lines skipped; every
 * record as wide as the header). Text goes in piece by piece, complete records come out, so a
 * file of any size is read with memory for one piece.
 *
 * Written here rather than csv-parse's stream (which the in-memory reader still uses): a line
 * without a quote, almost every line of real data, is split with one native call, which reads
 * about five times as fast, and the dataset steps read every row of a snapshot more than once.
 * test/csv-records.test.ts checks it against csv-parse on generated files.
 */
export class CsvRecordReader {
  /** Text of a record that is not complete yet. */
  private carry = '';
  /** Line number (1-based) at which `carry` starts. */
  private line: number;
  private width = -1;
  private started: boolean;

  /**
   * @param onError builds the error for a malformed record ("not valid CSV: …").
   * @param options.firstLine the line number of the first text pushed, for errors (text that starts mid-file).
   * @param options.midFile the text starts after the data's start: a byte order mark there is a character, not a mark.
   */
  constructor(
    private readonly onError: (message: string) => Error,
    options: { firstLine?: number; midFile?: boolean } = {},
  ) {
    this.line = options.firstLine ?? 1;
    this.started = options.midFile ?? false;
  }

  /** Reads the complete records of `text`, after what earlier pieces left, into `out`. */
  push(text: string, out: (string | null)[][]): void {
    let s = this.carry + text;
    if (!this.started && s.length > 0) {
      this.started = true;
      if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
    }
    let pos = 0;
    // The next quote, found once per quote rather than once per line (a search per line that
    // finds none would read the rest of the piece every line).
    let quote = -2;
    while (pos < s.length) {
      const nl = s.indexOf('\n', pos);
      if (nl < 0) break;
      if (quote !== -1 && quote < pos) quote = s.indexOf('"', pos);
      if (quote < 0 || quote > nl) {
        const end = nl > pos && s.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
        if (end > pos) this.emit(s.slice(pos, end).split(','), out);
        this.line++;
        pos = nl + 1;
        continue;
      }
      const record = this.quotedRecord(s, pos);
      if (!record) break;
      this.emit(record.cells, out);
      this.line += record.lines;
      pos = record.next;
    }
    this.carry = s.slice(pos);
  }

  /** Reads the last record (a file need not end with a line break). */
  end(out: (string | null)[][]): void {
    if (this.carry === '') return;
    this.push('\n', out);
    if (this.carry !== '') throw this.onError(`Quote Not Closed: the quoted field that starts on line ${this.line} is never closed`);
  }

  /** Checks a record's width and passes it on, empty cells turned into null in place (no copy per row). */
  private emit(cells: (string | null)[], out: (string | null)[][]): void {
    if (this.width < 0) this.width = cells.length;
    else if (cells.length !== this.width) {
      throw this.onError(`Invalid Record Length: expect ${this.width}, got ${cells.length} on line ${this.line}`);
    }
    for (let i = 0; i < cells.length; i++) if (cells[i] === '') cells[i] = null;
    out.push(cells);
  }

  /** One record that holds a quote, from `pos`; null when `s` ends before the record does. */
  private quotedRecord(s: string, pos: number): { cells: string[]; next: number; lines: number } | null {
    const cells: string[] = [];
    let lines = 0;
    let i = pos;
    for (;;) {
      let value: string;
      if (s.charCodeAt(i) === 34) {
        value = '';
        let from = ++i;
        for (;;) {
          const q = s.indexOf('"', i);
          if (q < 0 || q + 1 >= s.length) return null;
          if (s.charCodeAt(q + 1) === 34) {
            value += s.slice(from, q) + '"';
            i = from = q + 2;
            continue;
          }
          value += s.slice(from, q);
          i = q + 1;
          break;
        }
        for (let k = value.indexOf('\n'); k >= 0; k = value.indexOf('\n', k + 1)) lines++;
        let c = s.charCodeAt(i);
        if (c === 13 && s.charCodeAt(i + 1) === 10) c = s.charCodeAt(++i);
        else if (c === 13 && i + 1 >= s.length) return null;
        if (c !== 44 && c !== 10) {
          throw this.onError(
            `Invalid Closing Quote: got "${s[i]}" at line ${this.line + lines} instead of a comma or line break after a quoted field`,
          );
        }
      } else {
        let stop = i;
        while (stop < s.length) {
          const c = s.charCodeAt(stop);
          if (c === 44 || c === 10) break;
          stop++;
        }
        if (stop >= s.length) return null;
        value = s.slice(i, stop);
        if (s.charCodeAt(stop) === 10 && value.endsWith('\r')) value = value.slice(0, -1);
        if (value.includes('"')) {
          throw this.onError(`Invalid Opening Quote: a quote is found in an unquoted field at line ${this.line + lines}`);
        }
        i = stop;
      }
      cells.push(value);
      if (s.charCodeAt(i) === 10) return { cells, next: i + 1, lines: lines + 1 };
      i++;
    }
  }
}
