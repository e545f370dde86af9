import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, it, expect } from 'vitest';
import type { Store } from '../../store/store';

const INVALID_KEYS = ['../x', '/a', 'a//b', '', 'a/', './a', 'a/../b', 'a/.'];

/** Reads a counter document, adds one and writes it back by compare-and-swap, retrying on conflict. */
async function increment(store: Store, key: string): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const current = await store.getWithTag(key);
    const value = current ? (JSON.parse(current.body.toString()) as { n: number }).n : 0;
    if (await store.putIfMatch(key, JSON.stringify({ n: value + 1 }), current?.tag ?? null)) return attempt;
    if (attempt > 1_000) throw new Error('increment never won the compare-and-swap');
  }
}

/**
 * The behaviour every Store backend must have. Call it once per backend with a factory that
 * gives an empty store (a fresh directory, a fresh bucket prefix) each time it is called.
 */
export function storeContract(name: string, makeStore: () => Promise<Store>): void {
  describe(`${name}: Store contract`, () => {
    let store: Store;
    const scratch = mkdtempSync(join(tmpdir(), 'retrain-store-contract-'));
    afterAll(() => rmSync(scratch, { recursive: true, force: true }));
    beforeEach(async () => {
      store = await makeStore();
    });

    it('gives null for a missing key', async () => {
      expect(await store.get('nothing/here.json')).toBeNull();
      expect(await store.getWithTag('nothing/here.json')).toBeNull();
      expect(await store.exists('nothing/here.json')).toBe(false);
    });

    it('returns what was put, byte for byte', async () => {
      await store.put('a/text.txt', 'héllo\n');
      const binary = Buffer.from([0, 1, 2, 254, 255, 0]);
      await store.put('a/binary.bin', binary);
      expect((await store.get('a/text.txt'))?.toString('utf8')).toBe('héllo\n');
      expect(await store.get('a/binary.bin')).toEqual(binary);
      expect(await store.exists('a/text.txt')).toBe(true);
      await store.put('empty', '');
      expect(await store.get('empty')).toEqual(Buffer.alloc(0));
    });

    it('replaces an object on put, and changes its tag', async () => {
      await store.put('doc.json', '{"v":1}');
      const first = await store.getWithTag('doc.json');
      await store.put('doc.json', '{"v":2}');
      const second = await store.getWithTag('doc.json');
      expect(second?.body.toString()).toBe('{"v":2}');
      expect(typeof first?.tag).toBe('string');
      expect(second?.tag).not.toBe(first?.tag);
    });

    it('does not treat a prefix of other keys as an object', async () => {
      await store.put('folder/inner.json', '{}');
      expect(await store.get('folder')).toBeNull();
      expect(await store.getWithTag('folder')).toBeNull();
      expect(await store.exists('folder')).toBe(false);
    });

    it('creates with putIfAbsent once: true, then false with the content unchanged', async () => {
      expect(await store.putIfAbsent('once.json', 'first')).toBe(true);
      expect(await store.putIfAbsent('once.json', 'second')).toBe(false);
      expect((await store.get('once.json'))?.toString()).toBe('first');
    });

    it('lets exactly one of many concurrent putIfAbsent calls win', async () => {
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => store.putIfAbsent('race.txt', `writer ${i}`)));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect((await store.get('race.txt'))?.toString()).toBe(`writer ${results.indexOf(true)}`);
    });

    it('putIfMatch with a null tag creates only if absent', async () => {
      expect(await store.putIfMatch('pointer.json', 'v1', null)).toBe(true);
      expect((await store.get('pointer.json'))?.toString()).toBe('v1');
      expect(await store.putIfMatch('pointer.json', 'v2', null)).toBe(false);
      expect((await store.get('pointer.json'))?.toString()).toBe('v1');
    });

    it('putIfMatch replaces with the current tag and refuses a stale one', async () => {
      await store.put('pointer.json', 'v1');
      const v1 = await store.getWithTag('pointer.json');
      expect(await store.putIfMatch('pointer.json', 'v2', v1!.tag)).toBe(true);
      expect((await store.get('pointer.json'))?.toString()).toBe('v2');
      // Someone else wrote v2 after we read v1: our write must not land.
      expect(await store.putIfMatch('pointer.json', 'v3', v1!.tag)).toBe(false);
      expect((await store.get('pointer.json'))?.toString()).toBe('v2');
    });

    it('putIfMatch with a tag refuses when the object does not exist', async () => {
      await store.put('gone.json', 'x');
      const tag = (await store.getWithTag('gone.json'))!.tag;
      expect(await store.putIfMatch('other.json', 'y', tag)).toBe(false);
      expect(await store.get('other.json')).toBeNull();
    });

    it('loses no update when 20 read-modify-write loops increment a counter at once', async () => {
      const attempts = await Promise.all(Array.from({ length: 20 }, () => increment(store, 'counters/c.json')));
      expect(JSON.parse((await store.get('counters/c.json'))!.toString())).toEqual({ n: 20 });
      expect(attempts.every((a) => a >= 1)).toBe(true);
    });

    it('deletes an object, and deleting a missing one is not an error', async () => {
      await store.put('scratch/a.json', '1');
      await store.put('scratch/b.json', '2');
      await store.delete('scratch/a.json');
      await store.delete('scratch/a.json');
      await store.delete('scratch/never.json');
      expect(await store.get('scratch/a.json')).toBeNull();
      expect(await store.list('scratch/')).toEqual(['scratch/b.json']);
    });

    it('lists keys under a prefix, sorted', async () => {
      for (const key of [
        'reg/m/versions/v3.json',
        'reg/m/versions/v1.json',
        'reg/m/champion.json',
        'reg/m2/champion.json',
        'regional/x',
        'other/y',
      ]) {
        await store.put(key, key);
      }
      expect(await store.list('reg/m/versions/')).toEqual(['reg/m/versions/v1.json', 'reg/m/versions/v3.json']);
      expect(await store.list('reg/m/')).toEqual(['reg/m/champion.json', 'reg/m/versions/v1.json', 'reg/m/versions/v3.json']);
      expect(await store.list('missing/')).toEqual([]);
      expect(await store.list('')).toEqual([
        'other/y',
        'reg/m/champion.json',
        'reg/m/versions/v1.json',
        'reg/m/versions/v3.json',
        'reg/m2/champion.json',
        'regional/x',
      ]);
    });

    it('lists by string prefix, as S3 does, not only by whole folder', async () => {
      for (const key of ['reg/m/champion.json', 'reg/m2/champion.json', 'regional/x', 'datasets/m/abc123.csv', 'datasets/m/abd999.csv']) {
        await store.put(key, key);
      }
      expect(await store.list('reg')).toEqual(['reg/m/champion.json', 'reg/m2/champion.json', 'regional/x']);
      expect(await store.list('reg/m')).toEqual(['reg/m/champion.json', 'reg/m2/champion.json']);
      expect(await store.list('datasets/m/abc')).toEqual(['datasets/m/abc123.csv']);
    });

    it('never lists temporary or lock files, even while writes are in flight', async () => {
      const writes = Promise.all([
        ...Array.from({ length: 10 }, () => increment(store, 'busy/counter.json')),
        ...Array.from({ length: 10 }, (_, i) => store.put(`busy/doc-${i}.json`, randomBytes(64 * 1024))),
        ...Array.from({ length: 5 }, () => store.putIfAbsent('busy/once.json', 'x')),
      ]);
      const allowed = new Set(['busy/counter.json', 'busy/once.json', ...Array.from({ length: 10 }, (_, i) => `busy/doc-${i}.json`)]);
      let done = false;
      void writes.finally(() => (done = true));
      do {
        for (const key of await store.list('busy/')) expect(allowed.has(key), key).toBe(true);
      } while (!done);
      await writes;
      expect(new Set(await store.list(''))).toEqual(allowed);
    });

    it('treats a key ending in .lock as an ordinary object', async () => {
      await store.put('deps/poetry.lock', 'pinned');
      expect(await store.putIfMatch('deps/poetry', 'doc', null)).toBe(true);
      expect((await store.get('deps/poetry.lock'))?.toString()).toBe('pinned');
      expect(await store.list('deps/')).toEqual(['deps/poetry', 'deps/poetry.lock']);
    });

    it('never shows a half-written object to a reader', async () => {
      const a = Buffer.alloc(256 * 1024, 'a');
      const b = Buffer.alloc(256 * 1024, 'b');
      await store.put('atomic.bin', a);
      const writer = (async () => {
        for (let i = 0; i < 20; i++) await store.put('atomic.bin', i % 2 ? a : b);
      })();
      let done = false;
      void writer.finally(() => (done = true));
      do {
        const body = await store.get('atomic.bin');
        expect(body?.equals(a) || body?.equals(b)).toBe(true);
      } while (!done);
      await writer;
    });

    it('round-trips a 5 MB file through upload and download', async () => {
      const bytes = randomBytes(5 * 1024 * 1024);
      const source = join(scratch, `upload-${Date.now()}.bin`);
      await writeFile(source, bytes);
      await store.upload(source, 'models/m/v1/model.bin');
      expect(await store.exists('models/m/v1/model.bin')).toBe(true);
      expect((await store.get('models/m/v1/model.bin'))?.equals(bytes)).toBe(true);
      const target = join(scratch, `nested-${Date.now()}`, 'dir', 'model.bin');
      await store.download('models/m/v1/model.bin', target);
      expect((await readFile(target)).equals(bytes)).toBe(true);
      expect(await store.list('models/')).toEqual(['models/m/v1/model.bin']);
    });

    it('fails to download a missing key and leaves no file behind', async () => {
      const target = join(scratch, `missing-${Date.now()}.bin`);
      await expect(store.download('models/none.bin', target)).rejects.toThrow();
      expect(existsSync(target)).toBe(false);
    });

    it('rejects keys that could escape the store or mean two things', async () => {
      const source = join(scratch, 'small.txt');
      await writeFile(source, 'x');
      for (const key of INVALID_KEYS) {
        await expect(store.get(key), key).rejects.toThrow(/invalid store key/);
        await expect(store.getWithTag(key), key).rejects.toThrow(/invalid store key/);
        await expect(store.put(key, 'x'), key).rejects.toThrow(/invalid store key/);
        await expect(store.putIfAbsent(key, 'x'), key).rejects.toThrow(/invalid store key/);
        await expect(store.putIfMatch(key, 'x', null), key).rejects.toThrow(/invalid store key/);
        await expect(store.exists(key), key).rejects.toThrow(/invalid store key/);
        await expect(store.upload(source, key), key).rejects.toThrow(/invalid store key/);
        await expect(store.download(key, join(scratch, 'out.txt')), key).rejects.toThrow(/invalid store key/);
      }
      expect(await store.list('')).toEqual([]);
    });

    it('rejects a list prefix that could escape the store', async () => {
      for (const prefix of ['../', '/', '/etc', 'a/../../']) {
        await expect(store.list(prefix), prefix).rejects.toThrow(/invalid store prefix/);
      }
    });
  });
}
