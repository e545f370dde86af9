import type { Store } from '../store/store';
import { forEachInOrder } from './log-batches';

/**
 * A precomputed summary of many immutable objects under one prefix (every version of a model,
 * every audit event, every drift report): one small entry per object, kept in one index object
 * beside them. A reader lists the prefix, reads only the objects the index does not have yet,
 * and writes the index back when it learned something. So the first read of a long history pays
 * once, and every later one reads one index and a listing instead of ten thousand objects.
 *
 * Sound because the objects are never rewritten (content-addressed or id-keyed, written once):
 * an entry derived once stays true. Two readers racing to write the index both write a correct
 * one; the smaller may win, and the next reader derives the difference again.
 */
export interface ListingIndexSpec<T> {
  /** Where the objects are. */
  prefix: string;
  /** Which listed keys are objects to index (the default: every key). */
  accept?: (key: string) => boolean;
  /** Where the index is kept. */
  indexKey: string;
  /** Bump when `derive` changes: an index of another format is rebuilt from the objects. */
  format: number;
  /** The entry of one object; null leaves it out (an object of another kind). */
  derive: (key: string, body: Buffer) => T | null;
}

interface IndexFile<T> {
  format: number;
  entries: Record<string, T | null>;
}

/** Entries known in this process, per store and index: a warm read lists the prefix and nothing more. */
const known = new WeakMap<Store, Map<string, { format: number; entries: Map<string, unknown> }>>();
/** One refresh per index at a time: concurrent page loads share it. */
const inFlight = new WeakMap<Store, Map<string, Promise<unknown>>>();

/** What a read of an index did: how many objects it had to read, and whether it wrote the index. */
export interface IndexRead<E> {
  /** Entries by object key, in key order. */
  entries: Map<string, E>;
  /** Objects read because the index did not have them. */
  derived: number;
  wrote: boolean;
}

/** The entries of every object under the prefix, reading only what the index lacks. */
export async function readListingIndex<E>(store: Store, spec: ListingIndexSpec<E>): Promise<IndexRead<E>> {
  let running = inFlight.get(store);
  if (!running) inFlight.set(store, (running = new Map()));
  const pending = running.get(spec.indexKey) as Promise<IndexRead<E>> | undefined;
  if (pending) return pending;
  const refresh = refreshIndex(store, spec).finally(() => running.delete(spec.indexKey));
  running.set(spec.indexKey, refresh);
  return refresh;
}

async function refreshIndex<E>(store: Store, spec: ListingIndexSpec<E>): Promise<IndexRead<E>> {
  let cache = known.get(store);
  if (!cache) known.set(store, (cache = new Map()));
  let memo = cache.get(spec.indexKey);
  if (!memo || memo.format !== spec.format) {
    memo = { format: spec.format, entries: new Map(Object.entries((await readIndexFile<E>(store, spec))?.entries ?? {})) };
    cache.set(spec.indexKey, memo);
  }
  const listed = (await store.list(spec.prefix)).filter((k) => k !== spec.indexKey && (spec.accept?.(k) ?? true));
  const missing = listed.filter((k) => !memo.entries.has(k));
  let derived = 0;
  await forEachInOrder(
    missing,
    (key) => store.get(key),
    (key, body) => {
      // Gone between the listing and the read: left out, as if listed a moment later.
      if (!body) return;
      memo.entries.set(key, spec.derive(key, body));
      derived++;
    },
  );
  let wrote = false;
  if (derived > 0) {
    const file: IndexFile<E> = { format: spec.format, entries: Object.fromEntries(memo.entries) as Record<string, E | null> };
    // Best effort: a reader without write access (a read-only S3 role) still gets its answer, only slower next time.
    wrote = await store.put(spec.indexKey, JSON.stringify(file)).then(
      () => true,
      () => false,
    );
  }
  const entries = new Map<string, E>();
  for (const key of listed) {
    const entry = memo.entries.get(key) as E | null | undefined;
    if (entry !== null && entry !== undefined) entries.set(key, entry);
  }
  return { entries, derived, wrote };
}

/** The stored index, or null when there is none, it is of another format, or it does not parse (then it is rebuilt). */
async function readIndexFile<E>(store: Store, spec: ListingIndexSpec<E>): Promise<IndexFile<E> | null> {
  const body = await store.get(spec.indexKey);
  if (!body) return null;
  try {
    const file = JSON.parse(body.toString('utf8')) as IndexFile<E>;
    return file.format === spec.format && file.entries && typeof file.entries === 'object' ? file : null;
  } catch {
    return null;
  }
}

/** Forgets what this process knows of a store's indexes (tests that rewrite a store in place). */
export function forgetListingIndexes(store: Store): void {
  known.delete(store);
}
