import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../lib/api-tokens';
import { startApi, type RunningApi } from '../api/server';
import { loadConfig } from '../services/config';
import { makeUserProject, writeTestPipeline } from './helpers/cli-project';

/*
 * Bad input against every endpoint: each gets the right status and a message that names what is
 * wrong, and nothing in the store changes. No Temporal server is needed: every case is refused
 * before the API would reach it (the address points at a closed port).
 */

const MODEL = 'bad-input-churn';
const T = { log: 'log-token-0123456789', read: 'read-token-0123456789', approver: 'approver-token-012345', all: 'all-token-0123456789' };

let api: RunningApi;
let storeDir: string;

beforeAll(async () => {
  const project = makeUserProject('retrain-api-bad-');
  writeTestPipeline(project, MODEL, "approval: { mode: 'manual', approvers: ['alice@example.com'] },");
  storeDir = mkdtempSync(join(tmpdir(), 'retrain-api-bad-store-'));
  const config = loadConfig({ RETRAIN_PROJECT_DIR: project, RETRAIN_STORE: storeDir, RETRAIN_TEMPORAL_ADDRESS: '127.0.0.1:1' });
  api = await startApi(config, {
    address: '127.0.0.1:0',
    logLevel: 'silent',
    tokens: {
      tokens: [
        { name: 'svc', sha256: hashToken(T.log), scopes: ['log', 'label'] },
        { name: 'dash', sha256: hashToken(T.read), scopes: ['read'] },
        { name: 'alice@example.com', sha256: hashToken(T.approver), scopes: ['approve:other-model'] },
        { name: 'ops', sha256: hashToken(T.all), scopes: ['log', 'label', 'read', 'retrain', 'approve:*'] },
      ],
    },
  });
});
afterAll(async () => {
  await api?.close();
});

/** Every file under the store, with its size: what must not change. */
function storeFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else out.push(`${relative(storeDir, path)} ${statSync(path).size}`);
    }
  };
  walk(storeDir);
  return out.sort();
}

const line = (over: Record<string, unknown> = {}) => ({
  id: 'p-1',
  timestamp: '2026-11-29T10:00:00Z',
  model: MODEL,
  version: 'v1',
  features: { tenure_months: 3, plan: 'basic' },
  prediction: 'yes',
  latencyMs: 1,
  ...over,
});

interface Case {
  name: string;
  method: 'GET' | 'POST';
  path: string;
  token?: string;
  body?: string | Buffer;
  type?: string;
  status: number;
  code: string;
  message: RegExp;
}

const many = (n: number) => JSON.stringify(Array.from({ length: n }, (_, i) => line({ id: `p-${i}` })));

const CASES: Case[] = [
  {
    name: 'no token',
    method: 'POST',
    path: '/v1/predictions',
    body: many(1),
    status: 401,
    code: 'Unauthenticated',
    message: /Authorization: Bearer/,
  },
  {
    name: 'a malformed Authorization header',
    method: 'GET',
    path: '/v1/models',
    token: '',
    status: 401,
    code: 'Unauthenticated',
    message: /send a token/,
  },
  {
    name: 'an unknown token',
    method: 'GET',
    path: '/v1/models',
    token: 'guess',
    status: 401,
    code: 'Unauthenticated',
    message: /not one of/,
  },
  {
    name: 'log without the log scope',
    method: 'POST',
    path: '/v1/predictions',
    token: T.read,
    body: many(1),
    status: 403,
    code: 'Forbidden',
    message: /scope "log"/,
  },
  {
    name: 'labels without the label scope',
    method: 'POST',
    path: '/v1/labels',
    token: T.read,
    body: '[]',
    status: 403,
    code: 'Forbidden',
    message: /scope "label"/,
  },
  {
    name: 'read without the read scope',
    method: 'GET',
    path: `/v1/models/${MODEL}`,
    token: T.log,
    status: 403,
    code: 'Forbidden',
    message: /scope "read"/,
  },
  {
    name: 'retrain without the retrain scope',
    method: 'POST',
    path: `/v1/models/${MODEL}/retrain`,
    token: T.read,
    body: '{}',
    status: 403,
    code: 'Forbidden',
    message: /scope "retrain"/,
  },
  {
    name: 'an approver token of another model',
    method: 'POST',
    path: `/v1/models/${MODEL}/approve`,
    token: T.approver,
    body: '{}',
    status: 403,
    code: 'Forbidden',
    message: new RegExp(`scope "approve:${MODEL}"`),
  },
  {
    name: 'malformed JSON',
    method: 'POST',
    path: '/v1/predictions',
    token: T.log,
    body: '[{"id": ',
    status: 400,
    code: 'InvalidInput',
    message: /JSON/,
  },
  {
    name: 'a JSON body that is not a batch',
    method: 'POST',
    path: '/v1/predictions',
    token: T.log,
    body: '42',
    status: 400,
    code: 'InvalidInput',
    message: /JSON array/,
  },
  {
    name: 'an empty batch',
    method: 'POST',
    path: '/v1/predictions',
    token: T.log,
    body: '[]',
    status: 400,
    code: 'InvalidInput',
    message: /no entries/,
  },
  {
    name: '10,000 entries in one request',
    method: 'POST',
    path: '/v1/predictions',
    token: T.log,
    body: many(10_000),
    status: 413,
    code: 'TooManyEntries',
    message: /10000 entries.*at most 5000/,
  },
  {
    name: 'a body over 8 MiB',
    method: 'POST',
    path: '/v1/predictions',
    token: T.log,
    body: JSON.stringify([line({ features: { blob: 'x'.repeat(9 * 1024 * 1024) } })]),
    status: 413,
    code: 'PayloadTooLarge',
    message: /too large/i,
  },
  {
    name: 'a content type the API does not take',
    method: 'POST',
    path: '/v1/predictions',
    token: T.log,
    body: 'a,b',
    type: 'text/csv',
    status: 415,
    code: 'UnsupportedMediaType',
    message: /text\/csv/,
  },
  {
    name: 'an unknown model',
    method: 'GET',
    path: '/v1/models/nope',
    token: T.read,
    status: 404,
    code: 'UnknownModel',
    message: /unknown model "nope"; known models: bad-input-churn/,
  },
  {
    name: 'a model name with path characters',
    method: 'GET',
    path: '/v1/models/..%2F..%2Fregistry/champion',
    token: T.read,
    status: 404,
    code: 'UnknownModel',
    message: /unknown model "\.\.\/\.\.\/registry"/,
  },
  {
    name: 'retrain of an unknown model',
    method: 'POST',
    path: '/v1/models/nope/retrain',
    token: T.all,
    body: '{}',
    status: 404,
    code: 'UnknownModel',
    message: /nope/,
  },
  {
    name: 'approve of an unknown model',
    method: 'POST',
    path: '/v1/models/nope/approve',
    token: T.all,
    body: '{}',
    status: 404,
    code: 'UnknownModel',
    message: /nope/,
  },
  {
    name: 'a retrain body with an unknown field',
    method: 'POST',
    path: `/v1/models/${MODEL}/retrain`,
    token: T.all,
    body: '{"by":"me"}',
    status: 400,
    code: 'InvalidInput',
    message: /body/,
  },
  {
    name: 'a retrain asOf that is not a time',
    method: 'POST',
    path: `/v1/models/${MODEL}/retrain`,
    token: T.all,
    body: '{"asOf":"yesterday"}',
    status: 400,
    code: 'InvalidInput',
    message: /body\.asOf: expected a date \(2026-10-01, midnight UTC\) or an ISO-8601 time with its zone/,
  },
  {
    name: 'a retrain asOf in the future',
    method: 'POST',
    path: `/v1/models/${MODEL}/retrain`,
    token: T.all,
    body: '{"asOf":"2999-01-01"}',
    status: 400,
    code: 'InvalidInput',
    message: /body\.asOf: 2999-01-01T00:00:00\.000Z is in the future/,
  },
  {
    name: 'a retrain asOf for a pipeline whose source has no window',
    method: 'POST',
    path: `/v1/models/${MODEL}/retrain`,
    token: T.all,
    body: '{"asOf":"2026-01-01"}',
    status: 400,
    code: 'InvalidInput',
    message: /asOf: pipeline bad-input-churn has no source\.window/,
  },
  {
    name: 'a decision with a reason of the wrong type',
    method: 'POST',
    path: `/v1/models/${MODEL}/approve`,
    token: T.all,
    body: '{"reason":5}',
    status: 400,
    code: 'InvalidInput',
    message: /body\.reason/,
  },
  {
    name: 'a decision naming its approver',
    method: 'POST',
    path: `/v1/models/${MODEL}/approve`,
    token: T.all,
    body: '{"by":"alice@example.com"}',
    status: 400,
    code: 'InvalidInput',
    message: /by/,
  },
  {
    name: 'explain with a bad hour',
    method: 'GET',
    path: '/v1/predictions/p-1/explain?at=2026-13-45',
    token: T.read,
    status: 400,
    code: 'InvalidInput',
    message: /querystring\.at/,
  },
  {
    name: 'explain of a prediction id with path characters',
    method: 'GET',
    path: '/v1/predictions/..%2F..%2Fetc%2Fpasswd/explain',
    token: T.read,
    status: 404,
    code: 'PredictionNotFound',
    message: /no prediction/,
  },
  { name: 'an unknown route', method: 'GET', path: '/v2/models', token: T.read, status: 404, code: 'NotFound', message: /openapi\.json/ },
];

describe('bad input to the HTTP API', () => {
  it.each(CASES)('$name: $status $code', async (c) => {
    const before = storeFiles();
    const headers: Record<string, string> = {};
    if (c.token !== undefined) headers.authorization = c.token === '' ? 'Basic abc' : `Bearer ${c.token}`;
    if (c.body !== undefined) headers['content-type'] = c.type ?? 'application/json';
    const response = await fetch(`${api.url}${c.path}`, { method: c.method, headers, body: c.body });
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect({ status: response.status, code: body.error?.code }).toEqual({ status: c.status, code: c.code });
    expect(body.error.message).toMatch(c.message);
    expect(JSON.stringify(body)).not.toMatch(/\.ts:\d+|node_modules|\n\s+at /); // never a stack
    expect(storeFiles()).toEqual(before);
  });

  it('rejects every bad entry of a batch by field, and stores nothing when no entry is good', async () => {
    const before = storeFiles();
    const entries = [
      line({ id: '' }),
      line({ id: 'ok\u0007bell' }),
      line({ id: 'p-2', timestamp: 'yesterday' }),
      line({ id: 'p-3', latencyMs: '3' }),
      line({ id: 'p-4', model: '../../registry' }),
      line({ id: 'p-5', features: { a: [1] } }),
      line({ id: 'p-6', unknownField: true }),
      'not an object',
    ];
    const response = await fetch(`${api.url}/v1/predictions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${T.log}`, 'content-type': 'application/json' },
      body: JSON.stringify(entries),
    });
    expect(response.status).toBe(422);
    const body = (await response.json()) as {
      received: number;
      stored: number;
      rejected: { index: number; issues: { path: string; message: string }[] }[];
    };
    expect(body).toMatchObject({ received: 8, stored: 0, duplicates: 0 });
    const where = body.rejected.map((r) => [r.index, r.issues.map((i) => i.path).join(',')]);
    expect(where).toEqual([
      [0, 'id'],
      [1, 'id'],
      [2, 'timestamp'],
      [3, 'latencyMs'],
      [4, 'model'],
      [5, 'features.a'],
      [6, ''],
      [7, ''],
    ]);
    expect(body.rejected[1].issues[0].message).toMatch(/control characters/);
    expect(body.rejected[4].issues[0].message).toMatch(/unknown model/);
    expect(storeFiles()).toEqual(before);
  });
});
