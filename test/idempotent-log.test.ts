import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keys } from '../lib/keys';
import { IdempotentLog, LogBusyError, LogWriteError, type LogRecord } from '../services/idempotent-log';
import { LocalStore } from '../store/local-store';
import type { Store } from '../store/store';

const layout = {
  partition: keys.predictionPartition,
  batch: keys.predictionBatch,
  idOf: (line: string) => (JSON.parse(line) as { id: string }).id,
};
const record = (id: string, hour = '2026-11-29T10'): LogRecord => ({ id, hour, text: JSON.stringify({ id, hour }) });
const newStore = () => new LocalStore(mkdtempSync(join(tmpdir(), 'retrain-idem-')));

async function storedIds(store: Store): Promise<string[]> {
  const ids: string[] = [];
  for (const key of await store.list('predictions/m/'))
    for (const line of (await store.get(key))!.toString('utf8').split('\n').filter(Boolean)) ids.push(JSON.parse(line).id);
  return ids.sort();
}

describe('IdempotentLog', () => {
  it('writes each id once, across calls, and answers which ids were duplicates', async () => {
    const store = newStore();
    const log = new IdempotentLog({ store, layout });
    expect(await log.append('m', [record('a'), record('b')])).toEqual({ stored: ['a', 'b'], duplicates: [] });
    expect(await log.append('m', [record('b'), record('c')])).toEqual({ stored: ['c'], duplicates: ['b'] });
    expect(await storedIds(store)).toEqual(['a', 'b', 'c']);
    log.close();
  });

  it('knows the ids already in the store after a restart (a batch written before a crash counts)', async () => {
    const store = newStore();
    const first = new IdempotentLog({ store, layout });
    await first.append('m', [record('a'), record('b', '2026-11-29T11')]);
    first.close();
    const restarted = new IdempotentLog({ store, layout });
    expect(await restarted.append('m', [record('a'), record('b', '2026-11-29T11'), record('c')])).toEqual({
      stored: ['c'],
      duplicates: ['a', 'b'],
    });
    expect(await storedIds(store)).toEqual(['a', 'b', 'c']);
    restarted.close();
  });

  it('groups concurrent appends of one partition into few batch files (group commit)', async () => {
    const store = newStore();
    const log = new IdempotentLog({ store, layout });
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => log.append('m', [record(`r${i}`)])));
    expect(results.every((r) => r.stored.length === 1)).toBe(true);
    const files = (await store.list('predictions/m/')).length;
    console.log(`100 concurrent appends of one record: ${files} batch files`);
    expect(files).toBeLessThan(100);
    expect((await storedIds(store)).length).toBe(100);
    log.close();
  });

  it('rejects every append of a failed write, and re-reads the partition before the next one', async () => {
    const inner = newStore();
    let failNext = 0;
    let landed = false;
    // A write that reports failure after it landed: the retry must not write it again.
    const store: Store = Object.create(inner, {
      putIfAbsent: {
        value: async (key: string, body: string) => {
          if (failNext > 0) {
            failNext--;
            await inner.putIfAbsent(key, body);
            landed = true;
            throw new Error('connection reset');
          }
          return inner.putIfAbsent(key, body);
        },
      },
    });
    const log = new IdempotentLog({ store, layout });
    await log.append('m', [record('a')]);
    failNext = 1;
    await expect(log.append('m', [record('b'), record('c')])).rejects.toBeInstanceOf(LogWriteError);
    expect(landed).toBe(true);
    expect(await log.append('m', [record('b'), record('c'), record('d')])).toEqual({ stored: ['d'], duplicates: ['b', 'c'] });
    expect(await storedIds(inner)).toEqual(['a', 'b', 'c', 'd']);
    log.close();
  });

  it('refuses at once when too many records wait to be written, and stores none of them', async () => {
    const inner = newStore();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const store: Store = Object.create(inner, {
      putIfAbsent: { value: async (key: string, body: string) => (await gate, inner.putIfAbsent(key, body)) },
    });
    const log = new IdempotentLog({ store, layout, maxPendingRecords: 3 });
    const waiting = log.append('m', [record('a'), record('b')]);
    await expect(log.append('m', [record('c'), record('d')])).rejects.toBeInstanceOf(LogBusyError);
    release();
    await waiting;
    expect(await storedIds(inner)).toEqual(['a', 'b']);
    log.close();
  });

  it('counts a write that takes too long as failed', async () => {
    const inner = newStore();
    const store: Store = Object.create(inner, { putIfAbsent: { value: () => new Promise(() => undefined) } });
    const log = new IdempotentLog({ store, layout, writeTimeoutMs: 50 });
    await expect(log.append('m', [record('a')])).rejects.toThrow(/took longer than 50 ms/);
    expect(log.pendingRecords).toBe(0);
    log.close();
  });

  it('remembers at most maxIdsPerPartition ids of a partition (memory is bounded; a Set holds at most 2^24)', async () => {
    // A store that keeps nothing: only the log's memory of ids is under test.
    const store: Store = Object.create(newStore(), { putIfAbsent: { value: async () => true }, list: { value: async () => [] } });
    const log = new IdempotentLog({ store, layout, maxIdsPerPartition: 1 << 20 });
    const batch = 1 << 15;
    const total = (1 << 20) + 2 * batch;
    for (let start = 0; start < total; start += batch)
      await log.append(
        'm',
        Array.from({ length: batch }, (_, i) => ({ id: `r${start + i}`, hour: '2026-11-29T10', text: '{}' })),
      );
    // The newest ids are still known; the oldest million were forgotten, so a retry of one is stored again.
    expect(await log.append('m', [{ id: `r${total - 1}`, hour: '2026-11-29T10', text: '{}' }])).toEqual({
      stored: [],
      duplicates: [`r${total - 1}`],
    });
    expect(await log.append('m', [{ id: 'r0', hour: '2026-11-29T10', text: '{}' }])).toEqual({ stored: ['r0'], duplicates: [] });
    log.close();
  });
});
