import { ScheduleNotFoundError } from '@temporalio/client';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../services/audit-log';
import { deliverAlert } from '../services/alert-delivery';
import { generateChurn, type ChurnRow } from '../examples/data/generators';
import type { DriftCheckReport } from '../lib/drift/report';
import { keys } from '../lib/keys';
import { mulberry32 } from '../lib/split';
import { isoHour } from '../lib/log-hours';
import { summarizePartition } from '../services/partitioned-drift-check';
import { summaryFeaturesOf } from '../lib/feature-kind';
import type { PipelineInput } from '../lib/pipeline';
import { driftScheduleId } from '../lib/workflow-ids';
import { startRetrain } from '../client/client';
import { applySchedules, listSchedules } from '../client/schedules';
import { createPredictionLogger } from '../serving';
import type { DriftCheckSummary } from '../shared/inputs';
import { startHarness, testPipeline, TRIVIAL_PREDICT, TRIVIAL_TRAINER, type Harness } from './helpers/harness';

let h: Harness;
/** The workers' project directory: schedules start drift checks by model name, loaded from its pipelines/. */
let projectDir: string;
let hook: Server;
let hookUrl: string;
/** What the webhook received, with the path it was posted to (/alerts: monitoring, /inference: the inference route). */
const received: { headers: IncomingMessage['headers']; body: Record<string, unknown>; path: string }[] = [];

beforeAll(async () => {
  projectDir = mkdtempSync(join(tmpdir(), 'retrain-project-'));
  mkdirSync(join(projectDir, 'pipelines'));
  h = await startHarness({ projectDir });
  // A loopback webhook receiver standing in for the team's alerting endpoint.
  hook = createServer((req, res) => {
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: JSON.parse(text), path: req.url ?? '' });
      res.writeHead(204).end();
    });
  });
  hook.listen(0, '127.0.0.1');
  await once(hook, 'listening');
  hookUrl = `http://127.0.0.1:${(hook.address() as { port: number }).port}/alerts`;
});
afterAll(async () => {
  hook?.close();
  await h?.close();
});

function driftPipeline(name: string, drift: PipelineInput['drift'] = {}, extra: Partial<PipelineInput> = {}) {
  return testPipeline({
    name,
    training: { command: TRIVIAL_TRAINER, predictCommand: TRIVIAL_PREDICT },
    drift: { window: '1h', minPredictions: 30, alertWebhook: hookUrl, ...drift },
    ...extra,
  });
}

/**
 * Logs predictions the way a serving application would: features, the model's answer, latency
 * (5–14 ms), cost (0.0002 a prediction). `adjust` changes the generated customers first.
 */
async function serve(
  model: string,
  version: string,
  opts: { rows: number; seed: number; drift: number; prediction?: string; hoursAgo?: number; adjust?: (row: ChurnRow) => ChurnRow },
) {
  const logger = createPredictionLogger({ store: h.store, model, version });
  const at = new Date(Date.now() - (opts.hoursAgo ?? 0) * 3_600_000 - 60_000);
  const rows = generateChurn({ rows: opts.rows, seed: opts.seed, drift: opts.drift }).map(opts.adjust ?? ((r) => r));
  rows.forEach((r, i) =>
    logger.logPrediction({
      id: `${model}-${opts.seed}-${r.customer_id}`,
      timestamp: at,
      features: { tenure_months: r.tenure_months, monthly_spend: r.monthly_spend, support_tickets: r.support_tickets, plan: r.plan },
      prediction: opts.prediction ?? 'no',
      scores: opts.prediction === 'yes' ? { no: 0.3, yes: 0.7 } : { no: 0.75, yes: 0.25 },
      latencyMs: 5 + (i % 10),
      cost: 0.0002,
    }),
  );
  await logger.close();
  return rows;
}

async function check(pipeline: ReturnType<typeof driftPipeline>, asOf?: string): Promise<DriftCheckSummary> {
  return h.client.workflow.execute('driftCheck', {
    taskQueue: h.config.taskQueue,
    workflowId: `${driftScheduleId(pipeline.name)}-test-${Date.now()}-${Math.random().toString(36).slice(2, 6)}`,
    args: [{ pipeline, trigger: 'test', asOf }],
  });
}

async function promote(pipeline: ReturnType<typeof driftPipeline>): Promise<string> {
  const summary = await (await startRetrain(h.client, h.config, pipeline)).handle.result();
  expect(summary.outcome).toBe('promoted');
  return summary.version!;
}

async function storedReport(model: string, checkId: string): Promise<DriftCheckReport> {
  return JSON.parse((await h.store.get(keys.driftReport(model, checkId, 'json')))!.toString());
}

describe('driftCheck', () => {
  it('finds no drift when serving data looks like the training data, and reports latency and cost', async () => {
    const pipeline = driftPipeline('drift-quiet');
    const version = await promote(pipeline);
    await serve(pipeline.name, version, { rows: 400, seed: 101, drift: 0 });

    const summary = await check(pipeline);

    expect(summary.outcome).toBe('no-drift');
    expect(summary.result!.predictions).toBe(400);
    const report = await storedReport(pipeline.name, summary.result!.checkId);
    expect(report.dataDrift.datasetDrift.drifted).toBe(false);
    expect(report.dataDrift.features.map((f) => f.name).sort()).toEqual(['monthly_spend', 'plan', 'support_tickets', 'tenure_months']);
    expect(report.serving![0]).toMatchObject({ version, predictions: 400 });
    expect(report.serving![0].cost.perPrediction).toBeCloseTo(0.0002, 12);
    const html = (await h.store.get(keys.driftReport(pipeline.name, summary.result!.checkId, 'html')))!.toString();
    expect(html).toContain('<svg');
    expect((await listAudit(h.store, pipeline.name)).filter((e) => e.type === 'drift-check')).toHaveLength(1);
    expect(received.filter((r) => r.body.model === pipeline.name)).toHaveLength(0);
  });

  it('alerts the monitoring owner through the webhook when the inputs drift, with the check id as idempotency key', async () => {
    const pipeline = driftPipeline('drift-loud');
    const version = await promote(pipeline);
    await serve(pipeline.name, version, { rows: 400, seed: 5, drift: 0, hoursAgo: 3 }); // outside the 1h window
    await serve(pipeline.name, version, { rows: 400, seed: 6, drift: 1, prediction: 'yes' });

    const summary = await check(pipeline);

    expect(summary.outcome).toBe('drift-alerted');
    expect(summary.result!.predictions).toBe(400);
    const report = await storedReport(pipeline.name, summary.result!.checkId);
    expect(report.dataDrift.datasetDrift.drifted).toBe(true);
    const drifted = report.dataDrift.features.filter((f) => f.drifted).map((f) => f.name);
    expect(drifted).toEqual(expect.arrayContaining(['tenure_months', 'support_tickets']));
    expect(report.predictionDrift?.drifted).toBe(true);
    const alerts = received.filter((r) => r.body.model === pipeline.name);
    expect(alerts).toHaveLength(1);
    expect(alerts[0].headers['idempotency-key']).toBe(summary.result!.checkId);
    expect(alerts[0].body).toMatchObject({
      kind: 'retrain.drift-alert/v1',
      owner: 'mon@example.com',
      version,
      checkId: summary.result!.checkId,
    });
  });

  it('checks a past window when asked "as of" a time', async () => {
    const pipeline = driftPipeline('drift-as-of');
    const version = await promote(pipeline);
    await serve(pipeline.name, version, { rows: 300, seed: 12, drift: 1, hoursAgo: 3 });

    const now = await check(pipeline);
    const then = await check(pipeline, new Date(Date.now() - 2.5 * 3_600_000).toISOString()); // window: 3.5 h to 2.5 h ago

    expect(now.outcome).toBe('not-enough-data');
    expect(then.result!.predictions).toBe(300);
    expect(then.outcome).toBe('drift-alerted');
  });

  it('gives no verdict on too few predictions', async () => {
    const pipeline = driftPipeline('drift-sparse', { minPredictions: 100 });
    const version = await promote(pipeline);
    await serve(pipeline.name, version, { rows: 20, seed: 7, drift: 1 });
    const summary = await check(pipeline);
    expect(summary.outcome).toBe('not-enough-data');
    expect(summary.message).toMatch(/Not enough data: 20 predictions/);
    expect(summary.message).not.toMatch(/no drift|drift detected/i);
    const html = (await h.store.get(summary.result!.htmlKey))!.toString();
    expect(html).toContain('Not enough data: no verdict');
    expect(html).not.toContain('No drift');
  });

  it('detects concept drift when newly labelled rows show the champion getting worse', async () => {
    const labelsDir = mkdtempSync(join(tmpdir(), 'retrain-labels-'));
    const labelsPath = join(labelsDir, 'labels.csv');
    const pipeline = driftPipeline(
      'drift-concept',
      { labels: { path: labelsPath }, maxMetricRegression: 0.05 },
      { metrics: { primary: 'accuracy' } },
    );
    const version = await promote(pipeline);
    const rows = await serve(pipeline.name, version, { rows: 200, seed: 8, drift: 0 });
    // Every customer the model said "no" for turned out to churn.
    writeFileSync(labelsPath, 'customer_id,churned\n' + rows.map((r) => `${pipeline.name}-8-${r.customer_id},yes`).join('\n') + '\n');

    const summary = await check(pipeline);

    const report = await storedReport(pipeline.name, summary.result!.checkId);
    expect(report.conceptDrift).toMatchObject({ labelledRows: 200, metric: 'accuracy', current: 0, drifted: true });
    expect(report.conceptDrift!.baseline).toBeGreaterThan(0.5);
    expect(summary.outcome).toBe('drift-alerted');
  });

  it('starts one retrain for concurrent drift alerts: the second joins the first', async () => {
    const pipeline = driftPipeline('drift-retrain', { onDrift: 'retrain' });
    const version = await promote(pipeline);
    await serve(pipeline.name, version, { rows: 300, seed: 9, drift: 1, prediction: 'yes' });
    // Make the retrain slow enough that both checks see it running.
    const slow = { ...pipeline, training: { ...pipeline.training, params: { behaviour: 'slow', sleep_seconds: 3 } } };

    const [a, b] = await Promise.all([check(slow), check(slow)]);

    expect(a.outcome).toBe('drift-retraining');
    expect(b.outcome).toBe('drift-retraining');
    expect(a.retrain!.workflowId).toBe(`retrain-${pipeline.name}`);
    expect(b.retrain!.runId).toBe(a.retrain!.runId);
    expect([a.retrain!.joined, b.retrain!.joined].filter(Boolean).length).toBeGreaterThanOrEqual(1);
    const retrain = await h.client.workflow.getHandle(a.retrain!.workflowId, a.retrain!.runId).result();
    expect(retrain.outcome).toBe('promoted');
  });

  it('holds the alert until drift persists for alertAfter checks, then alerts once per cooldown with the checks it covers', async () => {
    const pipeline = driftPipeline('drift-persist', { alertAfter: 2, cooldown: '2h' });
    const version = await promote(pipeline);
    // Drifted predictions in each of the last three hours; one check per hour, oldest first.
    for (const hoursAgo of [2, 1, 0]) await serve(pipeline.name, version, { rows: 300, seed: 20 + hoursAgo, drift: 1, hoursAgo });
    const at = (hoursAgo: number) => new Date(Date.now() - hoursAgo * 3_600_000).toISOString();

    const first = await check(pipeline, at(2));
    const second = await check(pipeline, at(1));
    const third = await check(pipeline, at(0));

    expect([first.result!.drifted, second.result!.drifted, third.result!.drifted]).toEqual([true, true, true]);
    expect(first.outcome).toBe('drift-held');
    expect(first.message).toContain('drift in 1 consecutive check; an alert needs 2 (drift.alertAfter)');
    expect(first.alert).toBeNull();
    expect(second.outcome).toBe('drift-alerted');
    expect(second.alertDecision).toMatchObject({ alert: true, streak: 2, coveredChecks: 2 });
    expect(third.outcome).toBe('drift-held');
    expect(third.alertDecision).toMatchObject({ alert: false, streak: 3, coveredChecks: 1 });
    expect(third.message).toMatch(
      /drift continues \(1 drifted check since the alert of check .+\); no new alert before .+ \(drift\.cooldown\)/,
    );
    // One incident, one alert, saying how long drift had held.
    const alerts = received.filter((r) => r.body.model === pipeline.name);
    expect(alerts).toHaveLength(1);
    expect(alerts[0].body).toMatchObject({ checkId: second.result!.checkId, consecutiveChecks: 2, coveredChecks: 2 });
    const held = (await listAudit(h.store, pipeline.name)).filter((e) => e.summary.startsWith('drift alert held'));
    expect(held).toHaveLength(2);
  });
});

describe('performance estimated without labels', () => {
  // The trivial trainer scores every row with the class shares of its training data, so its
  // calibration is one knot: every prediction is right with the holdout's share of its class.
  // Predicting "yes" for everyone then estimates accuracy at the share of churners, a drop.
  const quietPredictions = { method: 'jensenshannon' as const, threshold: 0.99 };

  it('estimates the champion from its scores, and an estimated drop is drift when the pipeline says so', async () => {
    const pipeline = driftPipeline(
      'drift-estimate',
      { onEstimatedDrop: 'drift', prediction: quietPredictions },
      { metrics: { primary: 'accuracy' } },
    );
    const version = await promote(pipeline);
    expect(await h.store.exists(keys.calibration(pipeline.name, version))).toBe(true);
    await serve(pipeline.name, version, { rows: 300, seed: 31, drift: 0, prediction: 'yes' });

    const summary = await check(pipeline);

    const report = await storedReport(pipeline.name, summary.result!.checkId);
    const e = report.estimatedPerformance!;
    expect(e).toMatchObject({ method: 'cbpe', metric: 'accuracy', positiveClass: 'yes', rows: 300, dropped: true, counts: true });
    expect(e.baseline!).toBeGreaterThan(0.6);
    expect(e.estimate.value!).toBeLessThan(0.4);
    expect(e.estimate.value! + e.baseline!).toBeCloseTo(1, 1); // the shares of the two classes
    expect(e.assumption).toMatch(/concept drift/);
    expect(summary.outcome).toBe('drift-alerted');
    expect(summary.result!.estimatedPerformance).toMatchObject({ metric: 'accuracy', dropped: true, counts: true });
    expect(summary.message).toMatch(
      /estimated accuracy without labels is 0\.\d+ \(.+\) against 0\.\d+ on the holdout, a drop beyond the allowed 0\.05/,
    );
    const html = (await h.store.get(summary.result!.htmlKey))!.toString();
    expect(html).toContain('Performance estimated without labels');
  });

  it('reports the estimate by default without calling it drift, beside the realised figure once labels arrive', async () => {
    const labelsDir = mkdtempSync(join(tmpdir(), 'retrain-labels-'));
    const labelsPath = join(labelsDir, 'labels.csv');
    const pipeline = driftPipeline(
      'drift-estimate-report',
      { prediction: quietPredictions, labels: { path: labelsPath } },
      { metrics: { primary: 'accuracy' } },
    );
    const version = await promote(pipeline);
    const rows = await serve(pipeline.name, version, { rows: 300, seed: 32, drift: 0, prediction: 'yes' });
    // Every customer it said "yes" for did churn: realised accuracy 1, whatever the estimate said.
    writeFileSync(labelsPath, 'customer_id,churned\n' + rows.map((r) => `${pipeline.name}-32-${r.customer_id},yes`).join('\n') + '\n');

    const summary = await check(pipeline);

    const e = (await storedReport(pipeline.name, summary.result!.checkId)).estimatedPerformance!;
    expect(e).toMatchObject({ dropped: true, counts: false, realised: { value: 1, labelledRows: 300 } });
    expect(summary.outcome).toBe('no-drift');
    expect(summary.message).toContain('(reported, not counted as drift)');
  });
});

describe('multivariate drift', () => {
  it('catches a flipped correlation that every per-feature test misses, with a classifier trained on both windows', async () => {
    // x and y standard normal with correlation +0.8 in training; the served rows flip y's sign,
    // which keeps y's distribution (symmetric) and x's, and turns the correlation to -0.8.
    const random = mulberry32(77);
    const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    const pair = () => {
      const x = normal();
      return { x, y: 0.8 * x + 0.6 * normal() };
    };
    const dir = mkdtempSync(join(tmpdir(), 'retrain-multivariate-'));
    const dataPath = join(dir, 'pairs.csv');
    const training = Array.from({ length: 2000 }, (_, i) => ({ id: `t${i}`, ...pair() }));
    writeFileSync(
      dataPath,
      'id,x,y,label\n' + training.map((r) => `${r.id},${r.x},${r.y},${r.x + r.y > 0 ? 'yes' : 'no'}`).join('\n') + '\n',
    );
    const pipeline = driftPipeline(
      'drift-multivariate',
      {
        multivariate: {},
        features: { x: { method: 'ks' }, y: { method: 'ks' } },
        prediction: { method: 'jensenshannon', threshold: 0.99 },
      },
      {
        source: { path: dataPath },
        idColumn: 'id',
        label: 'label',
        features: [
          { name: 'x', type: 'numeric' },
          { name: 'y', type: 'numeric' },
        ],
        metrics: { primary: 'accuracy' },
      },
    );
    const version = await promote(pipeline);
    const logger = createPredictionLogger({ store: h.store, model: pipeline.name, version });
    for (let i = 0; i < 1500; i++) {
      const { x, y } = pair();
      logger.logPrediction({
        id: `mv-${i}`,
        timestamp: new Date(Date.now() - 60_000),
        features: { x, y: -y },
        prediction: 'no',
        latencyMs: 1,
      });
    }
    await logger.close();

    const summary = await check(pipeline);

    const report = await storedReport(pipeline.name, summary.result!.checkId);
    expect(report.dataDrift.features.map((f) => [f.name, f.drifted])).toEqual([
      ['x', false],
      ['y', false],
    ]);
    const m = report.multivariateDrift!;
    console.log(
      `flipped correlation: per-feature KS p = ${report.dataDrift.features.map((f) => f.pValue!.toFixed(3)).join(', ')}; domain classifier ROC AUC ${m.auc!.toFixed(3)} (threshold ${m.threshold}, chance bar ${m.noiseBar!.toFixed(3)})`,
    );
    expect(m).toMatchObject({ method: 'domain-classifier', drifted: true });
    expect(m.auc!).toBeGreaterThan(0.7);
    expect(m.topFeatures.map((f) => f.name).sort()).toEqual(['x', 'y']);
    expect(summary.result!.multivariateDrifted).toBe(true);
    expect(summary.outcome).toBe('drift-alerted');
    expect(summary.message).toMatch(
      /a classifier tells the window from the reference \(ROC AUC 0\.\d+, mostly by [xy], [xy]\): the features changed together/,
    );
    const html = (await h.store.get(summary.result!.htmlKey))!.toString();
    expect(html).toContain('Features together');
  });
});

describe('drift per segment', () => {
  // KS on the whole window too: with its effect floor, a change in a sixth of the rows moves the
  // whole window's statistic by about a sixth (0.07, under the floor of 0.1). A distance test
  // (Wasserstein, the default for a reference of 1,500 rows) moves by that share as well, but
  // with no floor above its noise at these sizes.
  const ks = { method: 'ks' as const };
  const ksFeatures = { tenure_months: ks, monthly_spend: ks, support_tickets: ks };

  it('flags a segment whose rows drifted while the whole window did not, and lists a segment too small to test', async () => {
    const pipeline = driftPipeline('drift-segments', { features: ksFeatures }, { segments: ['plan'] });
    const version = await promote(pipeline);
    // Enterprise customers stay 8 months longer and open one more ticket; the others are as in training.
    await serve(pipeline.name, version, {
      rows: 2000,
      seed: 61,
      drift: 0,
      adjust: (r) => (r.plan === 'enterprise' ? { ...r, tenure_months: r.tenure_months + 8, support_tickets: r.support_tickets + 1 } : r),
    });
    // A plan too new to have training rows, and too few rows in the window anyway.
    await serve(pipeline.name, version, { rows: 12, seed: 62, drift: 0, adjust: (r) => ({ ...r, plan: 'trial' as ChurnRow['plan'] }) });

    const summary = await check(pipeline);

    const report = await storedReport(pipeline.name, summary.result!.checkId);
    expect(report.dataDrift.datasetDrift.drifted).toBe(false);
    const segments = report.segments!;
    expect(segments.minRows).toEqual({ reference: 30, current: 30 });
    expect(segments.reference).toMatchObject({ sampled: false });
    const [plan] = segments.columns;
    expect(plan.column).toBe('plan');
    expect(plan.values.map((v) => [v.value, v.tested, v.datasetDrift, v.hiddenByAverage])).toEqual([
      ['basic', true, false, false],
      ['pro', true, false, false],
      ['enterprise', true, true, true],
      ['trial', false, false, false],
    ]);
    const enterprise = plan.values[2];
    expect(enterprise.featureCount).toBe(3); // plan itself is constant in its own segment
    expect(enterprise.driftedFeatures).toEqual(expect.arrayContaining(['tenure_months', 'support_tickets']));
    expect(enterprise.rows.reference).toBeGreaterThan(100);
    expect(plan.values[3]).toMatchObject({ rows: { current: 12, reference: 0 }, share: null });
    expect(plan.values[3].note).toBe(
      'not tested: too few rows, 12 rows in the window (fewer than 30) and 0 in the training data (fewer than 30)',
    );
    expect(plan.leftOut.values).toBe(0);

    // Drift in a segment is drift: the check alerts, and says where.
    expect(summary.result).toMatchObject({ drifted: true, segmentDrifted: true });
    expect(summary.outcome).toBe('drift-alerted');
    expect(summary.message).toMatch(
      /a segment drifted: plan = enterprise \([23] of 3 features: [a-z_, ]+; hidden by the whole window's average\)/,
    );
    expect(received.filter((r) => r.path === '/alerts' && r.body.model === pipeline.name)).toHaveLength(1);
    const html = (await h.store.get(summary.result!.htmlKey))!.toString();
    expect(html).toContain('<section id="segments">');
    expect(html).toContain('hidden by the average');
  });
});

describe('serving budgets', () => {
  /** The inference owner's route: the same loopback receiver, on its own path. */
  const inferenceRoute = () => ({ url: hookUrl.replace(/\/alerts$/, '/inference'), format: 'json' as const });
  const fromInference = (model: string) => received.filter((r) => r.path === '/inference' && r.body.model === model);

  it('alerts the inference owner once when cost and p95 latency exceed the budgets, without calling it drift', async () => {
    const pipeline = driftPipeline(
      'drift-budget',
      {},
      { budgets: { maxCostPer1000: 0.1, maxLatencyP95Ms: 10 }, alerts: { inference: [inferenceRoute()] } },
    );
    const version = await promote(pipeline);
    await serve(pipeline.name, version, { rows: 400, seed: 101, drift: 0 }); // 0.0002 a prediction, p95 14 ms

    const summary = await check(pipeline);

    expect(summary.outcome).toBe('no-drift');
    const checkId = summary.result!.checkId;
    const report = await storedReport(pipeline.name, checkId);
    expect(report.budgets).toMatchObject({ limits: { maxCostPer1000: 0.1, maxLatencyP95Ms: 10 }, over: true });
    expect(report.budgets!.checks).toEqual([
      { version, what: 'costPer1000', figure: expect.closeTo(0.2, 12), limit: 0.1, judged: true, over: true, predictions: 400 },
      { version, what: 'latencyP95Ms', figure: 14, limit: 10, judged: true, over: true, predictions: 400 },
    ]);
    expect(summary.result!.overBudget).toEqual([
      { version, what: 'costPer1000', figure: expect.closeTo(0.2, 12), limit: 0.1 },
      { version, what: 'latencyP95Ms', figure: 14, limit: 10 },
    ]);
    expect(summary.message).toMatch(
      /^No drift: .*; serving is over budget: v\w+ cost per 1,000 predictions 0\.2 \(limit 0\.1\), v\w+ p95 latency 14 ms \(limit 10 ms\)\. Serving over budget: alerted the inference owner \(api@example\.com\)\.$/,
    );
    expect(summary.budgetAlert).toMatchObject({ delivered: 'webhook', routes: [{ status: 'sent' }] });

    const alerts = fromInference(pipeline.name);
    expect(alerts).toHaveLength(1);
    expect(alerts[0].headers['idempotency-key']).toBe(`${checkId}-budget`);
    expect(alerts[0].body).toMatchObject({
      kind: 'retrain.budget-alert/v1',
      checkId,
      owner: 'api@example.com',
      version,
      overBudget: summary.result!.overBudget,
    });
    // Not drift: the monitoring route heard nothing.
    expect(received.filter((r) => r.path === '/alerts' && r.body.model === pipeline.name)).toHaveLength(0);
    const audit = (await listAudit(h.store, pipeline.name)).filter((e) => e.type === 'alert');
    expect(audit.map((e) => e.summary)).toEqual([expect.stringMatching(/^budget alert to api@example\.com via 127\.0\.0\.1:\d+: /)]);
    const html = (await h.store.get(summary.result!.htmlKey))!.toString();
    expect(html).toContain('Budgets <span class="badge bad">▲ over budget</span>');

    // A retried delivery of the same alert id sends nothing again.
    const again = await deliverAlert(h.store, {
      alertId: `${checkId}-budget`,
      routes: [inferenceRoute()],
      headline: {
        model: pipeline.name,
        version,
        area: 'inference',
        owner: 'api@example.com',
        severity: 'warning',
        subject: 'retry',
        lines: [],
      },
      json: { model: pipeline.name },
    });
    expect(again).toEqual([{ ...inferenceRoute(), status: 'already-sent' }]);
    expect(fromInference(pipeline.name)).toHaveLength(1);
  });

  it('alerts both owners when a drifted check is also over budget: monitoring for the drift, inference for the budget', async () => {
    const pipeline = driftPipeline(
      'drift-budget-drifted',
      {},
      { budgets: { maxLatencyP95Ms: 10 }, alerts: { inference: [inferenceRoute()] } },
    );
    const version = await promote(pipeline);
    await serve(pipeline.name, version, { rows: 400, seed: 6, drift: 1, prediction: 'yes' });

    const summary = await check(pipeline);

    expect(summary.outcome).toBe('drift-alerted');
    expect(summary.result).toMatchObject({ drifted: true, overBudget: [{ version, what: 'latencyP95Ms', figure: 14, limit: 10 }] });
    expect(summary.message).toMatch(/^Drift detected: .*\. Serving over budget: alerted the inference owner \(api@example\.com\)\.$/);
    expect(received.filter((r) => r.path === '/alerts' && r.body.model === pipeline.name)).toHaveLength(1);
    expect(fromInference(pipeline.name)).toHaveLength(1);
  });

  it('sends no alert when serving is within budget', async () => {
    const pipeline = driftPipeline(
      'drift-budget-within',
      {},
      { budgets: { maxCostPer1000: 1, maxLatencyP95Ms: 50 }, alerts: { inference: [inferenceRoute()] } },
    );
    const version = await promote(pipeline);
    await serve(pipeline.name, version, { rows: 400, seed: 101, drift: 0 });

    const summary = await check(pipeline);

    expect(summary.outcome).toBe('no-drift');
    const report = await storedReport(pipeline.name, summary.result!.checkId);
    expect(report.budgets!.over).toBe(false);
    expect(report.budgets!.checks.map((c) => [c.what, c.judged, c.over])).toEqual([
      ['costPer1000', true, false],
      ['latencyP95Ms', true, false],
    ]);
    expect(summary.result!.overBudget).toBeUndefined();
    expect(summary.budgetAlert).toBeUndefined();
    expect(summary.message).not.toMatch(/budget/);
    expect(fromInference(pipeline.name)).toHaveLength(0);
  });

  it('checks the budgets on a partitioned check too, which says it did not test segments', async () => {
    const pipeline = driftPipeline(
      'drift-budget-parts',
      { partitioned: true },
      { segments: ['plan'], budgets: { maxLatencyP95Ms: 10 }, alerts: { inference: [inferenceRoute()] } },
    );
    const version = await promote(pipeline);
    await serve(pipeline.name, version, { rows: 400, seed: 101, drift: 0 });

    const summary = await check(pipeline);

    const report = await storedReport(pipeline.name, summary.result!.checkId);
    // The p95 comes from the latency sketch, within its rank error of the exact 14 ms.
    expect(report.budgets!.checks).toEqual([expect.objectContaining({ version, what: 'latencyP95Ms', limit: 10, over: true })]);
    expect(summary.result!.overBudget).toHaveLength(1);
    expect(fromInference(pipeline.name)).toHaveLength(1);
    expect(report.segments).toMatchObject({ reference: null, columns: [], drifted: false });
    expect(report.segments!.note).toMatch(/^Segments not tested: a partitioned check/);
    expect(summary.result!.segmentDrifted).toBeUndefined();
  });
});

describe('the prediction log itself', () => {
  it('alerts the logging owner when too many lines of the window are invalid, once per check', async () => {
    const loggingUrl = `${hookUrl}/logging`;
    const pipeline = driftPipeline('drift-bad-log', {}, { alerts: { logging: [{ url: loggingUrl, format: 'json' }] } });
    const version = await promote(pipeline);
    await serve(pipeline.name, version, { rows: 300, seed: 41, drift: 0 });
    // A serving app that lost a field on the way: 12 lines without latencyMs (12 of 312, 3.8%).
    const at = new Date(Date.now() - 60_000);
    const broken = Array.from({ length: 12 }, (_, i) =>
      JSON.stringify({ id: `bad-${i}`, timestamp: at.toISOString(), model: pipeline.name, version, features: {}, prediction: 'no' }),
    );
    await h.store.put(keys.predictionBatch(pipeline.name, isoHour(at.toISOString()), 'broken'), broken.join('\n') + '\n');

    const summary = await check(pipeline);

    expect(summary.result!.loggingProblem).toMatchObject({ invalidLines: 12, lines: 312, limit: 0.01 });
    expect(summary.result!.loggingProblem!.firstInvalid).toMatch(/latencyMs/);
    expect(summary.loggingAlert).toMatchObject({ delivered: 'webhook', url: loggingUrl });
    expect(summary.message).toMatch(/Invalid log lines: alerted the logging owner \(logs@example\.com\)/);
    expect(summary.result!.summary).toMatch(
      /12 of 312 prediction-log lines in the window \(3\.8%, more than the 1\.0% allowed\) are invalid/,
    );
    const sent = received.filter((r) => r.body.kind === 'retrain.logging-alert/v1' && r.body.model === pipeline.name);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.headers['idempotency-key']).toBe(`${summary.result!.checkId}-logging`);
    // Within the allowed share: reported in the result's counts only, no alert.
    const lenient = { ...pipeline, drift: { ...pipeline.drift!, maxInvalidLineShare: 0.05 } };
    const quiet = await check(lenient);
    expect(quiet.result!.loggingProblem).toBeUndefined();
    expect(quiet.loggingAlert).toBeUndefined();
  });
});

describe('drift schedules', () => {
  it('applies one schedule per pipeline idempotently, and lists, triggers, pauses and deletes it', async () => {
    const pipeline = driftPipeline('drift-scheduled', {}, { schedule: { cron: '0 3 * * *' } });
    const unscheduled = driftPipeline('drift-unscheduled');
    // Scheduled checks name the model: the worker loads its definition from the project.
    writeFileSync(join(projectDir, 'pipelines', `${pipeline.name}.ts`), `export default ${JSON.stringify(pipeline, null, 2)};\n`);
    await promote(pipeline);

    const first = await applySchedules(h.client, h.config, [pipeline, unscheduled]);
    expect(first).toEqual([
      expect.objectContaining({ model: 'drift-scheduled', action: 'created', cron: '0 3 * * *' }),
      expect.objectContaining({ model: 'drift-unscheduled', action: 'skipped' }),
    ]);
    const second = await applySchedules(h.client, h.config, [pipeline]);
    expect(second[0].action).toBe('updated');

    const handle = h.client.schedule.getHandle(driftScheduleId(pipeline.name));
    const description = await handle.describe();
    expect(description.action).toMatchObject({ type: 'startWorkflow', workflowType: 'driftCheck', taskQueue: h.config.taskQueue });
    expect(description.action.type === 'startWorkflow' && description.action.args).toEqual([{ model: pipeline.name, trigger: 'schedule' }]);
    expect(description.policies.overlap).toBe('SKIP');

    let listed = await listSchedules(h.client);
    for (let i = 0; i < 40 && !listed.some((s) => s.scheduleId === handle.scheduleId); i++) {
      await new Promise((r) => setTimeout(r, 250)); // schedule listing is eventually consistent
      listed = await listSchedules(h.client);
    }
    expect(listed.find((s) => s.scheduleId === handle.scheduleId)).toMatchObject({ cron: ['0 3 * * *'], paused: false });

    await handle.trigger();
    for (let i = 0; i < 120 && (await listAudit(h.store, pipeline.name)).every((e) => e.type !== 'drift-check'); i++)
      await new Promise((r) => setTimeout(r, 250));
    expect((await listAudit(h.store, pipeline.name)).some((e) => e.type === 'drift-check')).toBe(true);

    await handle.pause('maintenance');
    expect((await handle.describe()).state).toMatchObject({ paused: true, note: 'maintenance' });
    await handle.unpause();
    expect((await handle.describe()).state.paused).toBe(false);
    await handle.delete();
    await expect(handle.describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
  });
});

describe('partitioned drift checks', () => {
  /** Runs a check and counts the partition activities its history scheduled. */
  async function checkCounted(pipeline: ReturnType<typeof driftPipeline>): Promise<{ summary: DriftCheckSummary; partitions: number }> {
    const workflowId = `${driftScheduleId(pipeline.name)}-parts-${Date.now()}-${Math.random().toString(36).slice(2, 6)}`;
    const handle = await h.client.workflow.start('driftCheck', {
      taskQueue: h.config.taskQueue,
      workflowId,
      args: [{ pipeline, trigger: 'test' }],
    });
    const summary: DriftCheckSummary = await handle.result();
    const history = await handle.fetchHistory();
    const partitions = (history.events ?? []).filter(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'summarizeDriftPartition',
    ).length;
    return { summary, partitions };
  }
  const exactOf = (p: ReturnType<typeof driftPipeline>) => ({ ...p, drift: { ...p.drift!, partitioned: false } });

  it("summarises each hour of the window in its own activity and reaches the exact check's verdicts", async () => {
    const pipeline = driftPipeline('drift-parts', { window: '3h', partitioned: true });
    const version = await promote(pipeline);
    for (const [hoursAgo, seed] of [
      [0, 21],
      [1, 22],
      [2, 23],
    ])
      await serve(pipeline.name, version, { rows: 1500, seed, drift: 0, hoursAgo });

    const { summary, partitions } = await checkCounted(pipeline);
    const exact = await check(exactOf(pipeline));

    // A 3-hour window that does not start on the hour touches 4 hours.
    expect(partitions).toBe(4);
    expect(summary.outcome).toBe('no-drift');
    expect(exact.outcome).toBe('no-drift');
    expect(summary.result).toMatchObject({ predictions: 4500, windowPredictions: 4500, sampled: false });
    expect(summary.message).toMatch(/^Summarised all 4500 predictions of the window in 4 partitions\. No drift/);
    expect(summary.result!.accuracy).toMatch(/^Approximate, rank error ≤ .*: monthly_spend \(wasserstein\)\./);
    expect(exact.result!.accuracy).toBeUndefined();
    const report = await storedReport(pipeline.name, summary.result!.checkId);
    const exactReport = await storedReport(pipeline.name, exact.result!.checkId);
    // monthly_spend has thousands of distinct values: tested on sketches; the others exactly.
    expect(report.accuracy).toMatch(/^Approximate, rank error ≤ 0\.\d+ \(99% confidence\): monthly_spend \(wasserstein\)\. Exact: /);
    for (const f of report.dataDrift.features) {
      const e = exactReport.dataDrift.features.find((x) => x.name === f.name)!;
      expect({ name: f.name, drifted: f.drifted, method: f.method }).toEqual({ name: e.name, drifted: e.drifted, method: e.method });
      expect(f.current.used).toBe(e.current.used);
      const approx = f as typeof f & { approximate: boolean; statisticError?: number };
      if (approx.approximate) expect(Math.abs(f.statistic! - e.statistic!)).toBeLessThanOrEqual(approx.statisticError!);
      else expect(f.statistic).toBeCloseTo(e.statistic!, 12);
    }
    expect(report.predictionDrift).toMatchObject({ drifted: false, statistic: exactReport.predictionDrift!.statistic });
    const [serving] = report.serving!;
    const [exactServing] = exactReport.serving!;
    expect(serving).toMatchObject({ version, predictions: 4500, latencyMs: { max: 14 }, cost: { counted: 4500 } });
    expect(serving.latencyMs.mean).toBeCloseTo(exactServing.latencyMs.mean, 9);
    expect(serving.cost.total).toBeCloseTo(exactServing.cost.total, 12);
    expect(Math.abs(serving.latencyMs.p95 - exactServing.latencyMs.p95)).toBeLessThanOrEqual(1);
    const html = (await h.store.get(summary.result!.htmlKey))!.toString();
    expect(html).toContain('Approximate, rank error');
    expect(html).toContain('<abbr title="estimated from quantile sketches: see the accuracy note">≈</abbr>');
    // The scratch summaries are gone once the report is stored.
    expect(await h.store.list(`drift-summaries/${pipeline.name}/`)).toEqual([]);
  });

  it('summarises an hour to the same bytes under the same key on a retry, so a retried hour counts once', async () => {
    const pipeline = driftPipeline('drift-parts-retry', { window: '1h', partitioned: true });
    const version = await promote(pipeline);
    await serve(pipeline.name, version, { rows: 700, seed: 51, drift: 0 });
    const to = new Date();
    const from = new Date(to.getTime() - 3_600_000);
    const request = {
      model: pipeline.name,
      checkId: 'retry-check',
      from: from.toISOString(),
      to: to.toISOString(),
      ...summaryFeaturesOf(pipeline),
    };
    const hours = [isoHour(from), isoHour(to)].filter((hour, i, all) => all.indexOf(hour) === i);
    for (const hour of hours) {
      const first = await summarizePartition(h.store, { ...request, hours: [hour] });
      const body = (await h.store.get(first.key))!;
      const again = await summarizePartition(h.store, { ...request, hours: [hour] });
      expect(again).toEqual(first);
      expect((await h.store.get(again.key))!.equals(body)).toBe(true);
    }
  });

  it('alerts on drift found in one hour of a partitioned window, as the exact check does', async () => {
    const pipeline = driftPipeline('drift-parts-loud', { window: '2h', partitioned: true });
    const version = await promote(pipeline);
    await serve(pipeline.name, version, { rows: 300, seed: 31, drift: 0, hoursAgo: 1 });
    await serve(pipeline.name, version, { rows: 900, seed: 32, drift: 1, prediction: 'yes' });

    const { summary } = await checkCounted(pipeline);
    const exact = await check(exactOf(pipeline));

    expect(summary.outcome).toBe('drift-alerted');
    const report = await storedReport(pipeline.name, summary.result!.checkId);
    const exactReport = await storedReport(pipeline.name, exact.result!.checkId);
    const drifted = (r: DriftCheckReport) => r.dataDrift.features.filter((f) => f.drifted).map((f) => f.name);
    expect(drifted(report)).toEqual(drifted(exactReport));
    expect(report.predictionDrift?.drifted).toBe(true);
    expect(received.filter((r) => r.body.model === pipeline.name).map((r) => r.body.checkId)).toContain(summary.result!.checkId);
  });

  it('joins labels to predictions by id for concept drift without holding the window', async () => {
    const labelsDir = mkdtempSync(join(tmpdir(), 'retrain-labels-'));
    const labelsPath = join(labelsDir, 'labels.csv');
    const pipeline = driftPipeline(
      'drift-parts-concept',
      { labels: { path: labelsPath }, maxMetricRegression: 0.05, partitioned: true },
      { metrics: { primary: 'accuracy' } },
    );
    const version = await promote(pipeline);
    const rows = await serve(pipeline.name, version, { rows: 200, seed: 41, drift: 0 });
    writeFileSync(labelsPath, 'customer_id,churned\n' + rows.map((r) => `${pipeline.name}-41-${r.customer_id},yes`).join('\n') + '\n');

    const { summary } = await checkCounted(pipeline);
    const exact = await check(exactOf(pipeline));

    const report = await storedReport(pipeline.name, summary.result!.checkId);
    expect(report.conceptDrift).toMatchObject({ labelledRows: 200, metric: 'accuracy', current: 0, drifted: true });
    const exactReport = await storedReport(pipeline.name, exact.result!.checkId);
    expect(report.conceptDrift!.metrics).toEqual(exactReport.conceptDrift!.metrics);
    expect(report.dataDrift.features.map((f) => [f.name, f.drifted])).toEqual(
      exactReport.dataDrift.features.map((f) => [f.name, f.drifted]),
    );
    expect(summary.outcome).toBe('drift-alerted');
  });

  it("estimates the champion's performance from binned scores, as the exact check does row by row", async () => {
    const labelsDir = mkdtempSync(join(tmpdir(), 'retrain-labels-'));
    const labelsPath = join(labelsDir, 'labels.csv');
    const pipeline = driftPipeline(
      'drift-parts-estimate',
      { window: '2h', partitioned: true, labels: { path: labelsPath }, prediction: { method: 'jensenshannon', threshold: 0.99 } },
      { metrics: { primary: 'accuracy' } },
    );
    const version = await promote(pipeline);
    const said = await serve(pipeline.name, version, { rows: 400, seed: 61, drift: 0, prediction: 'yes', hoursAgo: 1 });
    await serve(pipeline.name, version, { rows: 500, seed: 62, drift: 0 });
    writeFileSync(labelsPath, 'customer_id,churned\n' + said.map((r) => `${pipeline.name}-61-${r.customer_id},yes`).join('\n') + '\n');

    const { summary } = await checkCounted(pipeline);
    const exact = await check(exactOf(pipeline));

    const e = (await storedReport(pipeline.name, summary.result!.checkId)).estimatedPerformance!;
    const x = (await storedReport(pipeline.name, exact.result!.checkId)).estimatedPerformance!;
    expect(e).toMatchObject({ method: 'cbpe', metric: 'accuracy', positiveClass: 'yes', rows: 900, missingScores: 0 });
    // The trivial trainer's calibration is one knot: flat across every bin, so binning costs nothing.
    expect(e.note).toMatch(/estimated from a histogram of the positive-class scores \(1000 equal bins on \[0, 1\]\), not row by row/);
    expect(e.note).toMatch(/by at most 0 and roc_auc by at most 0;/);
    for (const m of ['accuracy', 'precision', 'recall', 'f1', 'roc_auc'] as const) {
      expect(e.metrics[m].value, m).toBeCloseTo(x.metrics[m].value!, 9);
      // Both bands come from 200 draws, binomial per bin or Bernoulli per row.
      expect(Math.abs(e.metrics[m].lower! - x.metrics[m].lower!), m).toBeLessThan(0.03);
      expect(Math.abs(e.metrics[m].upper! - x.metrics[m].upper!), m).toBeLessThan(0.03);
    }
    expect({ baseline: e.baseline, dropped: e.dropped, counts: e.counts }).toEqual({
      baseline: x.baseline,
      dropped: x.dropped,
      counts: x.counts,
    });
    // The realised figures of the labelled rows beside it, as in the exact report.
    expect(e.realised).toEqual(x.realised);
    expect(e.realised).toMatchObject({ labelledRows: 400 });
    expect(summary.result!.estimatedPerformance).toMatchObject({ metric: 'accuracy', value: e.estimate.value });
  });
});
