import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../lib/keys';
import { listAudit } from '../services/audit-log';
import { listVersions, readPointer } from '../services/registry';
import { startRetrain } from '../client/client';
import { startHarness, testPipeline, type Harness } from './helpers/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

describe('retrainPipeline', () => {
  it('trains, evaluates, gates, promotes and verifies a first champion with scikit-learn', async () => {
    const pipeline = testPipeline({ name: 'happy-path', gates: [{ metric: 'roc_auc', min: 0.6 }] });
    const { handle } = await startRetrain(h.client, h.config, pipeline, { requestedBy: 'test' });
    const summary = await handle.result();

    expect(summary.outcome).toBe('promoted');
    expect(summary.championBefore).toBeNull();
    expect(summary.championAfter).toBe(summary.version);
    expect(summary.metrics.challenger.roc_auc).toBeGreaterThan(0.6);
    expect(summary.gate.passed).toBe(true);
    expect(summary.steps.map((s: { step: string }) => s.step)).toEqual([
      'pull',
      'validate',
      'split',
      'plan',
      'train',
      'register',
      'evaluate',
      'gate',
      'promote',
      'verify',
    ]);

    const { pointer } = await readPointer(h.store, 'happy-path');
    expect(pointer.champion).toBe(summary.version);
    const versions = await listVersions(h.store, 'happy-path');
    expect(versions).toHaveLength(1);
    expect(versions[0].lineage.datasetSha256).toBe(summary.snapshot.sha256);
    expect(versions[0].lineage.libraryVersions['scikit-learn']).toBeTruthy();
    expect(await h.store.exists(versions[0].artifacts.model)).toBe(true);
    const audit = await listAudit(h.store, 'happy-path');
    expect(audit.map((e) => e.type)).toEqual([
      'snapshot',
      'validation',
      'training',
      'registration',
      'evaluation',
      'gate',
      'promotion',
      'verification',
    ]);
    expect(await h.store.exists(keys.evaluation('happy-path', summary.version, null))).toBe(true);

    // Same data, same params: no new version, nothing promoted twice, and the run says so.
    const again = await (await startRetrain(h.client, h.config, pipeline)).handle.result();
    expect(again.outcome).toBe('unchanged');
    expect(again.version).toBe(summary.version);
    expect(again.message).toMatch(/already the champion/);
    expect(await listVersions(h.store, 'happy-path')).toHaveLength(1);
    const promotions = (await listAudit(h.store, 'happy-path')).filter((e) => e.type === 'promotion');
    expect(promotions).toHaveLength(1);
  });
});

export { WorkflowFailedError };
