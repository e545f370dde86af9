import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRetrain } from '../client/client';
import type { DriftCheckReport } from '../lib/drift/report';
import { keys } from '../lib/keys';
import { mulberry32 } from '../lib/split';
import { driftScheduleId } from '../lib/workflow-ids';
import { createPredictionLogger } from '../serving';
import type { DriftCheckSummary } from '../shared/inputs';
import { startHarness, testPipeline, TRIVIAL_PREDICT, TRIVIAL_TRAINER, type Harness } from './helpers/harness';

// A three-class model through a real run and a real drift check: the calibration stored at
// evaluation is one-vs-rest, and the check estimates the champion's performance from its scores.
let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

describe('performance estimated without labels, three classes', () => {
  it('stores a one-vs-rest calibration at evaluation and estimates every metric on a window', async () => {
    const random = mulberry32(5);
    const dir = mkdtempSync(join(tmpdir(), 'retrain-multiclass-'));
    const path = join(dir, 'tickets.csv');
    // Support tickets routed to a team: billing 50%, tech 30%, sales 20%.
    const team = () => {
      const r = random();
      return r < 0.5 ? 'billing' : r < 0.8 ? 'tech' : 'sales';
    };
    writeFileSync(
      path,
      'id,words,team\n' + Array.from({ length: 1200 }, (_, i) => `t${i},${Math.round(random() * 200)},${team()}`).join('\n') + '\n',
    );
    const pipeline = testPipeline({
      name: 'ticket-router',
      source: { path },
      idColumn: 'id',
      label: 'team',
      positiveClass: undefined,
      features: [{ name: 'words', type: 'numeric' }],
      metrics: { primary: 'accuracy' },
      training: { command: TRIVIAL_TRAINER, predictCommand: TRIVIAL_PREDICT },
      drift: { window: '1h', minPredictions: 30 },
    });
    const run = await (await startRetrain(h.client, h.config, pipeline)).handle.result();
    expect(run.outcome).toBe('promoted');
    const calibration = JSON.parse((await h.store.get(keys.calibration(pipeline.name, run.version)))!.toString());
    expect(calibration).toMatchObject({ method: 'isotonic-ovr' });
    expect([...calibration.classes].sort()).toEqual(['billing', 'sales', 'tech']);

    // The trivial model answers the majority class with the training shares as scores.
    const logger = createPredictionLogger({ store: h.store, model: pipeline.name, version: run.version });
    for (let i = 0; i < 200; i++)
      logger.logPrediction({
        id: `w${i}`,
        timestamp: new Date(Date.now() - 60_000),
        features: { words: Math.round(random() * 200) },
        prediction: 'billing',
        scores: { billing: 0.5, tech: 0.3, sales: 0.2 },
        latencyMs: 2,
      });
    await logger.close();
    const summary: DriftCheckSummary = await h.client.workflow.execute('driftCheck', {
      taskQueue: h.config.taskQueue,
      workflowId: `${driftScheduleId(pipeline.name)}-test-${Date.now()}`,
      args: [{ pipeline, trigger: 'test' }],
    });

    const report = JSON.parse((await h.store.get(summary.result!.reportKey))!.toString()) as DriftCheckReport;
    const e = report.estimatedPerformance!;
    expect(e).toMatchObject({ method: 'cbpe', metric: 'accuracy', positiveClass: '(all classes)', rows: 200 });
    // Every row predicted "billing", whose holdout share is the calibrated chance of being right.
    expect(e.estimate.value!).toBeCloseTo(e.baseline!, 6);
    for (const m of ['accuracy', 'precision', 'recall', 'f1'] as const) expect(e.metrics[m].value).not.toBeNull();
    expect(summary.result!.estimatedPerformance).toMatchObject({ metric: 'accuracy', dropped: false });
  });
});
