import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken, type TokensFile } from '../lib/api-tokens';
import { startApi, type RunningApi } from '../api/server';
import { predictionExplanationSchema } from '../api/schemas/prediction-explanation';
import { currentRunSchema, runStatusSchema } from '../api/schemas/run-status';
import { modelSummarySchema } from '../services/model-summary';
import { listAudit } from '../services/audit-log';
import { readPointer } from '../services/registry';
import { makeUserProject, writeTestPipeline } from './helpers/cli-project';
import { REPO, startHarness, type Harness } from './helpers/harness';

/*
 * The HTTP API driven by clients no one here wrote: curl, and Python's standard library
 * (urllib.request) for a whole retrain with approval. A real Temporal server and worker run the
 * retraining workflow the API starts by model name.
 */

const exec = promisify(execFile);
const MODEL = 'api-churn';
const TOKENS = {
  svc: 'svc-token-0123456789',
  alice: 'alice-token-0123456789',
  mallory: 'mallory-token-0123456789',
  reader: 'reader-0123456789',
};
const tokens: TokensFile = {
  tokens: [
    { name: 'rails-app', sha256: hashToken(TOKENS.svc), scopes: ['log', 'label', 'read', 'retrain'] },
    { name: 'alice@example.com', sha256: hashToken(TOKENS.alice), scopes: ['read', `approve:${MODEL}`] },
    { name: 'mallory@example.com', sha256: hashToken(TOKENS.mallory), scopes: ['read', 'approve:*'] },
    { name: 'dashboard', sha256: hashToken(TOKENS.reader), scopes: ['read'] },
  ],
};

let h: Harness;
let api: RunningApi;

beforeAll(async () => {
  const project = makeUserProject('retrain-api-');
  writeTestPipeline(project, MODEL, "approval: { mode: 'manual', approvers: ['alice@example.com'], timeout: '1h' },");
  h = await startHarness({ projectDir: project });
  api = await startApi(h.config, { tokens, address: '127.0.0.1:0', logLevel: 'warn' });
});
afterAll(async () => {
  await api?.close();
  await h?.close();
});

/** `curl` with the token; resolves with the status and the parsed body (null when empty). */
async function curl(method: string, path: string, opts: { token?: string; body?: string; type?: string; headers?: string[] } = {}) {
  const args = ['-sS', '-X', method, '-w', '\n%{http_code}', `${api.url}${path}`];
  if (opts.token) args.push('-H', `Authorization: Bearer ${opts.token}`);
  if (opts.body !== undefined) args.push('-H', `Content-Type: ${opts.type ?? 'application/json'}`, '--data-binary', opts.body);
  for (const header of opts.headers ?? []) args.push('-H', header);
  const { stdout } = await exec('curl', args, { maxBuffer: 64 * 1024 * 1024 });
  const cut = stdout.lastIndexOf('\n');
  const text = stdout.slice(0, cut);
  return { status: Number(stdout.slice(cut + 1)), body: text ? JSON.parse(text) : null };
}

function prediction(id: string, version = 'v-unknown', at = new Date().toISOString()) {
  return {
    id,
    timestamp: at,
    model: MODEL,
    version,
    features: { tenure_months: 3, plan: 'basic' },
    prediction: 'yes',
    score: 0.8,
    latencyMs: 2.5,
  };
}

/** Every stored prediction line of the model. */
async function storedPredictions(): Promise<{ id: string; version: string }[]> {
  const out: { id: string; version: string }[] = [];
  for (const key of await h.store.list(`predictions/${MODEL}/`)) {
    const body = (await h.store.get(key))!.toString('utf8');
    for (const line of body.split('\n').filter(Boolean)) out.push(JSON.parse(line));
  }
  return out;
}

describe('the HTTP API, with curl', () => {
  it('answers /healthz, /readyz and /openapi.json without a token', async () => {
    expect(await curl('GET', '/healthz')).toEqual({ status: 200, body: { ok: true } });
    const ready = await curl('GET', '/readyz');
    expect(ready).toMatchObject({ status: 200, body: { ready: true, temporal: { ok: true }, store: { ok: true } } });
    const { status, body } = await curl('GET', '/openapi.json');
    expect(status).toBe(200);
    expect(body.openapi).toBe('3.1.0');
    expect(Object.keys(body.paths).sort()).toEqual(
      [
        '/healthz',
        '/readyz',
        '/v1/labels',
        '/v1/models',
        '/v1/models/{model}',
        '/v1/models/{model}/approve',
        '/v1/models/{model}/champion',
        '/v1/models/{model}/reject',
        '/v1/models/{model}/retrain',
        '/v1/models/{model}/runs/current',
        '/v1/predictions',
        '/v1/predictions/{id}/explain',
      ].sort(),
    );
    // The request schemas are the code's own: the prediction line's fields, required as in the library.
    const line = body.components.schemas.PredictionLine;
    expect(line.required).toEqual(expect.arrayContaining(['id', 'timestamp', 'model', 'version', 'features', 'prediction', 'latencyMs']));
  });

  it('logs predictions (JSON and NDJSON) durably and idempotently by id', async () => {
    const batch = [prediction('c-1'), prediction('c-2'), prediction('c-3')];
    const first = await curl('POST', '/v1/predictions', { token: TOKENS.svc, body: JSON.stringify(batch) });
    expect(first).toEqual({ status: 200, body: { received: 3, stored: 3, duplicates: 0, rejected: [] } });
    // Acknowledged means stored: the lines are in the store when the answer arrives.
    expect((await storedPredictions()).map((p) => p.id).sort()).toEqual(['c-1', 'c-2', 'c-3']);

    // A retried batch, as NDJSON this time, with one new line: only the new one is written.
    const ndjson = [...batch, prediction('c-4')].map((p) => JSON.stringify(p)).join('\n') + '\n';
    const retry = await curl('POST', '/v1/predictions', { token: TOKENS.svc, body: ndjson, type: 'application/x-ndjson' });
    expect(retry).toEqual({ status: 200, body: { received: 4, stored: 1, duplicates: 3, rejected: [] } });
    const ids = (await storedPredictions()).map((p) => p.id).sort();
    expect(ids).toEqual(['c-1', 'c-2', 'c-3', 'c-4']);
  });

  it('takes the good entries of a batch and names the field of each bad one', async () => {
    const bad = { ...prediction('c-bad'), latencyMs: -1, extra: 1 };
    const { status, body } = await curl('POST', '/v1/predictions', {
      token: TOKENS.svc,
      body: JSON.stringify([prediction('c-5'), bad, { ...prediction('c-6'), model: 'nope' }, prediction('c-5')]),
    });
    expect(status).toBe(200);
    expect(body).toMatchObject({ received: 4, stored: 1, duplicates: 0 });
    expect(body.rejected).toEqual([
      {
        index: 1,
        id: 'c-bad',
        issues: expect.arrayContaining([
          { path: 'latencyMs', message: expect.stringMatching(/>=0/) },
          { path: '', message: expect.stringMatching(/extra/) },
        ]),
      },
      { index: 2, id: 'c-6', issues: [{ path: 'model', message: expect.stringMatching(/unknown model "nope"; known models: api-churn/) }] },
      { index: 3, id: 'c-5', issues: [{ path: 'id', message: 'entry 0 of this request has the same id' }] },
    ]);
  });

  it('takes labels, idempotently by id and knownAt', async () => {
    const labels = [
      { model: MODEL, id: 'c-1', label: 'no', knownAt: '2026-11-20T10:00:00Z' },
      { model: MODEL, id: 'c-2', label: 'yes', knownAt: '2026-11-20T10:05:00+01:00' },
    ];
    const first = await curl('POST', '/v1/labels', { token: TOKENS.svc, body: JSON.stringify(labels) });
    expect(first).toEqual({ status: 200, body: { received: 2, stored: 2, duplicates: 0, rejected: [] } });
    const again = await curl('POST', '/v1/labels', { token: TOKENS.svc, body: JSON.stringify(labels) });
    expect(again.body).toMatchObject({ stored: 0, duplicates: 2 });
    // Stored by the UTC hour each became known (10:05+01:00 is 09 UTC), once.
    const keys = await h.store.list(`labels/${MODEL}/2026-11-20/`);
    expect(keys.map((k) => k.split('/')[3])).toEqual(['09', '10']);
  });

  it('refuses without a token (401), with the wrong scope (403), and never shows a stack', async () => {
    const none = await curl('POST', '/v1/predictions', { body: '[]' });
    expect(none).toMatchObject({ status: 401, body: { error: { code: 'Unauthenticated' } } });
    const wrong = await curl('POST', '/v1/predictions', { token: 'not-a-token', body: '[]' });
    expect(wrong).toMatchObject({
      status: 401,
      body: { error: { code: 'Unauthenticated', message: expect.stringMatching(/not one of/) } },
    });
    const scope = await curl('POST', '/v1/predictions', { token: TOKENS.reader, body: '[]' });
    expect(scope).toMatchObject({ status: 403, body: { error: { code: 'Forbidden', message: expect.stringMatching(/scope "log"/) } } });
    expect(JSON.stringify([none, wrong, scope])).not.toMatch(/at .*\.ts:\d+/);
  });

  it('lists models and says when there is no champion yet', async () => {
    const list = await curl('GET', '/v1/models', { token: TOKENS.reader });
    expect(list.status).toBe(200);
    expect(list.body.models).toEqual([
      expect.objectContaining({ model: MODEL, task: 'classification', approvers: ['alice@example.com'], owners: expect.any(Object) }),
    ]);
    const champion = await curl('GET', `/v1/models/${MODEL}/champion`, { token: TOKENS.reader });
    expect(champion).toMatchObject({ status: 404, body: { error: { code: 'NoChampion' } } });
    const unknown = await curl('GET', '/v1/models/..%2F..%2Fetc', { token: TOKENS.reader });
    expect(unknown).toMatchObject({
      status: 404,
      body: { error: { code: 'UnknownModel', message: expect.stringMatching(/unknown model "\.\.\/\.\.\/etc"/) } },
    });
  });
});

describe('a retrain with approval from Python (urllib.request)', () => {
  it('starts by model name, refuses a non-approver, approves as the token’s identity, then serves the champion with an ETag', async () => {
    const python = h.config.python;
    const { stdout } = await exec(python, [join(REPO, 'test/helpers/api_client.py')], {
      env: { ...process.env, API: api.url, MODEL, TOKEN_SVC: TOKENS.svc, TOKEN_ALICE: TOKENS.alice, TOKEN_MALLORY: TOKENS.mallory },
      timeout: 280_000,
    });
    const steps = Object.fromEntries(
      stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
        .map((s) => [s.step, s]),
    );
    expect(steps.retrain).toMatchObject({
      status: 202,
      body: { model: MODEL, workflowId: `retrain-${MODEL}`, joined: false, workerPolling: true },
    });
    expect(steps.waiting.body).toMatchObject({
      step: 'approval',
      requestedBy: 'rails-app',
      reason: 'new labels (python job)',
      approval: { decision: 'pending' },
    });
    // The current run is a full RunStatus plus the execution it belongs to, as documented.
    expect(steps.waiting.body).toMatchObject({ workflowId: `retrain-${MODEL}`, runId: expect.any(String), workflowStatus: 'RUNNING' });
    expect(currentRunSchema.strict().safeParse(steps.waiting.body).error).toBeUndefined();
    expect(currentRunSchema.strict().safeParse(steps.finished.body).error).toBeUndefined();
    // mallory has approve:* but is not a listed approver of the pipeline.
    expect(steps['approve-mallory']).toMatchObject({
      status: 409,
      body: { error: { code: 'DecisionRefused', message: expect.stringMatching(/not a listed approver/) } },
    });
    expect(steps['approve-alice']).toMatchObject({ status: 200, body: { approval: { decision: 'approved', by: 'alice@example.com' } } });
    expect(runStatusSchema.strict().safeParse(steps['approve-alice'].body).error).toBeUndefined();
    expect(steps.finished.body).toMatchObject({ outcome: 'promoted' });
    const version = steps.waiting.body.version as string;
    expect(steps.champion).toMatchObject({ status: 200, body: { model: MODEL, version, task: 'classification' } });
    expect(steps.champion.body.artifacts.model.location).toContain(h.store.location);
    expect(steps.champion.etag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(steps['champion-again']).toMatchObject({ status: 304 });

    // The approval is recorded under the token's identity; the refusal is audited too.
    expect((await readPointer(h.store, MODEL)).pointer.champion).toBe(version);
    const audit = await listAudit(h.store, MODEL);
    expect(audit.find((e) => e.type === 'refused-decision')).toMatchObject({
      details: expect.objectContaining({ by: 'mallory@example.com', via: 'api' }),
    });

    // Explain a prediction the serving app logs with the new champion.
    await curl('POST', '/v1/predictions', { token: TOKENS.svc, body: JSON.stringify([prediction('after-promotion', version)]) });
    const explained = await curl('GET', `/v1/predictions/after-promotion/explain?model=${MODEL}`, { token: TOKENS.reader });
    expect(explained.status).toBe(200);
    expect(explained.body).toMatchObject({
      prediction: { id: 'after-promotion', version },
      version: { version },
      approval: [expect.objectContaining({ decision: 'approved', by: 'alice@example.com' })],
      champion: { isChampion: true },
    });
    // Every field of PredictionExplanation, from a real run's records (version, evaluation, gate, approval, pointer).
    expect(predictionExplanationSchema.strict().safeParse(explained.body).error).toBeUndefined();
    expect(explained.body).toMatchObject({
      loggedIn: { key: expect.stringContaining(`predictions/${MODEL}/`), line: expect.any(Number) },
      evaluation: { metrics: { accuracy: expect.any(Number) } },
      gate: [expect.objectContaining({ passed: true, checks: expect.any(Array), championVersion: null })],
      champion: { current: version, changes: [expect.objectContaining({ action: 'promote', to: version })] },
    });
    const model = await curl('GET', `/v1/models/${MODEL}`, { token: TOKENS.reader });
    expect(model.body).toMatchObject({ champion: { version } });
    expect(modelSummarySchema.strict().safeParse(model.body).error).toBeUndefined();
  });
});
