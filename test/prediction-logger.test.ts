import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { PredictionLine } from '../lib/prediction-log';
import { RetrainError } from '../lib/errors';
import { BUFFER_FULL, createPredictionLogger, type PredictionEntry } from '../serving/index';
import { LocalStore } from '../store/local-store';
import type { Store } from '../store/store';

const roots: string[] = [];
afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

function freshStore(): LocalStore {
  const root = mkdtempSync(join(tmpdir(), 'retrain-prediction-logger-'));
  roots.push(root);
  return new LocalStore(root);
}

/** Every batch file under predictions/ with its lines. */
async function batches(store: Store): Promise<{ key: string; lines: PredictionLine[] }[]> {
  const out = [];
  for (const key of await store.list('predictions/')) {
    const text = (await store.get(key))!.toString();
    expect(text.endsWith('\n')).toBe(true);
    out.push({
      key,
      lines: text
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as PredictionLine),
    });
  }
  return out;
}

async function allLines(store: Store): Promise<PredictionLine[]> {
  return (await batches(store)).flatMap((b) => b.lines);
}

const entry = (i: number, extra: Partial<PredictionEntry> = {}): PredictionEntry => ({
  id: `p-${i}`,
  features: { x: i, plan: 'basic' },
  prediction: 'yes',
  score: 0.7,
  latencyMs: 3,
  ...extra,
});

/** A store whose putIfAbsent fails when `fail()` says so; `landFirst` writes before failing (a lost acknowledgement). */
function flaky(inner: Store, fail: () => boolean, landFirst = false): Store {
  return Object.assign(Object.create(inner) as Store, {
    async putIfAbsent(key: string, body: string | Buffer) {
      if (!fail()) return inner.putIfAbsent(key, body);
      if (landFirst) await inner.putIfAbsent(key, body);
      throw new Error('store unavailable');
    },
  });
}

describe('createPredictionLogger', () => {
  it('fills id and timestamp, takes model and version from the logger, and rejects a bad entry naming the field', async () => {
    const store = freshStore();
    const logger = createPredictionLogger({ store, model: 'churn', version: 'v1', flushIntervalMs: 60_000 });
    const line = logger.logPrediction({ features: { x: 1 }, prediction: 'no', latencyMs: 2 });
    expect(line.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(line.timestamp)).not.toBeNaN();
    expect(line).toMatchObject({ model: 'churn', version: 'v1' });
    expect(logger.logPrediction(entry(1, { timestamp: new Date('2024-05-01T10:00:00Z') })).timestamp).toBe('2024-05-01T10:00:00.000Z');
    expect(() => logger.logPrediction({ features: { x: [1] as never }, prediction: 'no', latencyMs: 2 })).toThrow(
      /features\.x: expected a number, a string or null/,
    );
    expect(() => logger.logPrediction({ ...entry(2), latencyMs: -1 })).toThrow(/latencyMs/);
    expect(logger.buffered).toBe(2);
    await logger.close();
    expect((await allLines(store)).map((l) => l.id).sort()).toEqual([line.id, 'p-1'].sort());
  });

  it('writes a batch as soon as maxBatch lines are buffered', async () => {
    const store = freshStore();
    const logger = createPredictionLogger({ store, model: 'churn', version: 'v1', maxBatch: 3, flushIntervalMs: 60_000 });
    for (let i = 0; i < 7; i++) logger.logPrediction(entry(i));
    await vi.waitFor(async () => expect((await batches(store)).length).toBe(2));
    expect((await batches(store)).map((b) => b.lines.length)).toEqual([3, 3]);
    expect(logger.buffered).toBe(1);
    await logger.close();
    expect((await allLines(store)).map((l) => l.id).sort()).toEqual(['p-0', 'p-1', 'p-2', 'p-3', 'p-4', 'p-5', 'p-6']);
  });

  it('writes buffered lines when the flush interval passes', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const store = freshStore();
      const logger = createPredictionLogger({ store, model: 'churn', version: 'v1', flushIntervalMs: 5000 });
      logger.logPrediction(entry(1));
      logger.logPrediction(entry(2));
      await vi.advanceTimersByTimeAsync(4000);
      expect(logger.buffered).toBe(2);
      await vi.advanceTimersByTimeAsync(1000);
      await vi.waitFor(async () => expect(await allLines(store)).toHaveLength(2));
      expect(logger.buffered).toBe(0);
      await logger.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it('close() writes what is buffered and refuses lines afterwards', async () => {
    const store = freshStore();
    const logger = createPredictionLogger({ store, model: 'churn', version: 'v1', flushIntervalMs: 60_000 });
    for (let i = 0; i < 5; i++) logger.logPrediction(entry(i));
    expect(await store.list('predictions/')).toEqual([]);
    await logger.close();
    const written = await batches(store);
    expect(written).toHaveLength(1);
    expect(written[0].lines).toHaveLength(5);
    expect(() => logger.logPrediction(entry(9))).toThrow(/closed/);
  });

  it('stores each batch under the UTC hour of its lines, splitting a buffer that spans hours', async () => {
    const store = freshStore();
    const logger = createPredictionLogger({ store, model: 'churn', version: 'v1', flushIntervalMs: 60_000 });
    logger.logPrediction(entry(1, { timestamp: '2024-05-01T10:59:59.900Z' }));
    logger.logPrediction(entry(2, { timestamp: '2024-05-01T13:00:00.100+02:00' })); // 11:00 UTC
    logger.logPrediction(entry(3, { timestamp: '2024-05-01T10:30:00Z' }));
    await logger.flush();
    const written = await batches(store);
    expect(written.map((b) => [b.key.split('/').slice(0, 4).join('/'), b.lines.map((l) => l.id)])).toEqual([
      ['predictions/churn/2024-05-01/10', ['p-1', 'p-3']],
      ['predictions/churn/2024-05-01/11', ['p-2']],
    ]);
    expect(written[0].key).toMatch(/^predictions\/churn\/2024-05-01\/10\/\d{8}T\d{9}Z-[0-9a-f-]{36}\.jsonl$/);
  });

  it('keeps the lines when the store fails, reports it, and writes them on the next flush', async () => {
    const inner = freshStore();
    let down = true;
    const errors: { message: string; buffered: number }[] = [];
    const logger = createPredictionLogger({
      store: flaky(inner, () => down),
      model: 'churn',
      version: 'v1',
      flushIntervalMs: 60_000,
      onError: (err, info) => errors.push({ message: err.message, buffered: info.buffered }),
    });
    for (let i = 0; i < 3; i++) logger.logPrediction(entry(i));
    await expect(logger.flush()).rejects.toThrow(/store unavailable/);
    expect(errors).toEqual([{ message: 'store unavailable', buffered: 3 }]);
    expect(logger.buffered).toBe(3);
    expect(await inner.list('predictions/')).toEqual([]);
    down = false;
    logger.logPrediction(entry(3));
    await logger.flush();
    expect(logger.buffered).toBe(0);
    expect((await allLines(inner)).map((l) => l.id).sort()).toEqual(['p-0', 'p-1', 'p-2', 'p-3']);
    await logger.close();
  });

  it('drops and counts new lines once maxBufferedLines wait for a failing store, reports it once, and recovers', async () => {
    const inner = freshStore();
    let down = true;
    const errors: { type?: string; message: string; buffered: number; dropped: number }[] = [];
    const logger = createPredictionLogger({
      store: flaky(inner, () => down),
      model: 'churn',
      version: 'v1',
      maxBatch: 5,
      maxBufferedLines: 10,
      flushIntervalMs: 60_000,
      onError: (err, info) =>
        errors.push({ type: (err as RetrainError).type, message: err.message, buffered: info.buffered, dropped: info.dropped }),
    });
    const ids = Array.from({ length: 15 }, (_, i) => logger.logPrediction(entry(i)).id);
    // Every id is still handed back: serving goes on, only the log line is lost.
    expect(ids).toEqual(Array.from({ length: 15 }, (_, i) => `p-${i}`));
    await logger.flush().catch(() => undefined);
    expect(logger.buffered).toBe(10);
    expect(logger.dropped).toBe(5);
    const full = errors.filter((e) => e.type === BUFFER_FULL);
    expect(full).toEqual([
      {
        type: BUFFER_FULL,
        message: 'buffer full (10 lines waiting for the store): dropping new lines until writes succeed',
        buffered: 10,
        dropped: 1,
      },
    ]);

    down = false;
    await logger.flush();
    logger.logPrediction(entry(15));
    await logger.close();
    expect((await allLines(inner)).map((l) => l.id).sort()).toEqual([...Array.from({ length: 10 }, (_, i) => `p-${i}`), 'p-15'].sort());
    expect(logger.dropped).toBe(5);
    expect(() => createPredictionLogger({ store: inner, model: 'churn', version: 'v1', maxBatch: 50, maxBufferedLines: 10 })).toThrow(
      /maxBufferedLines must be an integer of at least maxBatch \(50\), got 10/,
    );
  });

  it('keeps flushing after an onError handler that throws', async () => {
    const inner = freshStore();
    let down = true;
    const logger = createPredictionLogger({
      store: flaky(inner, () => down),
      model: 'churn',
      version: 'v1',
      flushIntervalMs: 60_000,
      onError: () => {
        throw new Error('handler bug');
      },
    });
    logger.logPrediction(entry(1));
    await expect(logger.flush()).rejects.toThrow(/store unavailable/);
    down = false;
    await logger.close();
    expect((await allLines(inner)).map((l) => l.id)).toEqual(['p-1']);
  });

  it('does not write a batch twice when a write landed but reported failure', async () => {
    const inner = freshStore();
    let failures = 1;
    const logger = createPredictionLogger({
      store: flaky(inner, () => failures-- > 0, true),
      model: 'churn',
      version: 'v1',
      flushIntervalMs: 60_000,
      onError: () => undefined,
    });
    for (let i = 0; i < 4; i++) logger.logPrediction(entry(i));
    await expect(logger.flush()).rejects.toThrow();
    await logger.flush();
    const written = await batches(inner);
    expect(written).toHaveLength(1);
    expect(written[0].lines.map((l) => l.id)).toEqual(['p-0', 'p-1', 'p-2', 'p-3']);
  });

  it('loses no line across 10 concurrent bursts, with automatic flushes and a flaky store', async () => {
    const inner = freshStore();
    let calls = 0;
    const logger = createPredictionLogger({
      store: flaky(inner, () => ++calls % 3 === 0),
      model: 'churn',
      version: 'v1',
      maxBatch: 37,
      flushIntervalMs: 5,
      onError: () => undefined,
    });
    await Promise.all(
      Array.from({ length: 10 }, async (_, burst) => {
        for (let i = 0; i < 100; i++) {
          logger.logPrediction(entry(burst * 1000 + i));
          if (i % 7 === 0) await new Promise((r) => setImmediate(r));
        }
      }),
    );
    for (let attempt = 0; logger.buffered > 0; attempt++) {
      await logger.flush().catch(() => undefined);
      expect(attempt).toBeLessThan(50);
    }
    await logger.close();
    const ids = (await allLines(inner)).map((l) => l.id);
    expect(ids).toHaveLength(1000);
    expect(new Set(ids).size).toBe(1000);
    expect((await batches(inner)).every((b) => b.lines.length <= 37)).toBe(true);
  });
});

describe('flushOnExit', () => {
  const child = join(import.meta.dirname, 'helpers', 'prediction-logger-child.ts');

  function runChild(
    storeDir: string,
    count: number,
    mode: 'wait' | 'end',
    signal?: NodeJS.Signals,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
    return new Promise((resolve, reject) => {
      const proc = spawn(process.execPath, ['--import', 'tsx', child, storeDir, String(count), mode], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      proc.stderr.on('data', (d) => (stderr += d));
      proc.stdout.on('data', (d) => {
        if (signal && String(d).includes('logged')) proc.kill(signal);
      });
      proc.on('error', reject);
      proc.on('exit', (code, sig) => resolve({ code, signal: sig, stderr }));
    });
  }

  it('writes every buffered line when the process gets SIGTERM, then ends by that signal', async () => {
    const store = freshStore();
    const result = await runChild(store.root, 1234, 'wait', 'SIGTERM');
    expect(result.stderr).toBe('');
    expect(result.signal).toBe('SIGTERM');
    const ids = (await allLines(store)).map((l) => l.id);
    expect(ids).toHaveLength(1234);
    expect(new Set(ids)).toEqual(new Set(Array.from({ length: 1234 }, (_, i) => `line-${i}`)));
  });

  it('writes every buffered line on SIGINT too', async () => {
    const store = freshStore();
    const result = await runChild(store.root, 10, 'wait', 'SIGINT');
    expect(result.signal).toBe('SIGINT');
    expect(await allLines(store)).toHaveLength(10);
  });

  it('writes every buffered line when the event loop empties', async () => {
    const store = freshStore();
    const result = await runChild(store.root, 42, 'end');
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(await allLines(store)).toHaveLength(42);
  });
});
