import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serializerCompiler } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { hashToken } from '../lib/api-tokens';
import { keys } from '../lib/keys';
import type { ChampionPointer, ModelVersion } from '../lib/registry';
import type { RunStatus } from '../shared/status';
import { startApi, type RunningApi } from '../api/server';
import { currentRunSchema, runStatusSchema } from '../api/schemas/run-status';
import { predictionExplanationSchema } from '../api/schemas/prediction-explanation';
import { appendAudit } from '../services/audit-log';
import { loadConfig } from '../services/config';
import { modelSummarySchema } from '../services/model-summary';
import { createStore } from '../store/index';
import type { Store } from '../store/store';
import { makeUserProject, writeTestPipeline } from './helpers/cli-project';

/*
 * The OpenAPI document describes every answer with the code's own schemas (no "any object"), its
 * references resolve, and answers built from records in the store go through those schemas. No
 * Temporal server: the address points at a closed port, and nothing here starts a run.
 */

const MODEL = 'schemas-churn';
const READ = 'read-token-0123456789';

let api: RunningApi;
let store: Store;
let doc: OpenApiDocument;

interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: JsonSchema }> }> }>>;
  components: { schemas: Record<string, JsonSchema> };
}
type JsonSchema = { $ref?: string; type?: string | string[]; properties?: Record<string, JsonSchema>; required?: string[] } & Record<
  string,
  unknown
>;

beforeAll(async () => {
  const project = makeUserProject('retrain-api-schemas-');
  writeTestPipeline(project, MODEL, "approval: { mode: 'manual', approvers: ['alice@example.com'] },");
  const config = loadConfig({
    RETRAIN_PROJECT_DIR: project,
    RETRAIN_STORE: mkdtempSync(join(tmpdir(), 'retrain-api-schemas-store-')),
    RETRAIN_TEMPORAL_ADDRESS: '127.0.0.1:1',
  });
  store = createStore(config);
  api = await startApi(config, {
    store,
    address: '127.0.0.1:0',
    logLevel: 'silent',
    tokens: { tokens: [{ name: 'dash', sha256: hashToken(READ), scopes: ['read'] }] },
  });
  const res = await api.app.inject({ method: 'GET', url: '/openapi.json' });
  expect(res.statusCode).toBe(200);
  doc = res.json();
});
afterAll(async () => {
  await api?.close();
});

/** The schema a JSON pointer (`#/components/schemas/X`) names in the document, or undefined. */
function resolvePointer(ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = doc;
  for (const raw of ref.slice(2).split('/')) {
    const part = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object' || !(part in node)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/** Every `$ref` in a JSON value, with where it was found. */
function refsIn(value: unknown, at = '#'): { ref: string; at: string }[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => refsIn(v, `${at}/${i}`));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) =>
    k === '$ref' && typeof v === 'string' ? [{ ref: v, at }] : refsIn(v, `${at}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`),
  );
}

/** The schema of a path's JSON answer with `status`, with a top-level `$ref` followed. */
function answerSchema(path: string, method: string, status: string): JsonSchema {
  const schema = doc.paths[path]?.[method]?.responses[status]?.content?.['application/json']?.schema;
  expect(schema, `${method.toUpperCase()} ${path} ${status}`).toBeDefined();
  return schema!.$ref ? (resolvePointer(schema!.$ref) as JsonSchema) : schema!;
}

const REQUIRED: Record<string, string[]> = {
  ModelSummary: ['model', 'task', 'primaryMetric', 'owners', 'approvers', 'champion', 'previous', 'lastDrift', 'serving'],
  // `reason` is documented but not required: results of runs that ended before it existed lack it.
  RunStatus: [
    'model',
    'requestedBy',
    'step',
    'outcome',
    'version',
    'reusedVersion',
    'championBefore',
    'championAfter',
    'snapshot',
    'metrics',
    'gate',
    'approval',
    'message',
    'steps',
  ],
  PredictionExplanation: ['prediction', 'loggedIn', 'version', 'evaluation', 'gate', 'approval', 'champion'],
  Champion: ['model', 'version', 'task', 'classes', 'features', 'since', 'artifacts'],
  IngestResult: ['received', 'stored', 'duplicates', 'rejected'],
  PredictionLine: ['id', 'timestamp', 'model', 'version', 'features', 'prediction', 'latencyMs'],
  Error: ['error'],
  ModelVersion: ['model', 'version', 'createdAt', 'task', 'artifacts', 'classes', 'trainMetrics', 'lineage'],
  GateCheck: ['metric', 'rule', 'threshold', 'challenger', 'champion', 'passed', 'message'],
  GateDecision: ['passed', 'reason', 'checks', 'championVersion'],
  ApprovalState: ['required', 'approvers', 'decision', 'by', 'reason', 'at', 'ignored'],
  RegistryChange: ['action', 'from', 'to', 'at', 'reason', 'actor', 'eventId'],
};

describe('the OpenAPI document', () => {
  it('has a named component with its properties and required fields for each answer', () => {
    const schemas = doc.components.schemas;
    for (const [id, required] of Object.entries(REQUIRED)) {
      expect(schemas[id], id).toBeDefined();
      expect(schemas[id]!.type, id).toBe('object');
      expect(Object.keys(schemas[id]!.properties ?? {}), id).toEqual(expect.arrayContaining(required));
      expect([...(schemas[id]!.required ?? [])].sort(), id).toEqual([...required].sort());
    }
    expect(Object.keys(schemas.RunStatus!.properties!)).toContain('reason');
    // The current run is a RunStatus plus the execution it belongs to.
    expect([...schemas.CurrentRun!.required!].sort()).toEqual([...REQUIRED.RunStatus!, 'workflowId', 'runId', 'workflowStatus'].sort());
    expect(schemas.RunStatus!.properties!.step).toEqual({ $ref: '#/components/schemas/RunStep' });
    // The prediction as the log stores it: the same fields as the PredictionLine the API takes.
    const explained = schemas.PredictionExplanation!.properties!.prediction as { required?: string[] };
    expect([...(explained.required ?? [])].sort()).toEqual([...REQUIRED.PredictionLine!].sort());
  });

  it('answers each route with its component, never with "any object"', () => {
    const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });
    const json = (path: string, method: string, status = '200') =>
      doc.paths[path]![method]!.responses[status]!.content!['application/json']!.schema;
    expect(json('/v1/models', 'get').properties!.models).toEqual({ type: 'array', items: ref('ModelSummary') });
    expect(json('/v1/models/{model}', 'get')).toEqual(ref('ModelSummary'));
    expect(json('/v1/models/{model}/runs/current', 'get')).toEqual(ref('CurrentRun'));
    expect(json('/v1/models/{model}/approve', 'post')).toEqual(ref('RunStatus'));
    expect(json('/v1/models/{model}/reject', 'post')).toEqual(ref('RunStatus'));
    expect(json('/v1/predictions/{id}/explain', 'get')).toEqual(ref('PredictionExplanation'));
    for (const [path, methods] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(methods))
        for (const [status, answer] of Object.entries(op.responses)) {
          if (!answer.content?.['application/json'] || !/^2/.test(status)) continue;
          const schema = answerSchema(path, method, status);
          expect(schema.properties, `${method.toUpperCase()} ${path} ${status} documents its fields`).toBeDefined();
        }
  });

  it('resolves every $ref', () => {
    const refs = refsIn(doc);
    expect(refs.length).toBeGreaterThan(20);
    const broken = refs.filter(({ ref }) => resolvePointer(ref) === undefined);
    expect(broken).toEqual([]);
  });
});

describe('answers built from the store', () => {
  const get = (url: string) => api.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${READ}` } });
  const at = '2026-11-29T10:00:00.000Z';
  const version: ModelVersion = {
    model: MODEL,
    version: 'v0123456789ab',
    createdAt: at,
    task: 'classification',
    artifacts: { model: `models/${MODEL}/v0123456789ab/model.pkl` },
    classes: ['no', 'yes'],
    trainMetrics: { accuracy: 0.9 },
    lineage: {
      datasetSha256: 'a'.repeat(64),
      datasetKey: `datasets/${MODEL}/a.csv`,
      trainKey: 'train.csv',
      holdoutKey: 'holdout.csv',
      rows: { train: 80, holdout: 20 },
      features: [{ name: 'tenure_months', type: 'numeric' }],
      label: 'churned',
      params: { depth: 3, nested: { a: [1] } },
      seed: 7,
      trainingCommand: ['python', 'train.py'],
      trainingCodeVersion: 'sha256:x',
      libraryVersions: { python: '3.12' },
      workflowId: `retrain-${MODEL}`,
      runId: 'run-1',
    },
  };

  it('lists models and reads one, with and without a champion and a drift report', async () => {
    const bare = await get(`/v1/models/${MODEL}`);
    expect(bare.statusCode).toBe(200);
    expect(bare.json()).toMatchObject({ model: MODEL, champion: null, lastDrift: null, serving: [], approvers: ['alice@example.com'] });

    const pointer: ChampionPointer = {
      model: MODEL,
      champion: version.version,
      previous: null,
      updatedAt: at,
      history: [{ action: 'promote', from: null, to: version.version, at, reason: 'gate passed', actor: 'w', eventId: 'e1' }],
    };
    await store.put(keys.pointer(MODEL), JSON.stringify(pointer));
    await store.put(keys.evaluation(MODEL, version.version, null), JSON.stringify({ challenger: { accuracy: 0.85 } }));
    // A report written before `enoughData` existed, with serving numbers.
    await store.put(
      keys.driftReport(MODEL, '2026-11-29T11-00-00Z-abc', 'json'),
      JSON.stringify({
        checkId: 'abc',
        createdAt: at,
        drifted: false,
        dataDrift: { datasetDrift: { share: 0 } },
        predictionDrift: null,
        conceptDrift: null,
        summary: 'no drift',
        serving: [
          {
            version: version.version,
            predictions: 3,
            latencyMs: { mean: 2, p50: 2, p95: 3, max: 3 },
            cost: { total: 0, perPrediction: null, counted: 0 },
          },
        ],
      }),
    );
    const list = await get('/v1/models');
    expect(list.statusCode).toBe(200);
    const [summary] = list.json().models;
    expect(summary).toMatchObject({
      champion: { version: version.version, since: at, holdout: { metric: 'accuracy', value: 0.85 } },
      lastDrift: { checkId: 'abc', enoughData: true, datasetDriftShare: 0 },
      serving: [{ version: version.version, predictions: 3 }],
    });
    expect(modelSummarySchema.safeParse(summary).success).toBe(true);
  });

  it('explains a prediction with its version, gate, approval and champion history', async () => {
    await store.put(keys.version(MODEL, version.version), JSON.stringify(version));
    const line = {
      id: 'why-1',
      timestamp: '2026-11-29T12:00:00Z',
      model: MODEL,
      version: version.version,
      features: { tenure_months: 3, plan: null },
      prediction: 'yes',
      score: 0.7,
      latencyMs: 2,
    };
    await store.put(keys.predictionBatch(MODEL, '2026-11-29T12', 'b1'), JSON.stringify(line) + '\n');
    const origin = { workflowId: `retrain-${MODEL}`, runId: 'run-1' };
    await appendAudit(
      store,
      { ...origin, step: 'evaluate' },
      {
        type: 'evaluation',
        model: MODEL,
        version: version.version,
        outcome: 'ok',
        summary: 'evaluated',
        details: { challenger: { accuracy: 0.85, roc_auc: null }, champion: null, championVersion: null },
      },
    );
    await appendAudit(
      store,
      { ...origin, step: 'gate' },
      {
        type: 'gate',
        model: MODEL,
        version: version.version,
        outcome: 'ok',
        summary: 'passed',
        details: {
          passed: true,
          reason: 'passed 1 check',
          checks: [{ metric: 'accuracy', rule: 'min', threshold: 0.5, challenger: 0.85, champion: null, passed: true, message: 'ok' }],
          championVersion: null,
        },
      },
    );
    await appendAudit(
      store,
      { ...origin, step: 'approval' },
      {
        type: 'approval',
        model: MODEL,
        version: version.version,
        outcome: 'ok',
        summary: 'approved',
        details: {
          decision: 'approved',
          by: 'alice@example.com',
          reason: 'fine',
          approvers: ['alice@example.com'],
          required: true,
          ignored: [],
        },
      },
    );
    const res = await get(`/v1/predictions/why-1/explain?model=${MODEL}`);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({
      prediction: line,
      loggedIn: { line: 1 },
      version: { version: version.version, lineage: { params: { nested: { a: [1] } } } },
      evaluation: { metrics: { accuracy: 0.85, roc_auc: null }, champion: null },
      gate: [{ passed: true, checks: [expect.objectContaining({ rule: 'min' })] }],
      approval: [{ decision: 'approved', by: 'alice@example.com' }],
      champion: {
        current: version.version,
        isChampion: true,
        atPrediction: version.version,
        changes: [expect.objectContaining({ eventId: 'e1' })],
      },
    });
    expect(predictionExplanationSchema.safeParse(body).success).toBe(true);
  });
});

describe('run status answers', () => {
  const status: RunStatus = {
    model: MODEL,
    requestedBy: 'rails-app',
    reason: 'new labels',
    asOf: '2026-10-01T00:00:00.000Z',
    window: { column: 'labelled_at', from: '2026-07-03T00:00:00.000Z', to: '2026-10-01T00:00:00.000Z' },
    step: 'approval',
    outcome: 'running',
    version: 'v1',
    reusedVersion: false,
    championBefore: null,
    championAfter: null,
    snapshot: { sha256: 'a'.repeat(64), created: true, rows: 100 },
    metrics: { challenger: { accuracy: 0.9, roc_auc: null }, champion: null },
    gate: { passed: true, reason: 'passed', checks: [], championVersion: null },
    approval: { required: true, approvers: ['alice@example.com'], decision: 'pending', by: null, reason: null, at: null, ignored: [] },
    message: null,
    steps: [{ step: 'approval', startedAt: '2026-11-29T10:00:00Z', durationMs: null }],
  };
  // What the route's serializer does with an answer: encode it through the schema, or throw (a 500).
  const serialize = (schema: z.ZodType, data: unknown) =>
    JSON.parse(serializerCompiler({ schema, method: 'GET', url: '/v1/models/:model/runs/current' })(data));
  const execution = { workflowId: `retrain-${MODEL}`, runId: 'r1', workflowStatus: 'COMPLETED' };

  it('serializes a status, and one of a run that ended before `reason`, `asOf` and `window` were recorded', () => {
    expect(serialize(runStatusSchema, status)).toEqual(status);
    expect(serialize(currentRunSchema, { ...execution, ...status })).toEqual({ ...execution, ...status });
    const { reason: _reason, asOf: _asOf, window: _window, ...older } = status;
    expect(serialize(currentRunSchema, { ...execution, ...older })).toEqual({ ...execution, ...older });
  });

  it('leaves out fields it does not know instead of failing', () => {
    expect(serialize(runStatusSchema, { ...status, internal: 1 })).toEqual(status);
    expect(() => serialize(runStatusSchema, { ...status, step: 'nope' })).toThrow();
  });
});
