import { InvalidInputError } from '../lib/errors';
import type { Store } from '../store/store';

/**
 * Reading the JSON-lines logs kept in batch files (the prediction log, the label log): list the
 * partitions of a time range, fetch their batch files a few ahead, and visit their lines, counting
 * the invalid ones instead of dropping them silently.
 */

/** Batch files fetched ahead of the one being parsed (they are small: one batch each). */
const READ_AHEAD = 8;

/** Refuses a time range that is not a range (a NaN end, or from after to). */
export function checkRange(from: Date, to: Date, what: string, model: string): void {
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()) || from > to) {
    throw new InvalidInputError(`${what} of ${model} must have from <= to, got ${String(from)} .. ${String(to)}`, { model });
  }
}

/** Lines that are not valid: how many, and what is wrong with the first (`<key>:<line>: …`). */
export class InvalidLines {
  count = 0;
  first: string | undefined;

  add(why: string): void {
    this.count++;
    this.first ??= why;
  }

  /** As the readers report it: `invalidLines`, and `firstInvalid` when there was one. */
  summary(): { invalidLines: number; firstInvalid?: string } {
    return { invalidLines: this.count, ...(this.first ? { firstInvalid: this.first } : {}) };
  }
}

/**
 * Visits every non-blank line of the batch files under `prefixes` (listed in the prefixes'
 * order, each listing sorted), one file in memory at a time while the next few are fetched;
 * `afterFile` is told the files read so far after each one (a long read heartbeats there).
 * Returns the number of files read (a file removed since it was listed is skipped).
 */
export async function forEachLogLine(
  store: Store,
  prefixes: readonly string[],
  visit: (text: string, key: string, lineNumber: number) => void,
  afterFile: (filesRead: number) => void = () => undefined,
): Promise<number> {
  const listed: string[][] = [];
  await forEachInOrder(
    prefixes,
    (p) => store.list(p),
    (_p, keys) => void listed.push(keys),
  );
  let files = 0;
  await forEachInOrder(
    listed.flat(),
    (key) => store.get(key),
    (key, body) => {
      if (!body) return;
      files++;
      forEachLine(body, (text, lineNumber) => visit(text, key, lineNumber));
      afterFile(files);
    },
  );
  return files;
}

/** Calls `visit` with each non-blank line of a JSON-lines buffer and its 1-based number. */
export function forEachLine(body: Buffer, visit: (text: string, lineNumber: number) => void): void {
  let lineNumber = 0;
  for (let start = 0; start < body.length;) {
    let end = body.indexOf(10, start);
    if (end === -1) end = body.length;
    lineNumber++;
    const text = body.toString('utf8', start, end).trim();
    start = end + 1;
    if (text) visit(text, lineNumber);
  }
}

/**
 * Fetches ahead (at most READ_AHEAD at a time) and consumes the results in the items' order,
 * so reading overlaps parsing without holding more than a few files. `stop` ends early.
 */
export async function forEachInOrder<T, R>(
  items: readonly T[],
  fetch: (item: T) => Promise<R>,
  consume: (item: T, result: R) => void,
  stop: () => boolean = () => false,
): Promise<void> {
  const inFlight: Promise<R>[] = [];
  let next = 0;
  for (let i = 0; i < items.length && !stop(); i++) {
    while (next < items.length && inFlight.length < READ_AHEAD) {
      const p = fetch(items[next++]);
      p.catch(() => undefined); // awaited below; this only keeps an early failure from being "unhandled"
      inFlight.push(p);
    }
    consume(items[i], await inFlight.shift()!);
  }
}
