// Listings that read each listed object: one deleted between the listing and the read (by
// retention or a cleanup) is left out instead of failing the whole listing.
import { mkdtempSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { keys } from '../lib/keys';
import type { ModelVersion } from '../lib/registry';
import { appendAudit, listAudit } from '../services/audit-log';
import { holdoutBaseline, listVersions } from '../services/registry';
import { LocalStore } from '../store/local-store';

const roots: string[] = [];
afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));
afterEach(() => vi.useRealTimers());

/** A LocalStore where each key in `doomed` disappears right after a listing returns it. */
class RacingStore extends LocalStore {
  readonly doomed = new Set<string>();
  readonly deleted: string[] = [];

  override async list(prefix: string): Promise<string[]> {
    const listed = await super.list(prefix);
    for (const key of listed.filter((k) => this.doomed.has(k))) {
      // Behind the store's back, as another process would.
      await rm(join(this.root, ...key.split('/')));
      this.doomed.delete(key);
      this.deleted.push(key);
    }
    return listed;
  }
}

function racingStore(): RacingStore {
  const root = mkdtempSync(join(tmpdir(), 'retrain-registry-reads-'));
  roots.push(root);
  return new RacingStore(root);
}

const MODEL = 'churn';

async function putVersion(store: LocalStore, version: string, createdAt: string): Promise<void> {
  const record = {
    model: MODEL,
    version,
    createdAt,
    task: 'classification',
    artifacts: { model: keys.artifact(MODEL, version, 'model.joblib') },
  } as Partial<ModelVersion>;
  await store.put(keys.version(MODEL, version), JSON.stringify(record));
}

describe('listings that race a deletion', () => {
  it('listVersions returns the versions still there', async () => {
    const store = racingStore();
    await putVersion(store, 'v3', '2024-01-03T00:00:00.000Z');
    await putVersion(store, 'v1', '2024-01-01T00:00:00.000Z');
    await putVersion(store, 'v2', '2024-01-02T00:00:00.000Z');
    store.doomed.add(keys.version(MODEL, 'v2'));

    const versions = await listVersions(store, MODEL);
    expect(store.deleted).toEqual([keys.version(MODEL, 'v2')]);
    expect(versions.map((v) => v.version)).toEqual(['v1', 'v3']);
  });

  it('listAudit returns the events still there, in order', async () => {
    const store = racingStore();
    // A second apart, so the log's order is the order they were written in.
    vi.useFakeTimers({ toFake: ['Date'] });
    const append = async (step: number, summary: string) => {
      vi.setSystemTime(Date.UTC(2024, 0, 1, 0, 0, step));
      return (
        await appendAudit(
          store,
          { workflowId: 'wf-1', runId: 'run-1', step: String(step) },
          { type: 'training', model: MODEL, version: 'v1', outcome: 'ok', summary },
        )
      ).record;
    };
    const first = await append(1, 'first');
    const second = await append(2, 'second');
    const third = await append(3, 'third');
    store.doomed.add(keys.auditEvent(MODEL, second.id));

    const events = await listAudit(store, MODEL);
    expect(store.deleted).toEqual([keys.auditEvent(MODEL, second.id)]);
    expect(events).toEqual([first, third]);
  });

  it('holdoutBaseline reads the next evaluation when the first listed one is gone, and null when none is left', async () => {
    const store = racingStore();
    // Listed in key order: "v2-vs-none" before "v2-vs-v1".
    const gone = keys.evaluation(MODEL, 'v2', null);
    const kept = keys.evaluation(MODEL, 'v2', 'v1');
    await store.put(gone, JSON.stringify({ challenger: { f1: 0.5 } }));
    await store.put(kept, JSON.stringify({ challenger: { f1: 0.8 } }));
    store.doomed.add(gone);

    expect(await holdoutBaseline(store, MODEL, 'v2', 'f1')).toBe(0.8);
    expect(store.deleted).toEqual([gone]);

    store.doomed.add(kept);
    expect(await holdoutBaseline(store, MODEL, 'v2', 'f1')).toBeNull();
    expect(store.deleted).toEqual([gone, kept]);
  });
});
