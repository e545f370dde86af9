/**
 * A fast, seeded, 53-bit string hash (cyrb53's construction: two 32-bit multiply-xorshift
 * lanes). Used per row, where a cryptographic hash costs too much at millions of rows: to place
 * a row in the train or holdout split and to spot duplicate rows without keeping them. Not for
 * security; the same string and seed give the same number on every machine.
 */
export function hash53(text: string, seed = 0): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  return mix(h1, h2);
}

/** 2^53: {@link hash53} / this is uniform in [0, 1). */
export const HASH53_RANGE = 9007199254740992;

/**
 * The cells of a row as one string for hashing: separators no cell text contains in practice
 * (NUL between cells, SOH for a missing cell), and trailing missing cells dropped, so a row of
 * JSON lines that lacks a key later lines add hashes like the same row with that key null.
 */
export function rowKey(row: readonly (string | null)[], indexes?: readonly number[]): string {
  const cells = indexes ? indexes.map((i) => row[i] ?? null) : [...row];
  while (cells.length > 0 && (cells[cells.length - 1] ?? null) === null) cells.pop();
  return cells.map((c) => (c === null ? '\u0001' : c)).join('\u0000');
}

/**
 * {@link hash53} of {@link rowKey}(row, indexes), without building the key: the same number, with
 * no string allocated per row (at millions of rows, the garbage of the keys costs more than the hashing).
 */
export function hashRow(row: readonly (string | null)[], indexes: readonly number[] | null, seed = 0): number {
  let end = indexes ? indexes.length : row.length;
  while (end > 0 && (row[indexes ? indexes[end - 1]! : end - 1] ?? null) === null) end--;
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let k = 0; k < end; k++) {
    if (k > 0) {
      h1 = Math.imul(h1, 2654435761);
      h2 = Math.imul(h2, 1597334677);
    }
    const cell = row[indexes ? indexes[k]! : k] ?? null;
    if (cell === null) {
      h1 = Math.imul(h1 ^ 1, 2654435761);
      h2 = Math.imul(h2 ^ 1, 1597334677);
      continue;
    }
    for (let i = 0; i < cell.length; i++) {
      const ch = cell.charCodeAt(i);
      h1 = Math.imul(h1 ^ ch, 2654435761);
      h2 = Math.imul(h2 ^ ch, 1597334677);
    }
  }
  return mix(h1, h2);
}

/**
 * {@link hashRow} fed one cell at a time (cells read from bytes): text, ASCII bytes or missing, in
 * column order; {@link finish} gives the same number hashRow gives the row, and starts the next.
 */
export class RowHasher {
  private h1 = 0;
  private h2 = 0;
  private cells = 0;
  /** Missing cells not hashed yet: trailing ones are dropped, as hashRow drops them. */
  private missingCells = 0;

  constructor(private readonly seed = 0) {
    this.reset();
  }

  /** A missing cell. */
  missing(): void {
    this.missingCells++;
  }

  /** A present cell's text. */
  text(cell: string): void {
    this.startCell();
    let { h1, h2 } = this;
    for (let i = 0; i < cell.length; i++) {
      const ch = cell.charCodeAt(i);
      h1 = Math.imul(h1 ^ ch, 2654435761);
      h2 = Math.imul(h2 ^ ch, 1597334677);
    }
    this.h1 = h1;
    this.h2 = h2;
  }

  /** A present cell as the bytes `[start, end)` of ASCII text (each byte its character's code). */
  ascii(bytes: Uint8Array, start: number, end: number): void {
    this.startCell();
    let { h1, h2 } = this;
    for (let i = start; i < end; i++) {
      const ch = bytes[i]!;
      h1 = Math.imul(h1 ^ ch, 2654435761);
      h2 = Math.imul(h2 ^ ch, 1597334677);
    }
    this.h1 = h1;
    this.h2 = h2;
  }

  /** The row's hash; the hasher is ready for the next row. */
  finish(): number {
    const hash = mix(this.h1, this.h2);
    this.reset();
    return hash;
  }

  private reset(): void {
    this.h1 = 0xdeadbeef ^ this.seed;
    this.h2 = 0x41c6ce57 ^ this.seed;
    this.cells = 0;
    this.missingCells = 0;
  }

  /** The separator before a cell, after the missing cells that come before it. */
  private startCell(): void {
    for (; this.missingCells > 0; this.missingCells--) {
      this.separate();
      this.h1 = Math.imul(this.h1 ^ 1, 2654435761);
      this.h2 = Math.imul(this.h2 ^ 1, 1597334677);
    }
    this.separate();
  }

  private separate(): void {
    if (this.cells++ > 0) {
      this.h1 = Math.imul(this.h1, 2654435761);
      this.h2 = Math.imul(this.h2, 1597334677);
    }
  }
}

/** The final avalanche of both lanes, as 53 bits. */
function mix(h1: number, h2: number): number {
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}
