/**
 * Dataset validation fed straight from a CSV's bytes (lib/csv-column-reader.ts) instead of rows of
 * strings: a numeric cell that reads as a plain decimal is valid without its text, a categorical
 * or label cell is decoded once per distinct value, and the row's duplicate hash is taken from the
 * bytes. The checks themselves are {@link DatasetValidator}'s, cell by cell, so the report is the
 * one the row reader gives. Pure: bytes in, counts out.
 */
import { ByteTextCache, cellText } from './byte-dictionary';
import type { CellSink } from './csv-column-reader';
import { RowHasher } from './row-hash';
import type { DatasetValidator } from './validate-dataset';

const NONE = -1;
const MANY = -2;

/** How a used column's present cells are checked. */
const enum Mode {
  /** Numeric: a plain decimal needs no text. */
  Number,
  /** Categorical or a class label: the text, decoded once per distinct value. */
  Text,
}

/** True when the ASCII bytes are all white space (what String.prototype.trim removes). */
function blank(bytes: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const b = bytes[i]!;
    if (b !== 32 && (b < 9 || b > 13)) return false;
  }
  return true;
}

/**
 * A sink that validates the rows of a CSV with `columns` (its header) into `validator`; the
 * reader calls it cell by cell, in column order, every record as wide as the header.
 */
export function validationSink(validator: DatasetValidator, columns: readonly string[], classification: boolean): CellSink {
  const at = validator.columnsAre(columns);
  const used = validator.usedColumns;
  const idAt = validator.idAt;
  const last = columns.length - 1;
  /** The used columns (k) each data column is, usually none or one. */
  const usesOf: number[][] = columns.map(() => []);
  at.forEach((c, k) => {
    if (c >= 0) usesOf[c]!.push(k);
  });
  /** Per data column: the one used column it is, NONE, or MANY (then see usesOf). */
  const onlyUse = Int32Array.from(usesOf, (uses) => (uses.length === 0 ? NONE : uses.length === 1 ? uses[0]! : MANY));
  /** Used columns the data lacks: missing in every row. */
  const absent = at.flatMap((c, k) => (c < 0 ? [k] : []));
  const modes = used.map((col) => (col.type === 'numeric' && !(col.role === 'label' && classification) ? Mode.Number : Mode.Text));
  const caches = used.map(() => new ByteTextCache(100_000));
  const roles = used.map((col) => col.role);
  const hasher = new RowHasher();
  let row = 0;
  // The id cell of the row, kept until its end: as bytes (valid while the reader is on the line) or text.
  let idBytes: Buffer | null = null;
  let idStart = 0;
  let idEnd = 0;
  let idAscii = true;
  let idText: string | null = null;

  const startRow = () => {
    row = validator.nextRow();
    for (const k of absent) validator.cell(k, null, row);
    idBytes = null;
    idText = null;
  };
  const endRow = () => {
    // Decoded only for a row a message will name.
    const id = !validator.wantsId ? null : idBytes ? cellText(idBytes, idStart, idEnd, idAscii) : idText;
    validator.rowDone(hasher.finish(), id);
  };

  /** Checks a cell of used column `k` given as bytes, decoding it only when a check needs its text. */
  const checkBytes = (k: number, bytes: Buffer, start: number, end: number, ascii: boolean, number: number) => {
    if (start === end) validator.cell(k, null, row);
    else if (modes[k] === Mode.Number && number === number) return;
    else if (modes[k] === Mode.Text) {
      const role = roles[k];
      // Past the distinct values a column counts, a feature's cell changes nothing and an id's only when blank.
      if (role !== 'label' && validator.distinctFull(k) && (role === 'feature' || (ascii && !blank(bytes, start, end)))) return;
      const cache = caches[k]!;
      const known = cache.known(bytes, start, end);
      // A categorical feature's value seen before changes no count: only labels and ids count each row.
      if (known !== null && role === 'feature') return;
      validator.cell(k, known ?? cache.add(bytes, start, end, ascii), row);
    } else validator.cell(k, cellText(bytes, start, end, ascii), row);
  };

  return {
    bytes(column, bytes, start, end, ascii, number) {
      if (column === 0) startRow();
      const empty = start === end;
      if (idAt < 0 || column === idAt) {
        if (empty) hasher.missing();
        else if (ascii) hasher.ascii(bytes, start, end);
        else hasher.text(cellText(bytes, start, end, false));
      }
      if (column === idAt && !empty) {
        idBytes = bytes;
        idStart = start;
        idEnd = end;
        idAscii = ascii;
      }
      // Most columns are used once or not at all: no loop for them.
      const only = onlyUse[column]!;
      if (only >= 0) checkBytes(only, bytes, start, end, ascii, number);
      else if (only === MANY) for (const k of usesOf[column]!) checkBytes(k, bytes, start, end, ascii, number);
      if (column === last) endRow();
    },
    text(column, cell) {
      if (column === 0) startRow();
      if (idAt < 0 || column === idAt) {
        if (cell === null) hasher.missing();
        else hasher.text(cell);
      }
      if (column === idAt) idText = cell;
      for (const k of usesOf[column]!) validator.cell(k, cell, row);
      if (column === last) endRow();
    },
  };
}
