/**
 * Codes for byte strings, looked up without decoding them: a hash table over the bytes, each key
 * decoded to text once, when it is first seen. A categorical column of millions of cells read from
 * a file (lib/csv-column-reader.ts) then makes one string per distinct value instead of one per
 * cell. Pure: no I/O.
 */

/** The 32-bit FNV-1a offset basis and prime. */
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

export class ByteDictionary {
  /** The keys' bytes, one after the other; key k is `arena[starts[k], starts[k + 1])`. */
  private arena = new Uint8Array(1 << 12);
  private used = 0;
  private starts = new Int32Array(64);
  private hashes = new Int32Array(64);
  /** Open addressing: a slot holds a code + 1, 0 when empty. */
  private slots = new Int32Array(256);
  private count = 0;

  /** Keys so far. */
  get size(): number {
    return this.count;
  }

  /**
   * The code of the bytes `[start, end)`, or -1 when they are not a key yet (see {@link add}).
   * `hash` is {@link hashBytes} of the same bytes.
   */
  find(bytes: Uint8Array, start: number, end: number, hash: number): number {
    const mask = this.slots.length - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const entry = this.slots[slot]!;
      if (entry === 0) return -1;
      const code = entry - 1;
      if (this.hashes[code] === hash && this.equals(code, bytes, start, end)) return code;
    }
  }

  /** Adds bytes that {@link find} did not find, as the next code; returns it. */
  add(bytes: Uint8Array, start: number, end: number, hash: number): number {
    const code = this.count++;
    const length = end - start;
    if (this.used + length > this.arena.length) this.arena = grow(this.arena, this.used + length);
    this.arena.set(bytes.subarray(start, end), this.used);
    if (code + 1 >= this.starts.length) {
      this.starts = grow(this.starts, code + 2);
      this.hashes = grow(this.hashes, code + 2);
    }
    this.starts[code] = this.used;
    this.used += length;
    this.starts[code + 1] = this.used;
    this.hashes[code] = hash;
    // Half full at most, so probes stay short.
    if (this.count * 2 > this.slots.length) this.rehash();
    else this.place(code);
    return code;
  }

  private place(code: number): void {
    const mask = this.slots.length - 1;
    let slot = this.hashes[code]! & mask;
    while (this.slots[slot] !== 0) slot = (slot + 1) & mask;
    this.slots[slot] = code + 1;
  }

  private rehash(): void {
    this.slots = new Int32Array(this.slots.length * 2);
    for (let code = 0; code < this.count; code++) this.place(code);
  }

  private equals(code: number, bytes: Uint8Array, start: number, end: number): boolean {
    const from = this.starts[code]!;
    if (this.starts[code + 1]! - from !== end - start) return false;
    for (let i = start, j = from; i < end; i++, j++) if (bytes[i] !== this.arena[j]) return false;
    return true;
  }
}

/** FNV-1a of the bytes `[start, end)`, as a 32-bit integer. */
export function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let h = FNV_OFFSET;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i]!, FNV_PRIME);
  return h | 0;
}

function grow<T extends Uint8Array | Int32Array>(array: T, least: number): T {
  let length = array.length * 2;
  while (length < least) length *= 2;
  const grown = new (array.constructor as new (n: number) => T)(length);
  grown.set(array);
  return grown;
}

/** The text of byte strings (valid UTF-8), each decoded once: a column's values as they repeat. */
export class ByteTextCache {
  private readonly codes = new ByteDictionary();
  private readonly texts: string[] = [];

  /** @param capacity distinct values kept; past them, new values are decoded each time. */
  constructor(private readonly capacity: number) {}

  /** The text of the bytes if they were seen before, else null. */
  known(bytes: Uint8Array, start: number, end: number): string | null {
    const code = this.codes.find(bytes, start, end, hashBytes(bytes, start, end));
    return code >= 0 ? this.texts[code]! : null;
  }

  /** The text of bytes {@link known} did not know (`ascii`: every byte below 0x80), kept while there is room. */
  add(bytes: Uint8Array, start: number, end: number, ascii: boolean): string {
    const text = cellText(bytes, start, end, ascii);
    if (this.texts.length < this.capacity) {
      this.codes.add(bytes, start, end, hashBytes(bytes, start, end));
      this.texts.push(text);
    }
    return text;
  }

  /** The text of the bytes, decoded at most once while there is room. */
  textOf(bytes: Uint8Array, start: number, end: number, ascii: boolean): string {
    return this.known(bytes, start, end) ?? this.add(bytes, start, end, ascii);
  }
}

/**
 * The text of a cell's bytes (valid UTF-8; `ascii`: every byte below 0x80, read faster as
 * latin1). A leading U+FEFF is kept: it is part of the cell, not a byte order mark.
 */
export function cellText(bytes: Uint8Array, start: number, end: number, ascii = false): string {
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return buffer.toString(ascii ? 'latin1' : 'utf8', start, end);
}
