import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../lib/audit';
import { attentionReasons, byAttention, type AttentionFacts } from '../lib/console/attention';
import { auditEntry, filterAudit, type AuditEntry } from '../lib/console/audit-entry';
import { driftHistoryEntry } from '../lib/console/drift-history';
import type { DriftCheckReport } from '../lib/drift/report';
import { keys } from '../lib/keys';
import { championAt, type ChampionPointer, type ModelVersion, type RegistryChange } from '../lib/registry';
import { forgetListingIndexes } from '../services/listing-index';
import { auditHistory, auditOfVersion, driftHistory, versionHistory } from '../services/model-history';
import type { Evaluation } from '../shared/results';
import { LocalStore } from '../store/local-store';

/*
 * The console's view of a model's history, on a small store written by hand in the layout of
 * lib/keys.ts: versions with their evaluations, audit events and drift reports.
 */

const MODEL = 'churn';

function version(v: string, createdAt: string, rows = 100): ModelVersion {
  return {
    model: MODEL,
    version: v,
    createdAt,
    task: 'classification',
    artifacts: { model: keys.artifact(MODEL, v, 'model.pkl') },
    classes: ['no', 'yes'],
    trainMetrics: { accuracy: 0.9 },
    lineage: {
      datasetSha256: `sha-${v}`,
      datasetKey: `datasets/${MODEL}/sha-${v}.csv`,
      trainKey: 'train',
      holdoutKey: 'holdout',
      rows: { train: rows, holdout: rows / 4 },
      features: [{ name: 'tenure', type: 'numeric' }],
      label: 'churned',
      params: { depth: 3, v },
      seed: 1,
      trainingCommand: ['python', 'train.py'],
      trainingCodeVersion: `code-${v}`,
      libraryVersions: {},
      workflowId: `wf-${v}`,
      runId: `run-${v}`,
    },
  };
}

function evaluation(challenger: string, champion: string | null, accuracy: number, championAccuracy: number | null): Evaluation {
  return {
    challenger: { accuracy } as Evaluation['challenger'],
    champion: championAccuracy === null ? null : ({ accuracy: championAccuracy } as Evaluation['challenger']),
    championVersion: champion,
    holdoutRows: 25,
    key: keys.evaluation(MODEL, challenger, champion),
  };
}

function event(id: string, at: string, over: Partial<AuditEvent> = {}): AuditEvent {
  return {
    id,
    at,
    type: 'training',
    model: MODEL,
    version: null,
    outcome: 'ok',
    summary: `event ${id}`,
    workflowId: 'wf',
    runId: 'run',
    details: {},
    ...over,
  };
}

function report(checkId: string, createdAt: string, over: Record<string, unknown> = {}): DriftCheckReport {
  return {
    kind: 'retrain.drift-report/v1',
    model: MODEL,
    version: 'v1',
    checkId,
    createdAt,
    reference: { label: 'holdout', rows: 100 },
    current: { label: 'window', rows: 80 },
    dataDrift: {
      features: [
        { name: 'tenure', drifted: true },
        { name: 'plan', drifted: false },
      ],
      datasetDrift: { share: 0.5, driftedCount: 1, featureCount: 2, threshold: 0.5, drifted: true },
      distributions: {},
    },
    predictionDrift: null,
    conceptDrift: null,
    serving: null,
    drifted: true,
    summary: `check ${checkId}`,
    ...over,
  } as unknown as DriftCheckReport;
}

const json = (v: unknown) => JSON.stringify(v);

let store: LocalStore;

beforeAll(async () => {
  store = new LocalStore(mkdtempSync(join(tmpdir(), 'retrain-console-history-')));
  // Versions, written out of order; v3 never evaluated.
  await store.put(keys.version(MODEL, 'v2'), json(version('v2', '2024-02-01T00:00:00.000Z', 200)));
  await store.put(keys.version(MODEL, 'v1'), json(version('v1', '2024-01-01T00:00:00.000Z')));
  await store.put(keys.version(MODEL, 'v3'), json(version('v3', '2024-03-01T00:00:00.000Z')));
  await store.put(keys.evaluation(MODEL, 'v1', null), json(evaluation('v1', null, 0.8, null)));
  await store.put(keys.evaluation(MODEL, 'v2', 'v1'), json(evaluation('v2', 'v1', 0.85, 0.8)));
  // The champion pointer and another model's version are not versions of this model.
  await store.put(keys.pointer(MODEL), json({ model: MODEL, champion: 'v2', previous: 'v1', updatedAt: null, history: [] }));
  await store.put(keys.version('other', 'o1'), json({ ...version('o1', '2024-01-01T00:00:00.000Z'), model: 'other' }));

  await store.put(keys.auditEvent(MODEL, 'b'), json(event('b', '2024-02-01T00:00:00.000Z', { version: 'v2', type: 'training' })));
  await store.put(
    keys.auditEvent(MODEL, 'a'),
    json(event('a', '2024-01-01T00:00:00.000Z', { version: 'v1', type: 'approval', details: { by: 'alice@example.com', note: 1 } })),
  );
  await store.put(
    keys.auditEvent(MODEL, 'c'),
    json(event('c', '2024-02-02T00:00:00.000Z', { version: 'v2', type: 'promotion', details: { actor: 'bob' } })),
  );
  // Same instant as c: ordered by id.
  await store.put(keys.auditEvent(MODEL, 'c0'), json(event('c0', '2024-02-02T00:00:00.000Z', { version: 'v2', type: 'gate' })));

  await store.put(keys.driftReport(MODEL, 'check-2', 'json'), json(report('check-2', '2024-02-10T00:00:00.000Z')));
  await store.put(keys.driftReport(MODEL, 'check-2', 'html'), '<html>report</html>');
  await store.put(
    keys.driftReport(MODEL, 'check-1', 'json'),
    json(report('check-1', '2024-02-05T00:00:00.000Z', { drifted: false, enoughData: false, summary: 'not enough data' })),
  );
  // Something else stored under reports/: not a drift report, left out.
  await store.put(keys.driftReport(MODEL, 'other', 'json'), json({ kind: 'something-else/v1', createdAt: '2024-02-07T00:00:00.000Z' }));
});

describe('versionHistory', () => {
  it('lists every version oldest first, with its holdout metrics and what it was evaluated against', async () => {
    const versions = await versionHistory(store, MODEL);
    expect(versions.map((v) => v.version)).toEqual(['v1', 'v2', 'v3']);
    expect(versions[0]).toEqual({
      version: 'v1',
      createdAt: '2024-01-01T00:00:00.000Z',
      datasetSha256: 'sha-v1',
      rows: { train: 100, holdout: 25 },
      params: { depth: 3, v: 'v1' },
      trainingCodeVersion: 'code-v1',
      holdout: { accuracy: 0.8 },
      against: null,
    });
    expect(versions[1]).toMatchObject({ version: 'v2', rows: { train: 200, holdout: 50 }, holdout: { accuracy: 0.85 } });
    expect(versions[1]!.against).toEqual({ version: 'v1', metrics: { accuracy: 0.8 } });
    expect(versions[2]).toMatchObject({ version: 'v3', holdout: null, against: null });
  });

  it('is the same answer through the stored index, and sees a version added later', async () => {
    forgetListingIndexes(store);
    expect(await store.exists(keys.listingIndex(MODEL, 'versions'))).toBe(true);
    const before = await versionHistory(store, MODEL);
    expect(before.map((v) => v.version)).toEqual(['v1', 'v2', 'v3']);
    const s = new LocalStore(store.root);
    await s.put(keys.version(MODEL, 'v0'), json(version('v0', '2023-12-01T00:00:00.000Z')));
    expect((await versionHistory(s, MODEL)).map((v) => v.version)).toEqual(['v0', 'v1', 'v2', 'v3']);
  });

  it('is empty for a model without versions', async () => {
    expect(await versionHistory(store, 'nothing')).toEqual([]);
  });
});

describe('auditHistory and auditOfVersion', () => {
  it('lists every event without details, oldest first (by id at the same instant), with who acted', async () => {
    const entries = await auditHistory(store, MODEL);
    expect(entries.map((e) => e.id)).toEqual(['a', 'b', 'c', 'c0']);
    expect(entries[0]).toEqual({
      id: 'a',
      at: '2024-01-01T00:00:00.000Z',
      type: 'approval',
      model: MODEL,
      version: 'v1',
      outcome: 'ok',
      summary: 'event a',
      workflowId: 'wf',
      runId: 'run',
      by: 'alice@example.com',
    });
    expect(entries.map((e) => e.by)).toEqual(['alice@example.com', null, 'bob', null]);
    for (const e of entries) expect(e).not.toHaveProperty('details');
  });

  it('reads the full events of one version, details included, oldest first', async () => {
    const events = await auditOfVersion(store, MODEL, 'v2');
    expect(events.map((e) => e.id)).toEqual(['b', 'c', 'c0']);
    expect(events[1]!.details).toEqual({ actor: 'bob' });
    expect((await auditOfVersion(store, MODEL, 'v1'))[0]!.details).toEqual({ by: 'alice@example.com', note: 1 });
    expect(await auditOfVersion(store, MODEL, 'v9')).toEqual([]);
  });
});

describe('driftHistory', () => {
  it('lists the drift reports oldest first, leaving out the HTML and other kinds of objects', async () => {
    const checks = await driftHistory(store, MODEL);
    expect(checks.map((c) => c.checkId)).toEqual(['check-1', 'check-2']);
    expect(checks[0]).toMatchObject({
      drifted: false,
      enoughData: false,
      datasetDriftShare: null,
      dataDrifted: null,
      summary: 'not enough data',
    });
    expect(checks[1]).toMatchObject({
      drifted: true,
      enoughData: true,
      rows: 80,
      datasetDriftShare: 0.5,
      dataDrifted: true,
      features: ['tenure', 'plan'],
      driftedFeatures: ['tenure'],
      reportKey: keys.driftReport(MODEL, 'check-2', 'json'),
    });
  });
});

describe('driftHistoryEntry', () => {
  it('keeps the verdicts and figures of a full report', () => {
    const serving = [{ version: 'v1', predictions: 80 }];
    const entry = driftHistoryEntry(
      report('k', '2024-03-01T00:00:00.000Z', {
        predictionDrift: { name: 'prediction', drifted: false },
        conceptDrift: {
          metric: 'accuracy',
          baseline: 0.8,
          current: 0.7,
          labelledRows: 40,
          maxRegression: 0.05,
          drifted: true,
          metrics: {},
        },
        estimatedPerformance: {
          metric: 'roc_auc',
          baseline: 0.9,
          estimate: { value: 0.82, lower: 0.8, upper: 0.84 },
          dropped: true,
        },
        serving,
        budgets: { over: true },
      }),
      'reports/churn/k.json',
    );
    expect(entry).toEqual({
      checkId: 'k',
      at: '2024-03-01T00:00:00.000Z',
      version: 'v1',
      drifted: true,
      enoughData: true,
      rows: 80,
      datasetDriftShare: 0.5,
      dataDrifted: true,
      features: ['tenure', 'plan'],
      driftedFeatures: ['tenure'],
      predictionDrifted: false,
      conceptDrifted: true,
      concept: { metric: 'accuracy', baseline: 0.8, current: 0.7, labelledRows: 40 },
      estimated: { metric: 'roc_auc', baseline: 0.9, value: 0.82, lower: 0.8, upper: 0.84, dropped: true },
      serving,
      overBudget: true,
      summary: 'check k',
      reportKey: 'reports/churn/k.json',
    });
  });

  it('says null for what a report does not have', () => {
    const entry = driftHistoryEntry(
      report('k', '2024-03-01T00:00:00.000Z', {
        dataDrift: {
          features: [],
          datasetDrift: { share: 0, driftedCount: 0, featureCount: 0, threshold: 0.5, drifted: false },
          distributions: {},
        },
      }),
      'key',
    );
    expect(entry).toMatchObject({
      datasetDriftShare: null,
      dataDrifted: null,
      features: [],
      predictionDrifted: null,
      conceptDrifted: null,
      concept: null,
      estimated: null,
      serving: [],
      overBudget: null,
    });
    // enoughData false: nothing was tested, so no share even with features.
    expect(driftHistoryEntry(report('k', '2024-03-01T00:00:00.000Z', { enoughData: false }), 'key')).toMatchObject({
      enoughData: false,
      datasetDriftShare: null,
      dataDrifted: null,
    });
  });
});

describe('auditEntry', () => {
  it('drops the details and takes who acted from by, actor or requestedBy', () => {
    expect(auditEntry(event('1', 't', { details: { by: 'a', actor: 'b', requestedBy: 'c' } })).by).toBe('a');
    expect(auditEntry(event('1', 't', { details: { actor: 'b', requestedBy: 'c' } })).by).toBe('b');
    expect(auditEntry(event('1', 't', { details: { requestedBy: 'c' } })).by).toBe('c');
    // Not a name: empty or not a string.
    expect(auditEntry(event('1', 't', { details: { by: '', actor: 42, requestedBy: 'c' } })).by).toBe('c');
    expect(auditEntry(event('1', 't', { details: {} })).by).toBeNull();
    expect(auditEntry({ ...event('1', 't'), details: undefined as unknown as Record<string, unknown> }).by).toBeNull();
    expect(auditEntry(event('1', 't', { details: { by: 'a' } }))).not.toHaveProperty('details');
  });
});

describe('filterAudit', () => {
  const entries: AuditEntry[] = [
    { ...auditEntry(event('e1', '2024-01-01T00:00:00.000Z', { type: 'training', version: 'v1' })) },
    { ...auditEntry(event('e2', '2024-01-02T00:00:00.000Z', { type: 'gate', version: 'v1', outcome: 'rejected' })) },
    { ...auditEntry(event('e3', '2024-01-03T00:00:00.000Z', { type: 'training', version: 'v2' })) },
    { ...auditEntry(event('e4', '2024-01-03T00:00:00.000Z', { type: 'training', version: 'v2', outcome: 'failed' })) },
    { ...auditEntry(event('e5', '2024-01-04T00:00:00.000Z', { type: 'promotion', version: 'v2' })) },
  ];
  const ids = (rows: AuditEntry[]) => rows.map((r) => r.id);

  it('keeps everything newest first without a filter (by id at the same instant)', () => {
    const r = filterAudit(entries, {}, { number: 1, size: 10 });
    expect(ids(r.rows)).toEqual(['e5', 'e4', 'e3', 'e2', 'e1']);
    expect(r).toMatchObject({ total: 5, pages: 1 });
    // The input is left as it was.
    expect(ids(entries)).toEqual(['e1', 'e2', 'e3', 'e4', 'e5']);
  });

  it('filters on type, version and outcome together', () => {
    expect(ids(filterAudit(entries, { type: 'training' }, { number: 1, size: 10 }).rows)).toEqual(['e4', 'e3', 'e1']);
    expect(ids(filterAudit(entries, { version: 'v1' }, { number: 1, size: 10 }).rows)).toEqual(['e2', 'e1']);
    expect(ids(filterAudit(entries, { outcome: 'ok' }, { number: 1, size: 10 }).rows)).toEqual(['e5', 'e3', 'e1']);
    expect(ids(filterAudit(entries, { type: 'training', version: 'v2', outcome: 'ok' }, { number: 1, size: 10 }).rows)).toEqual(['e3']);
    expect(filterAudit(entries, { type: 'rollback' }, { number: 1, size: 10 })).toEqual({ rows: [], total: 0, pages: 1 });
  });

  it('pages, clamping the page number into the pages there are', () => {
    const page = (number: number) => filterAudit(entries, {}, { number, size: 2 });
    expect(page(1)).toMatchObject({ total: 5, pages: 3 });
    expect(ids(page(1).rows)).toEqual(['e5', 'e4']);
    expect(ids(page(2).rows)).toEqual(['e3', 'e2']);
    expect(ids(page(3).rows)).toEqual(['e1']);
    expect(ids(page(99).rows)).toEqual(['e1']);
    expect(ids(page(0).rows)).toEqual(['e5', 'e4']);
    expect(ids(page(-3).rows)).toEqual(['e5', 'e4']);
    expect(ids(filterAudit(entries, {}, { number: 1, size: 5 }).rows)).toHaveLength(5);
    expect(filterAudit(entries, {}, { number: 1, size: 5 }).pages).toBe(1);
    expect(filterAudit([], {}, { number: 4, size: 5 })).toEqual({ rows: [], total: 0, pages: 1 });
  });
});

describe('attentionReasons', () => {
  const NOW = Date.parse('2024-06-10T00:00:00.000Z');
  const calm: AttentionFacts = {
    hasChampion: true,
    approvalWaiting: false,
    lastRunOutcome: 'completed',
    lastCheck: { at: '2024-06-09T00:00:00.000Z', drifted: false, enoughData: true, estimatedDrop: false },
    overBudget: false,
  };
  const texts = (f: AttentionFacts) => attentionReasons(f, NOW).map((r) => r.text);

  it('says nothing about a calm model', () => {
    expect(attentionReasons(calm, NOW)).toEqual([]);
  });

  it('lists every reason that applies, most urgent first', () => {
    const reasons = attentionReasons(
      {
        hasChampion: false,
        approvalWaiting: true,
        lastRunOutcome: 'failed',
        lastCheck: { at: '2024-06-09T00:00:00.000Z', drifted: true, enoughData: true, estimatedDrop: true },
        overBudget: true,
      },
      NOW,
    );
    expect(reasons).toEqual([
      { weight: 50, text: 'a candidate waits for approval' },
      { weight: 40, text: 'the last run failed' },
      { weight: 35, text: 'drift in the last check' },
      { weight: 30, text: 'estimated performance dropped' },
      { weight: 25, text: 'over its serving budget' },
      { weight: 20, text: 'no champion yet' },
    ]);
  });

  it('names a rolled-back run, a model never checked, a stale check and a check without enough data', () => {
    expect(texts({ ...calm, lastRunOutcome: 'rolled-back' })).toEqual(['the last run was rolled back']);
    expect(texts({ ...calm, lastRunOutcome: 'running' })).toEqual([]);
    expect(texts({ ...calm, lastRunOutcome: null })).toEqual([]);
    expect(texts({ ...calm, hasChampion: false, lastCheck: null })).toEqual(['no champion yet', 'never checked for drift']);
    expect(texts({ ...calm, lastCheck: { ...calm.lastCheck!, at: '2024-06-02T00:00:00.000Z' } })).toEqual([
      'no drift check for over a week',
    ]);
    // Exactly a week is not over a week.
    expect(texts({ ...calm, lastCheck: { ...calm.lastCheck!, at: '2024-06-03T00:00:00.000Z' } })).toEqual([]);
    expect(texts({ ...calm, lastCheck: { ...calm.lastCheck!, enoughData: false } })).toEqual(['too few predictions in the last check']);
    // A stale check says so, not that it had too few predictions.
    expect(texts({ ...calm, lastCheck: { ...calm.lastCheck!, at: '2024-05-01T00:00:00.000Z', enoughData: false } })).toEqual([
      'no drift check for over a week',
    ]);
  });
});

describe('byAttention', () => {
  const r = (weight: number) => ({ weight, text: `w${weight}` });
  it('sorts by the most urgent reason, then by how many, then by name', () => {
    const rows = [
      { name: 'zeta', reasons: [] },
      { name: 'beta', reasons: [r(35), r(10)] },
      { name: 'alpha', reasons: [r(35)] },
      { name: 'gamma', reasons: [r(50)] },
      { name: 'delta', reasons: [r(35), r(10)] },
      { name: 'eps', reasons: [] },
    ];
    const sorted = byAttention(rows);
    expect(sorted.map((x) => x.name)).toEqual(['gamma', 'beta', 'delta', 'alpha', 'eps', 'zeta']);
    // A new array: the input keeps its order.
    expect(rows[0]!.name).toBe('zeta');
  });
});

describe('championAt', () => {
  const change = (action: RegistryChange['action'], from: string | null, to: string | null, at: string): RegistryChange => ({
    action,
    from,
    to,
    at,
    reason: `${action} to ${to}`,
    actor: 'someone',
    eventId: `${action}-${to}-${at}`,
  });
  const history = [
    change('promote', null, 'v1', '2024-01-01T00:00:00.000Z'),
    change('promote', 'v1', 'v2', '2024-02-01T00:00:00.000Z'),
    change('rollback', 'v2', 'v1', '2024-02-03T12:00:00.000Z'),
    change('promote', 'v1', 'v3', '2024-03-01T00:00:00.000Z'),
  ];
  const pointer = (h: RegistryChange[]): ChampionPointer => ({
    model: MODEL,
    champion: 'v3',
    previous: 'v1',
    updatedAt: '2024-03-01T00:00:00.000Z',
    history: h,
  });

  it('is null before the first promotion, and for a pointer without history', () => {
    expect(championAt(pointer(history), '2023-12-31T23:59:59.999Z')).toBeNull();
    expect(championAt(pointer([]), '2024-06-01T00:00:00.000Z')).toBeNull();
  });

  it('takes a change made exactly at the time asked', () => {
    expect(championAt(pointer(history), '2024-01-01T00:00:00.000Z')).toEqual({ version: 'v1', change: history[0] });
    expect(championAt(pointer(history), '2024-02-01T00:00:00.000Z')?.version).toBe('v2');
    // Another spelling of the same instant.
    expect(championAt(pointer(history), '2024-02-01T01:00:00+01:00')?.version).toBe('v2');
  });

  it('follows a rollback, with who and why', () => {
    expect(championAt(pointer(history), '2024-02-02T00:00:00.000Z')?.version).toBe('v2');
    const after = championAt(pointer(history), '2024-02-10T00:00:00.000Z');
    expect(after).toEqual({ version: 'v1', change: history[2] });
    expect(after?.change.action).toBe('rollback');
    expect(championAt(pointer(history), '2025-01-01T00:00:00.000Z')?.version).toBe('v3');
  });

  it('reads an unordered history by time, not by position', () => {
    const shuffled = [history[3]!, history[1]!, history[0]!, history[2]!];
    expect(championAt(pointer(shuffled), '2024-01-15T00:00:00.000Z')?.version).toBe('v1');
    expect(championAt(pointer(shuffled), '2024-02-02T00:00:00.000Z')?.version).toBe('v2');
    expect(championAt(pointer(shuffled), '2024-02-10T00:00:00.000Z')?.change).toBe(history[2]);
    expect(championAt(pointer(shuffled), '2024-06-01T00:00:00.000Z')?.version).toBe('v3');
  });

  it('says null when a first champion was withdrawn', () => {
    const withdrawn = [history[0]!, change('rollback', 'v1', null, '2024-01-02T00:00:00.000Z')];
    expect(championAt(pointer(withdrawn), '2024-01-03T00:00:00.000Z')).toEqual({ version: null, change: withdrawn[1] });
  });
});
