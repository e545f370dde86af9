import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuplicateSink } from '../lib/validate-dataset';

/** Row hashes held in memory before they go to disk (8 bytes each: 8 MiB). */
const IN_MEMORY = 1 << 20;
/** Disk partitions, by the hash's top bits: each is sorted alone, so memory holds one. */
const PARTITIONS = 64;
/** 2^53 / PARTITIONS: the width of a partition's hash range. */
const PARTITION_WIDTH = 2 ** 53 / PARTITIONS;

/**
 * Counts hashes (of rows) seen before, in memory bounded whatever the number of rows: up to
 * {@link IN_MEMORY} hashes are held and sorted in memory; past that they are written to
 * {@link PARTITIONS} files by range, and each file is sorted and counted on its own at the end
 * (1e7 rows: 64 files of 1.2 MiB). Exact up to 53-bit hash collisions (about one in 2^53/n²:
 * one chance in 180 of one spurious duplicate at 1e7 rows).
 */
export class DuplicateCounter implements DuplicateSink {
  /** Grown as hashes come, up to IN_MEMORY: a small dataset does not pay for 8 MiB of zeroes. */
  private buffer = new Float64Array(1024);
  private size = 0;
  private dir: string | null = null;
  private files: number[] = [];

  add(hash: number): void {
    if (this.size === this.buffer.length) {
      const grown = new Float64Array(Math.min(IN_MEMORY, this.buffer.length * 4));
      grown.set(this.buffer);
      this.buffer = grown;
    }
    this.buffer[this.size++] = hash;
    if (this.size === IN_MEMORY) this.spill();
  }

  /** The number of hashes that repeat an earlier one; removes the files it wrote. */
  count(): number {
    try {
      if (!this.dir) return repeats(this.buffer.subarray(0, this.size).sort());
      this.spill();
      this.files.forEach((fd) => closeSync(fd));
      this.files = [];
      this.buffer = new Float64Array(0);
      let total = 0;
      for (let p = 0; p < PARTITIONS; p++) {
        const bytes = readFileSync(join(this.dir, `${p}`));
        total += repeats(new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8).slice().sort());
      }
      return total;
    } finally {
      this.dispose();
    }
  }

  /** Removes the spill files (also when validation stops early). */
  dispose(): void {
    this.files.forEach((fd) => closeSync(fd));
    this.files = [];
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = null;
  }

  /** Writes the held hashes to their partitions' files (synchronously: add() stays synchronous, and this is rare). */
  private spill(): void {
    if (!this.dir) {
      this.dir = mkdtempSync(join(tmpdir(), 'retrain-duplicates-'));
      for (let p = 0; p < PARTITIONS; p++) this.files.push(openSync(join(this.dir, `${p}`), 'a'));
    }
    const held = this.buffer.subarray(0, this.size).sort();
    // Sorted, so each partition is one contiguous run.
    let start = 0;
    while (start < held.length) {
      const p = Math.min(PARTITIONS - 1, Math.floor(held[start]! / PARTITION_WIDTH));
      let end = start;
      while (end < held.length && Math.min(PARTITIONS - 1, Math.floor(held[end]! / PARTITION_WIDTH)) === p) end++;
      const run = held.subarray(start, end);
      writeSync(this.files[p]!, new Uint8Array(run.buffer, run.byteOffset, run.byteLength));
      start = end;
    }
    this.size = 0;
  }
}

/** In sorted hashes, how many equal the one before them. */
function repeats(sorted: Float64Array): number {
  let n = 0;
  for (let i = 1; i < sorted.length; i++) if (sorted[i] === sorted[i - 1]) n++;
  return n;
}
