import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, it, expect } from 'vitest';
import { LocalStore } from '../store/local-store';
import { storeContract } from './helpers/store-contract';

const roots: string[] = [];
afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

async function freshLocalStore(): Promise<LocalStore> {
  const root = mkdtempSync(join(tmpdir(), 'retrain-local-store-'));
  roots.push(root);
  return new LocalStore(root);
}

storeContract('LocalStore', freshLocalStore);

describe('LocalStore specifics', () => {
  it('reports its directory as its location', async () => {
    const store = await freshLocalStore();
    expect(store.location).toBe(store.root);
  });

  it('names the file of an object to read in place, and null for a missing one', async () => {
    const store = await freshLocalStore();
    await store.put('datasets/m/abc.csv', 'a,b\n1,2\n');
    const file = await store.localFile('datasets/m/abc.csv');
    expect(file).toBe(join(store.root, 'datasets', 'm', 'abc.csv'));
    expect(await readFile(file!, 'utf8')).toBe('a,b\n1,2\n');
    expect(await store.localFile('datasets/m/missing.csv')).toBeNull();
    expect(await store.localFile('datasets/m')).toBeNull();
  });

  it('does not list leftover temporary and lock files of a crashed writer', async () => {
    const store = await freshLocalStore();
    await store.put('registry/m/champion.json', '{}');
    const dir = join(store.root, 'registry', 'm');
    await writeFile(join(dir, '.tmp-0b6c1f9e-crashed'), 'partial');
    await writeFile(join(dir, '.lock-champion.json'), '');
    await mkdir(join(store.root, '.tmp-dir'), { recursive: true });
    await writeFile(join(store.root, '.tmp-top'), 'partial');
    expect(await store.list('')).toEqual(['registry/m/champion.json']);
    expect(await store.list('registry/m/')).toEqual(['registry/m/champion.json']);
  });

  it('leaves no temporary or lock files behind after writes', async () => {
    const store = await freshLocalStore();
    await store.put('a/x', '1');
    await store.putIfAbsent('a/y', '1');
    await store.putIfAbsent('a/y', '2');
    await store.putIfMatch('a/z', '1', null);
    await store.putIfMatch('a/z', '2', 'stale');
    expect((await readdir(join(store.root, 'a'))).sort()).toEqual(['x', 'y', 'z']);
  });

  it('breaks a stale lock left by a dead process', async () => {
    const store = await freshLocalStore();
    await store.put('registry/m/champion.json', 'v1');
    const lock = join(store.root, 'registry', 'm', '.lock-champion.json');
    await writeFile(lock, '');
    const old = new Date(Date.now() - 60_000);
    await utimes(lock, old, old);
    const { tag } = (await store.getWithTag('registry/m/champion.json'))!;
    expect(await store.putIfMatch('registry/m/champion.json', 'v2', tag)).toBe(true);
    expect((await store.get('registry/m/champion.json'))?.toString()).toBe('v2');
  });

  it('rejects keys that use the names reserved for its own temporary and lock files', async () => {
    const store = await freshLocalStore();
    for (const key of ['a/.tmp-x', '.tmp-1', 'a/.lock-b', '.lock-c/d']) {
      await expect(store.put(key, 'x'), key).rejects.toThrow(/invalid store key/);
    }
  });
});
