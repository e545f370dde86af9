import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { monitoringRoutes } from '../lib/alert-message';
import { generateChurn } from '../examples/data/generators';
import { startRetrain } from '../client/client';
import { applySchedules } from '../client/schedules';
import type { AuditEvent } from '../lib/audit';
import { pipelineSchema } from '../lib/pipeline';
import {
  allReady,
  assessReadiness,
  retrainingRuns,
  type ModelReadiness,
  type ReadinessAnswer,
  type ReadinessEvidence,
  type ReadinessItem,
} from '../lib/readiness';
import { driftScheduleId } from '../lib/workflow-ids';
import { createPredictionLogger } from '../serving';
import { gatherReadiness } from '../services/readiness';
import type { DriftCheckSummary } from '../shared/inputs';
import { makeUserProject, runCli, writeTestPipeline } from './helpers/cli-project';
import { freePort } from './helpers/free-port';
import { startHarness, testPipeline, TRIVIAL_PREDICT, TRIVIAL_TRAINER, type Harness } from './helpers/harness';
import { MINIMAL_PIPELINE } from './helpers/pipelines';

/** Evidence on which every answer is yes; each test changes what it is about. */
function readyEvidence(): ReadinessEvidence {
  return {
    model: 'churn',
    owners: { monitoring: 'mon@example.com', retraining: 'ml@example.com', inference: 'api@example.com', logging: 'logs@example.com' },
    drift: { window: '24h' },
    cron: '0 * * * *',
    schedule: { state: 'found', scheduleId: 'drift-churn', paused: false, note: null, cron: '0 * * * *' },
    alerts: { source: 'alerts.monitoring', routes: [{ url: 'https://hooks.example.com/services/T0/B0/secret', format: 'slack' }] },
    lastDriftCheck: { at: '2026-11-30T06:00:12.000Z' },
    runs: {
      last: {
        workflowId: 'retrain-churn',
        runId: 'r2',
        outcome: 'promoted',
        at: '2026-11-29T10:00:00.000Z',
        version: 'v2',
        summary: 'champion v2 predicted 50 rows',
      },
      unfinished: null,
    },
    predictions: {
      from: '2026-11-29T07:00:00.000Z',
      to: '2026-11-30T07:00:00.000Z',
      lines: 1200,
      sampled: false,
      versions: [serving('v2', 1200, 1200, 0.24)],
      invalidLines: 0,
    },
    maxCostPer1000: 0.5,
    champion: 'v2',
    rollback: { previous: 'v1', recorded: true, artefacts: [{ name: 'model', key: 'models/churn/v1/model.json', exists: true }] },
    explain: {
      state: 'explained',
      predictionId: 'c000042',
      at: '2026-11-30T06:59:00.000Z',
      version: 'v2',
      inRegistry: true,
      isChampion: true,
      gatePassed: true,
      action: 'offered discount 20%',
    },
  };
}

function serving(version: string, predictions: number, counted: number, total: number) {
  const latency = { mean: 5, p50: 5, p95: 9, max: 12 };
  return { version, predictions, latencyMs: latency, cost: { total, perPrediction: counted ? total / counted : null, counted } };
}

function item(evidence: ReadinessEvidence, id: ReadinessItem): ReadinessAnswer {
  return assessReadiness(evidence).items.find((i) => i.id === id)!;
}

function withEvidence(change: Partial<ReadinessEvidence>): ReadinessEvidence {
  return { ...readyEvidence(), ...change };
}

describe('readiness rules', () => {
  it('answers yes to all seven questions on full evidence, in order, with no to-do', () => {
    const result = assessReadiness(readyEvidence());
    expect(result.ready).toBe(true);
    expect(result.items.map((i) => [i.id, i.answer])).toEqual([
      ['drift-alerting', 'yes'],
      ['tested-pipeline', 'yes'],
      ['prediction-cost', 'yes'],
      ['prediction-logs', 'yes'],
      ['rollback', 'yes'],
      ['owners', 'yes'],
      ['explain', 'yes'],
    ]);
    expect(result.items.every((i) => i.todo === undefined)).toBe(true);
    expect(result.items[0].evidence).toBe(
      'schedule drift-churn runs "0 * * * *" (last check 2026-11-30T06:00Z), alerts to monitoring via hooks.example.com (slack)',
    );
    expect(result.items[0].evidence).not.toContain('secret');
    expect(result.items[5].evidence).toBe(
      'monitoring mon@example.com, retraining ml@example.com, inference api@example.com, logging logs@example.com',
    );
    expect(allReady([result])).toBe(true);
    expect(allReady([])).toBe(false);
  });

  describe('alerting on prediction drift', () => {
    it('is no without drift settings, saying what to add and to apply the schedules', () => {
      const a = item(
        withEvidence({ drift: null, cron: null, schedule: { state: 'missing', scheduleId: 'drift-churn' } }),
        'drift-alerting',
      );
      expect(a.answer).toBe('no');
      expect(a.evidence).toMatch(/^no drift settings; schedule drift-churn is not applied in Temporal/);
      expect(a.todo).toBe(
        "add drift: { window: '24h' } and schedule: { cron: '0 * * * *' } to pipelines/churn.ts, then npx retrain schedules apply",
      );
    });

    it('is no when the schedule is not applied, or paused', () => {
      const missing = item(withEvidence({ schedule: { state: 'missing', scheduleId: 'drift-churn' } }), 'drift-alerting');
      expect([missing.answer, missing.todo]).toEqual(['no', 'npx retrain schedules apply']);
      const paused = item(
        withEvidence({ schedule: { state: 'found', scheduleId: 'drift-churn', paused: true, note: 'migration', cron: '0 * * * *' } }),
        'drift-alerting',
      );
      expect(paused.answer).toBe('no');
      expect(paused.evidence).toMatch(/^schedule drift-churn is paused \(migration\); last check 2026-11-30T06:00Z; alerts to monitoring/);
      expect(paused.todo).toBe('npx retrain schedules unpause churn');
    });

    it('is no without an alert route for monitoring, and names the fallbacks it looked at', () => {
      const a = item(withEvidence({ alerts: { source: null, routes: [] } }), 'drift-alerting');
      expect(a.answer).toBe('no');
      expect(a.evidence).toMatch(/^no alert route for monitoring; schedule drift-churn runs/);
      expect(a.todo).toContain('add alerts: { monitoring: [');
      expect(a.todo).toContain('RETRAIN_ALERT_WEBHOOK');
      const fallback = item(
        withEvidence({ alerts: { source: 'RETRAIN_ALERT_WEBHOOK', routes: [{ url: 'https://ops.example.com/a', format: 'json' }] } }),
        'drift-alerting',
      );
      expect(fallback.answer).toBe('yes');
      expect(fallback.evidence).toContain('alerts to monitoring via ops.example.com (json) from RETRAIN_ALERT_WEBHOOK');
    });

    it('is unknown when Temporal cannot be asked and nothing else is missing; no when something else is', () => {
      const unreachable = { state: 'unknown' as const, scheduleId: 'drift-churn', reason: 'Temporal at localhost:1 is unreachable' };
      const a = item(withEvidence({ schedule: unreachable }), 'drift-alerting');
      expect(a.answer).toBe('unknown');
      expect(a.evidence).toContain('schedule drift-churn could not be read (Temporal at localhost:1 is unreachable)');
      expect(a.todo).toContain('npx retrain check');
      expect(assessReadiness(withEvidence({ schedule: unreachable })).ready).toBe(false);
      expect(item(withEvidence({ schedule: unreachable, alerts: { source: null, routes: [] } }), 'drift-alerting').answer).toBe('no');
    });

    it('follows the drift alert rule: routes, then drift.alertWebhook, then the workers’ webhook', () => {
      const base = MINIMAL_PIPELINE;
      const cases = [
        pipelineSchema.parse({ ...base, drift: { alertWebhook: 'https://old.example.com/a' } }),
        pipelineSchema.parse({ ...base, drift: {}, alerts: { monitoring: [{ url: 'https://chat.example.com/h', format: 'slack' }] } }),
        pipelineSchema.parse({ ...base, drift: {} }),
      ];
      expect(cases.map((p) => monitoringRoutes(p, 'https://fallback.example.com').source)).toEqual([
        'drift.alertWebhook',
        'alerts.monitoring',
        'RETRAIN_ALERT_WEBHOOK',
      ]);
      expect(monitoringRoutes(cases[2], undefined)).toEqual({ source: null, routes: [] });
    });
  });

  describe('a tested retraining pipeline', () => {
    it('is no without a finished run, and says to run one', () => {
      const a = item(withEvidence({ runs: { last: null, unfinished: null } }), 'tested-pipeline');
      expect([a.answer, a.evidence, a.todo]).toEqual(['no', 'no retraining run of churn has finished', 'npx retrain run churn --wait']);
    });

    it('is no when the last run failed, with why and what to do', () => {
      const last = { ...readyEvidence().runs.last!, outcome: 'failed' as const, summary: 'failed during train: TrainingFailed: exit 1' };
      const a = item(withEvidence({ runs: { last, unfinished: null } }), 'tested-pipeline');
      expect(a.answer).toBe('no');
      expect(a.evidence).toBe('last run 2026-11-29T10:00Z (retrain-churn) FAILED: failed during train: TrainingFailed: exit 1');
      expect(a.todo).toBe('see why with npx retrain audit churn, fix it, then npx retrain run churn --wait');
    });

    it('is yes when the last run promoted, or its candidate was rejected by the gate', () => {
      expect(item(readyEvidence(), 'tested-pipeline').evidence).toBe('last run 2026-11-29T10:00Z (retrain-churn) promoted v2');
      const last = { ...readyEvidence().runs.last!, outcome: 'rejected-by-gate' as const, summary: 'failed 1 check' };
      const a = item(
        withEvidence({ runs: { last, unfinished: { workflowId: 'retrain-churn', at: '2026-11-30T01:00:00Z' } } }),
        'tested-pipeline',
      );
      expect(a.answer).toBe('yes');
      expect(a.evidence).toContain('rejected by the gate');
      expect(a.evidence).toContain('a later run (retrain-churn, 2026-11-30T01:00Z) has no outcome yet');
    });

    it('reads the last finished run from the audit log, a run at a time', () => {
      const e = (type: AuditEvent['type'], runId: string, at: string, outcome: AuditEvent['outcome'] = 'ok'): AuditEvent => ({
        id: `${runId}-${type}`,
        at,
        type,
        model: 'churn',
        version: `v-${runId}`,
        outcome,
        summary: `${type} of ${runId}`,
        workflowId: 'retrain-churn',
        runId,
        details: {},
      });
      const promoted = [
        e('snapshot', 'r1', '2026-01-01T00:00Z'),
        e('promotion', 'r1', '2026-01-01T00:01Z'),
        e('verification', 'r1', '2026-01-01T00:02Z'),
      ];
      const failed = [e('snapshot', 'r2', '2026-01-02T00:00Z'), e('run-failed', 'r2', '2026-01-02T00:01Z', 'failed')];
      const unchanged = [e('snapshot', 'r3', '2026-01-03T00:00Z')];
      const drift = { ...e('drift-check', 'd1', '2026-01-04T00:00Z'), workflowId: 'drift-churn' };

      expect(retrainingRuns(promoted).last).toMatchObject({ outcome: 'promoted', runId: 'r1', version: 'v-r1', at: '2026-01-01T00:02Z' });
      expect(retrainingRuns([...promoted, ...failed, drift]).last).toMatchObject({ outcome: 'failed', runId: 'r2' });
      const later = retrainingRuns([...failed, ...promoted.map((x) => ({ ...x, at: x.at.replace('01T', '05T') })), ...unchanged]);
      expect(later.last).toMatchObject({ outcome: 'promoted', runId: 'r1' });
      expect(retrainingRuns([...promoted, ...unchanged]).unfinished).toEqual({ workflowId: 'retrain-churn', at: '2026-01-03T00:00Z' });
      expect(retrainingRuns([e('gate', 'r4', '2026-01-01T00:00Z', 'rejected')]).last?.outcome).toBe('rejected-by-gate');
      // A run whose version was trained before audits its end too: finished, and the pipeline worked.
      const audited = [e('snapshot', 'r5', '2026-01-06T00:00Z'), e('run-unchanged', 'r5', '2026-01-06T00:01Z', 'skipped')];
      expect(retrainingRuns([...promoted, ...audited]).last).toMatchObject({ outcome: 'unchanged', runId: 'r5' });
      expect(item(withEvidence({ runs: retrainingRuns([...promoted, ...audited]) }), 'tested-pipeline')).toMatchObject({
        answer: 'yes',
      });
      expect(retrainingRuns([drift])).toEqual({ last: null, unfinished: null });
    });
  });

  describe('per-prediction cost', () => {
    const predictions = readyEvidence().predictions;

    it('is yes within the budget, and without one says none is set', () => {
      expect(item(readyEvidence(), 'prediction-cost').evidence).toBe(
        '0.2 per 1,000 predictions since 2026-11-29T07:00Z, within the budget of 0.5 (1,200 of 1,200 lines have a cost)',
      );
      expect(item(withEvidence({ maxCostPer1000: null }), 'prediction-cost')).toMatchObject({
        answer: 'yes',
        evidence: expect.stringContaining('no budget set (budgets.maxCostPer1000)'),
      });
    });

    it('is no over the budget, saying by how much and what to change', () => {
      const a = item(withEvidence({ maxCostPer1000: 0.1 }), 'prediction-cost');
      expect(a.answer).toBe('no');
      expect(a.evidence).toMatch(/^0\.2 per 1,000 predictions since .*, over the budget of 0\.1/);
      expect(a.todo).toContain('raise budgets.maxCostPer1000 in pipelines/churn.ts');
    });

    it('is no when no line has a cost, or there are no lines', () => {
      const noCost = item(withEvidence({ predictions: { ...predictions, versions: [serving('v2', 1200, 0, 0)] } }), 'prediction-cost');
      expect([noCost.answer, noCost.evidence]).toEqual(['no', 'none of the 1,200 predictions since 2026-11-29T07:00Z has a cost']);
      expect(noCost.todo).toContain('cost in logPrediction');
      const none = item(withEvidence({ predictions: { ...predictions, lines: 0, versions: [] } }), 'prediction-cost');
      expect(none.answer).toBe('no');
      expect(none.todo).toContain('createPredictionLogger');
    });
  });

  describe('prediction-level logs with the version', () => {
    it('is yes with the lines per version, warning of a version that is not the champion', () => {
      const p = { ...readyEvidence().predictions, lines: 1300, versions: [serving('v1', 100, 100, 0.02), serving('v2', 1200, 1200, 0.24)] };
      const a = item(withEvidence({ predictions: p }), 'prediction-logs');
      expect(a.answer).toBe('yes');
      expect(a.evidence).toBe(
        '1,300 lines since 2026-11-29T07:00Z: v2 (champion) 1,200, v1 100; warning: v1 is not the champion (v2) and still serving',
      );
    });

    it('is no without lines in the window', () => {
      const a = item(withEvidence({ predictions: { ...readyEvidence().predictions, lines: 0, versions: [] } }), 'prediction-logs');
      expect([a.answer, a.evidence]).toEqual(['no', 'no prediction lines since 2026-11-29T07:00Z']);
      expect(a.todo).toContain('POST /v1/predictions');
    });
  });

  describe('rollback', () => {
    it('is yes with a previous champion whose artefacts are readable', () => {
      expect(item(readyEvidence(), 'rollback').evidence).toBe(
        'previous champion v1, its artefacts readable (model): npx retrain rollback churn --reason "…"',
      );
    });

    it('is no without a previous champion, naming what becomes the rollback target', () => {
      const first = item(withEvidence({ rollback: { previous: null } }), 'rollback');
      expect([first.answer, first.evidence]).toEqual(['no', 'no previous champion (champion v2, the first one)']);
      expect(first.todo).toBe(
        'promote another version (npx retrain run churn --wait with new data or params): v2 then becomes the rollback target',
      );
      const none = item(withEvidence({ champion: null, rollback: { previous: null } }), 'rollback');
      expect(none.evidence).toBe('no champion, so no previous one');
    });

    it('is no when the previous champion has no record or an artefact is missing', () => {
      expect(item(withEvidence({ rollback: { previous: 'v1', recorded: false } }), 'rollback')).toMatchObject({
        answer: 'no',
        evidence: 'previous champion v1 has no version record in the registry',
      });
      const artefacts = [
        { name: 'model', key: 'models/churn/v1/model.json', exists: false },
        { name: 'meta', key: 'models/churn/v1/meta.json', exists: true },
      ];
      const a = item(withEvidence({ rollback: { previous: 'v1', recorded: true, artefacts } }), 'rollback');
      expect([a.answer, a.evidence]).toEqual(['no', 'previous champion v1: model (models/churn/v1/model.json) missing from the store']);
      expect(a.todo).toContain('restore the missing artefacts');
    });
  });

  describe('an owner per area', () => {
    it('is no when an area has no owner named', () => {
      const owners = { ...readyEvidence().owners, logging: ' ' };
      const a = item(withEvidence({ owners }), 'owners');
      expect(a.answer).toBe('no');
      expect(a.todo).toBe('name an owner for logging in owners of pipelines/churn.ts');
    });
  });

  describe('why did the system make this decision?', () => {
    const explained = readyEvidence().explain;

    it('is yes when the newest prediction is explained and has an action', () => {
      expect(item(readyEvidence(), 'explain').evidence).toBe(
        'c000042 (2026-11-30T06:59Z) by v2 (champion): lineage, gate passed, action "offered discount 20%" (npx retrain explain c000042 --model churn)',
      );
    });

    it('is no without a recent prediction, when explain fails, without lineage or without an action', () => {
      expect(item(withEvidence({ explain: { state: 'no-prediction' } }), 'explain')).toMatchObject({
        answer: 'no',
        evidence: 'no prediction since 2026-11-29T07:00Z to explain',
      });
      const failed = item(withEvidence({ explain: { state: 'failed', predictionId: 'c1', reason: 'bad JSON' } }), 'explain');
      expect([failed.answer, failed.evidence]).toEqual(['no', 'npx retrain explain c1 --model churn failed: bad JSON']);
      if (explained.state !== 'explained') throw new Error('the ready evidence explains a prediction');
      const unknownVersion = item(withEvidence({ explain: { ...explained, inRegistry: false, version: 'v9' } }), 'explain');
      expect(unknownVersion.answer).toBe('no');
      expect(unknownVersion.evidence).toContain('v9, which is not in the registry');
      const noAction = item(withEvidence({ explain: { ...explained, action: null } }), 'explain');
      expect(noAction.answer).toBe('no');
      expect(noAction.evidence).toContain('but no action logged');
      expect(noAction.todo).toContain('pass action');
    });
  });
});

describe('retrain readiness against a real server and store', () => {
  let h: Harness;
  let project: string;
  const model = `ready-${randomUUID().slice(0, 8)}`;
  const scheduled = { drift: { window: '24h', minPredictions: 30 }, schedule: { cron: '0 3 1 1 *' } };
  // A chat webhook's URL is a secret: readiness shows its host only.
  const chatHook = 'https://hooks.example.com/services/T0/B0/not-a-real-token';
  const retrain = (args: string[], env: Record<string, string> = {}) => runCli(h, project, args, { RETRAIN_ALERT_WEBHOOK: '', ...env });
  const answers = (m: ModelReadiness) => Object.fromEntries(m.items.map((i) => [i.id, i.answer]));

  /** The pipeline with its training settings: runs are started with it inline, by the test. */
  const pipeline = (round: number) =>
    testPipeline({
      name: model,
      training: { command: TRIVIAL_TRAINER, predictCommand: TRIVIAL_PREDICT, params: { round } },
      ...scheduled,
    });

  beforeAll(async () => {
    project = makeUserProject('retrain-readiness-');
    h = await startHarness({ projectDir: project });
    writeTestPipeline(project, model);
  });
  afterAll(async () => {
    await h?.client.schedule
      .getHandle(driftScheduleId(model))
      .delete()
      .catch(() => undefined);
    await h?.close();
  });

  it('answers no for a fresh model and exits 1', async () => {
    const text = await retrain(['readiness', model]);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(`${model}: NOT READY (1 of 7 yes)`);
    expect(text.stdout).toContain('  ✗ a tested retraining pipeline: no retraining run');
    expect(text.stdout).toContain(`      to do: npx retrain run ${model} --wait`);
    process.stdout.write(`\n--- readiness of a fresh model ---\n${text.stdout}`);

    const json = await retrain(['readiness', model, '--json']);
    expect(json.code).toBe(1);
    const out = JSON.parse(json.stdout) as { ready: boolean; models: ModelReadiness[] };
    expect(out.ready).toBe(false);
    expect(answers(out.models[0])).toEqual({
      'drift-alerting': 'no',
      'tested-pipeline': 'no',
      'prediction-cost': 'no',
      'prediction-logs': 'no',
      rollback: 'no',
      owners: 'yes',
      explain: 'no',
    });
    expect(out.models[0].items.filter((i) => i.answer === 'no').every((i) => typeof i.todo === 'string')).toBe(true);
  });

  it('refuses an unknown model with exit 2', async () => {
    const r = await retrain(['readiness', 'no-such-model']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown pipeline "no-such-model"');
  });

  it('answers yes to all seven after two promotions, a schedule, an alert route and logged predictions, and exits 0', async () => {
    let champion = '';
    for (const round of [1, 2]) {
      const summary = await (await startRetrain(h.client, h.config, pipeline(round))).handle.result();
      expect(summary.outcome).toBe('promoted');
      champion = summary.version!;
    }
    // The project's pipeline now monitors drift, routes alerts and has a cost budget.
    writeTestPipeline(
      project,
      model,
      `drift: { window: '24h', minPredictions: 30 }, schedule: { cron: '0 3 1 1 *' },
  alerts: { monitoring: [{ url: '${chatHook}', format: 'slack' }] },
  budgets: { maxCostPer1000: 0.5 },`,
    );
    await applySchedules(h.client, h.config, [pipeline(2)]);

    const logger = createPredictionLogger({ store: h.store, model, version: champion });
    const at = new Date(Date.now() - 60_000);
    generateChurn({ rows: 60, seed: 11, drift: 0 }).forEach((r, i) =>
      logger.logPrediction({
        id: `${model}-${r.customer_id}`,
        timestamp: at,
        features: { tenure_months: r.tenure_months, monthly_spend: r.monthly_spend, support_tickets: r.support_tickets, plan: r.plan },
        prediction: 'no',
        latencyMs: 4 + (i % 5),
        cost: 0.0002,
        action: i % 2 ? 'no offer' : 'offered discount 20%',
      }),
    );
    await logger.close();
    const check: DriftCheckSummary = await h.client.workflow.execute('driftCheck', {
      taskQueue: h.config.taskQueue,
      workflowId: `${driftScheduleId(model)}-test-${Date.now()}`,
      args: [{ pipeline: pipeline(2), trigger: 'test' }],
    });
    expect(check.result).not.toBeNull();

    const text = await retrain(['readiness', model]);
    process.stdout.write(`\n--- readiness after two promotions ---\n${text.stdout}`);
    expect(text.stderr).toBe('');
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`${model}: READY (7 of 7 yes)`);
    expect(text.stdout).toContain(`alerts to monitoring via hooks.example.com (slack)`);
    expect(text.stdout).not.toContain('not-a-real-token');

    const json = JSON.parse((await retrain(['readiness', model, '--json'])).stdout) as { ready: boolean; models: ModelReadiness[] };
    expect(json.ready).toBe(true);
    expect(Object.values(answers(json.models[0]))).toEqual(Array(7).fill('yes'));
    const logs = json.models[0].items.find((i) => i.id === 'prediction-logs')!;
    expect(logs.evidence).toContain(`60 lines since`);
    expect(logs.evidence).toContain(`${champion} (champion) 60`);

    // The service answers the same in process, given the schedule as the server describes it.
    const evidence = await gatherReadiness(
      { store: h.store, config: h.config },
      { ...pipeline(2), budgets: { maxCostPer1000: 0.1 } },
      {
        schedule: { state: 'found', scheduleId: driftScheduleId(model), paused: false, note: null, cron: '0 3 1 1 *' },
      },
    );
    expect(evidence.runs.last).toMatchObject({ outcome: 'promoted', version: champion });
    expect(evidence.rollback).toMatchObject({ recorded: true, artefacts: [expect.objectContaining({ exists: true })] });
    expect(answers(assessReadiness(evidence))['prediction-cost']).toBe('no');
  });

  it('answers the schedule question "unknown" when Temporal is unreachable, the rest from the store, and exits 1', async () => {
    const r = await retrain(['readiness', model, '--json'], { RETRAIN_TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}` });
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { ready: boolean; models: ModelReadiness[] };
    const drift = out.models[0].items[0];
    expect(drift).toMatchObject({ id: 'drift-alerting', answer: 'unknown' });
    expect(drift.evidence).toContain('could not be read (no Temporal server answers at 127.0.0.1:');
    expect(drift.todo).toContain('npx retrain check');
    expect(out.models[0].items.slice(1).map((i) => i.answer)).toEqual(Array(6).fill('yes'));
  });

  it('checks every pipeline of the project when no model is named', async () => {
    writeTestPipeline(project, 'zz-other');
    const r = await retrain(['readiness', '--json']);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { ready: boolean; models: ModelReadiness[] };
    expect(out.models.map((m) => [m.model, m.ready])).toEqual([
      [model, true],
      ['zz-other', false],
    ]);
  });
});
