/**
 * Columns kept in files (see lib/column-storage.ts): each column buffers a block of values and
 * writes it to its own file when the block is full, so reading a file of any size holds one block
 * per column; a column is read back whole when it is tested, one at a time. The files live in a
 * temporary folder removed by {@link ColumnFiles.remove}.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ColumnStorage, StoredArray, StoredColumn } from '../lib/column-storage';

/** Values buffered per column before a write: 512 KiB of doubles. */
const BLOCK = 1 << 16;

class FileColumn<T extends StoredArray> implements StoredColumn<T> {
  private block: T;
  private fill = 0;
  private fd: number | null = null;
  private written = 0;
  length = 0;
  constructor(
    private readonly path: string,
    private readonly make: (n: number) => T,
  ) {
    this.block = make(BLOCK);
  }
  push(value: number): void {
    this.block[this.fill++] = value;
    this.length++;
    if (this.fill === BLOCK) this.flush();
  }
  private flush(): void {
    this.fd ??= openSync(this.path, 'w+');
    writeSync(this.fd, new Uint8Array(this.block.buffer, 0, this.fill * this.block.BYTES_PER_ELEMENT));
    this.written += this.fill;
    this.fill = 0;
  }
  values(): T {
    const out = this.make(this.length);
    if (this.fd !== null) {
      const bytes = new Uint8Array(out.buffer, 0, this.written * out.BYTES_PER_ELEMENT);
      for (let at = 0; at < bytes.length;) {
        const n = readSync(this.fd, bytes, at, bytes.length - at, at);
        if (n === 0) throw new Error(`column file ${this.path} ended after ${at} of ${bytes.length} bytes`);
        at += n;
      }
    }
    out.set(this.block.subarray(0, this.fill), this.written);
    return out;
  }
  release(): void {
    if (this.fd !== null) {
      closeSync(this.fd);
      unlinkSync(this.path);
      this.fd = null;
    }
    this.block = this.make(0);
    this.fill = 0;
  }
}

/** A temporary folder of column files. */
export class ColumnFiles implements ColumnStorage {
  private readonly dir = mkdtempSync(join(tmpdir(), 'retrain-columns-'));
  private readonly columns: FileColumn<StoredArray>[] = [];
  float64(): StoredColumn<Float64Array> {
    return this.add(new FileColumn(join(this.dir, `${this.columns.length}.f64`), (n) => new Float64Array(n)));
  }
  int32(): StoredColumn<Int32Array> {
    return this.add(new FileColumn(join(this.dir, `${this.columns.length}.i32`), (n) => new Int32Array(n)));
  }
  private add<T extends StoredArray>(column: FileColumn<T>): FileColumn<T> {
    this.columns.push(column as unknown as FileColumn<StoredArray>);
    return column;
  }
  /** Closes and removes every column file. */
  remove(): void {
    for (const column of this.columns) column.release();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
