import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { forgetListingIndexes, readListingIndex, type ListingIndexSpec } from '../services/listing-index';
import { LocalStore } from '../store/local-store';
import type { Store } from '../store/store';

/*
 * The listing index against a real local store: what each read had to read (`derived`) and
 * whether it wrote the index (`wrote`), and that its answer is always the objects listed now.
 */

const PREFIX = 'things/m/';
const INDEX = 'indexes/m/things.json';

interface Thing {
  n: number;
}

/** A store that counts the objects read under the prefix. */
function counted(store: Store): { store: Store; reads: () => number } {
  let reads = 0;
  const wrapped: Store = Object.assign(Object.create(store) as Store, {
    get: async (key: string) => {
      if (key.startsWith(PREFIX)) reads++;
      return store.get(key);
    },
  });
  return { store: wrapped, reads: () => reads };
}

function spec(overrides: Partial<ListingIndexSpec<Thing>> = {}): ListingIndexSpec<Thing> {
  return {
    prefix: PREFIX,
    accept: (k) => k.endsWith('.json'),
    indexKey: INDEX,
    format: 1,
    derive: (_key, body) => {
      const v = JSON.parse(body.toString('utf8')) as { n: number; skip?: boolean };
      return v.skip ? null : { n: v.n };
    },
    ...overrides,
  };
}

function newStore(): LocalStore {
  return new LocalStore(mkdtempSync(join(tmpdir(), 'retrain-listing-index-')));
}

async function putThings(store: Store, ns: number[]): Promise<void> {
  for (const n of ns) await store.put(`${PREFIX}${String(n).padStart(3, '0')}.json`, JSON.stringify({ n }));
}

const ns = (entries: Map<string, Thing>): number[] => [...entries.values()].map((e) => e.n);

describe('readListingIndex', () => {
  it('derives every object on the first read and writes the index', async () => {
    const store = newStore();
    await putThings(store, [3, 1, 2]);
    // Not an object to index: the spec accepts only .json keys.
    await store.put(`${PREFIX}notes.txt`, 'not json');
    const read = await readListingIndex(store, spec());
    expect(read.derived).toBe(3);
    expect(read.wrote).toBe(true);
    // In key order.
    expect([...read.entries.keys()]).toEqual([`${PREFIX}001.json`, `${PREFIX}002.json`, `${PREFIX}003.json`]);
    expect(ns(read.entries)).toEqual([1, 2, 3]);
    const file = JSON.parse((await store.get(INDEX))!.toString('utf8'));
    expect(file).toEqual({
      format: 1,
      entries: { [`${PREFIX}001.json`]: { n: 1 }, [`${PREFIX}002.json`]: { n: 2 }, [`${PREFIX}003.json`]: { n: 3 } },
    });
  });

  it('reads no object on a second read in the same process', async () => {
    const base = newStore();
    await putThings(base, [1, 2, 3, 4]);
    const { store, reads } = counted(base);
    await readListingIndex(store, spec());
    expect(reads()).toBe(4);
    const again = await readListingIndex(store, spec());
    expect(again).toMatchObject({ derived: 0, wrote: false });
    expect(ns(again.entries)).toEqual([1, 2, 3, 4]);
    expect(reads()).toBe(4);
  });

  it('in a fresh process, reads the stored index and derives only the objects added since', async () => {
    const base = newStore();
    await putThings(base, [1, 2, 3]);
    await readListingIndex(base, spec());
    await putThings(base, [4, 5]);
    forgetListingIndexes(base);
    const { store, reads } = counted(base);
    // A new wrapper is another store to the per-process cache too; forgetting covers the same object.
    const read = await readListingIndex(store, spec());
    expect(read.derived).toBe(2);
    expect(read.wrote).toBe(true);
    expect(reads()).toBe(2);
    expect(ns(read.entries)).toEqual([1, 2, 3, 4, 5]);
    // The rewritten index has all five: the next fresh reader derives nothing.
    forgetListingIndexes(store);
    const fresh = counted(base);
    forgetListingIndexes(base);
    const next = await readListingIndex(fresh.store, spec());
    expect(next).toMatchObject({ derived: 0, wrote: false });
    expect(fresh.reads()).toBe(0);
  });

  it('forgetting one store re-reads the stored index, not the objects', async () => {
    const base = newStore();
    await putThings(base, [1, 2]);
    const { store, reads } = counted(base);
    await readListingIndex(store, spec());
    forgetListingIndexes(store);
    const read = await readListingIndex(store, spec());
    expect(read).toMatchObject({ derived: 0, wrote: false });
    expect(reads()).toBe(2);
  });

  it('rebuilds a corrupt index', async () => {
    const store = newStore();
    await putThings(store, [1, 2]);
    await store.put(INDEX, '{"format": 1, "entries": {');
    const read = await readListingIndex(store, spec());
    expect(read).toMatchObject({ derived: 2, wrote: true });
    expect(ns(read.entries)).toEqual([1, 2]);
    expect(JSON.parse((await store.get(INDEX))!.toString('utf8')).format).toBe(1);
  });

  it('rebuilds an index without entries', async () => {
    const store = newStore();
    await putThings(store, [1]);
    await store.put(INDEX, JSON.stringify({ format: 1 }));
    expect(await readListingIndex(store, spec())).toMatchObject({ derived: 1, wrote: true });
  });

  it('rebuilds an index of another format, and the stale entries do not survive', async () => {
    const store = newStore();
    await putThings(store, [1, 2]);
    // Format 0 said something else about the same keys.
    await store.put(
      INDEX,
      JSON.stringify({ format: 0, entries: { [`${PREFIX}001.json`]: { n: 100 }, [`${PREFIX}002.json`]: { n: 200 } } }),
    );
    const read = await readListingIndex(store, spec());
    expect(read).toMatchObject({ derived: 2, wrote: true });
    expect(ns(read.entries)).toEqual([1, 2]);
    expect(JSON.parse((await store.get(INDEX))!.toString('utf8')).format).toBe(1);
  });

  it('rebuilds when the format is bumped within the same process', async () => {
    const store = newStore();
    await putThings(store, [1, 2]);
    await readListingIndex(store, spec());
    const bumped = await readListingIndex(
      store,
      spec({ format: 2, derive: (_k, body) => ({ n: 10 * JSON.parse(body.toString('utf8')).n }) }),
    );
    expect(bumped).toMatchObject({ derived: 2, wrote: true });
    expect(ns(bumped.entries)).toEqual([10, 20]);
  });

  it('leaves out objects the derive maps to null, and does not derive them again', async () => {
    const base = newStore();
    await putThings(base, [1, 2]);
    await base.put(`${PREFIX}005.json`, JSON.stringify({ n: 5, skip: true }));
    const { store, reads } = counted(base);
    const read = await readListingIndex(store, spec());
    expect(read.derived).toBe(3);
    expect(ns(read.entries)).toEqual([1, 2]);
    expect(read.entries.has(`${PREFIX}005.json`)).toBe(false);
    // Remembered as null, in the process and in the stored index.
    expect(await readListingIndex(store, spec())).toMatchObject({ derived: 0 });
    forgetListingIndexes(store);
    expect(await readListingIndex(store, spec())).toMatchObject({ derived: 0 });
    expect(reads()).toBe(3);
    expect(JSON.parse((await base.get(INDEX))!.toString('utf8')).entries[`${PREFIX}005.json`]).toBeNull();
  });

  it('does not answer objects removed after indexing', async () => {
    const store = newStore();
    await putThings(store, [1, 2, 3]);
    await readListingIndex(store, spec());
    await store.delete(`${PREFIX}002.json`);
    const warm = await readListingIndex(store, spec());
    expect(ns(warm.entries)).toEqual([1, 3]);
    expect(warm.derived).toBe(0);
    forgetListingIndexes(store);
    const cold = await readListingIndex(store, spec());
    expect(ns(cold.entries)).toEqual([1, 3]);
  });

  it('does not index the index itself when it lies under the prefix', async () => {
    const store = newStore();
    await putThings(store, [1]);
    const inside = spec({ indexKey: `${PREFIX}index.json` });
    expect(await readListingIndex(store, inside)).toMatchObject({ derived: 1, wrote: true });
    const again = await readListingIndex(store, inside);
    expect(again.derived).toBe(0);
    expect([...again.entries.keys()]).toEqual([`${PREFIX}001.json`]);
  });

  it('shares one refresh between concurrent calls', async () => {
    const base = newStore();
    await putThings(base, [1, 2, 3]);
    const { store, reads } = counted(base);
    let lists = 0;
    const listing: Store = Object.assign(Object.create(store) as Store, {
      list: async (prefix: string) => {
        lists++;
        return store.list(prefix);
      },
    });
    const [a, b, c] = await Promise.all([
      readListingIndex(listing, spec()),
      readListingIndex(listing, spec()),
      readListingIndex(listing, spec()),
    ]);
    expect(a).toBe(b);
    expect(b).toBe(c);
    expect(a.derived).toBe(3);
    expect(reads()).toBe(3);
    expect(lists).toBe(1);
    // Once it settled, the next call refreshes again (lists again, derives nothing).
    const later = await readListingIndex(listing, spec());
    expect(later).not.toBe(a);
    expect(later.derived).toBe(0);
    expect(lists).toBe(2);
  });

  it('still answers when the index cannot be written', async () => {
    const base = newStore();
    await putThings(base, [1, 2]);
    const readOnly: Store = Object.assign(Object.create(base) as Store, {
      put: async () => {
        throw new Error('AccessDenied');
      },
    });
    const read = await readListingIndex(readOnly, spec());
    expect(read).toMatchObject({ derived: 2, wrote: false });
    expect(ns(read.entries)).toEqual([1, 2]);
    expect(await base.get(INDEX)).toBeNull();
    // A fresh process derives them again, since nothing was stored.
    forgetListingIndexes(readOnly);
    expect(await readListingIndex(readOnly, spec())).toMatchObject({ derived: 2, wrote: false });
  });

  it('answers nothing for an empty prefix and writes no index', async () => {
    const store = newStore();
    const read = await readListingIndex(store, spec());
    expect(read).toMatchObject({ derived: 0, wrote: false });
    expect(read.entries.size).toBe(0);
    expect(await store.get(INDEX)).toBeNull();
  });
});
