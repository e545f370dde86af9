import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { driftActivities } from '../activities/drift';
import type { RetrainConfig } from '../lib/config';
import { SIGNATURE_HEADER, signWebhook, verifyWebhook } from '../lib/webhook-signature';
import type { DriftCheckResult } from '../shared/results';
import { postJson } from '../services/webhook';
import { LocalStore } from '../store/local-store';
import { testPipeline } from './helpers/pipelines';

const SECRET = 'whsec-0123456789abcdef';
const OTHER = 'whsec-fedcba9876543210';
const T = 1_767_225_600; // 2026-01-01T00:00:00Z
// Non-ASCII on purpose: the HMAC is over UTF-8 bytes, which every implementation must agree on.
const BODY = JSON.stringify({ kind: 'retrain.drift-alert/v1', model: 'churn', summary: 'dérive: 3/4 features ⚠' });

const v1Of = (header: string) => /(?:^|,)v1=([0-9a-f]{64})(?:,|$)/.exec(header)?.[1];

describe('signWebhook / verifyWebhook', () => {
  it('signs as t=<seconds>,v1=<hex HMAC-SHA256> and verifies its own signature', () => {
    const header = signWebhook(SECRET, BODY, T);
    expect(header).toMatch(new RegExp(`^t=${T},v1=[0-9a-f]{64}$`));
    expect(verifyWebhook(SECRET, BODY, header, { now: T })).toEqual({ ok: true });
    expect(verifyWebhook(SECRET, Buffer.from(BODY), header, { now: T + 10 })).toEqual({ ok: true });
    // The same inputs always give the same signature; another timestamp gives another.
    expect(signWebhook(SECRET, BODY, T)).toBe(header);
    expect(v1Of(signWebhook(SECRET, BODY, T + 1))).not.toBe(v1Of(header));
  });

  it('refuses a tampered body, even by one byte or only whitespace', () => {
    const header = signWebhook(SECRET, BODY, T);
    const fail = { ok: false, reason: expect.stringContaining('does not match') };
    expect(verifyWebhook(SECRET, BODY.replace('churn', 'churm'), header, { now: T })).toEqual(fail);
    expect(verifyWebhook(SECRET, `${BODY} `, header, { now: T })).toEqual(fail);
    expect(verifyWebhook(SECRET, JSON.stringify(JSON.parse(BODY), null, 2), header, { now: T })).toEqual(fail);
  });

  it('refuses a signature made with another secret', () => {
    expect(verifyWebhook(SECRET, BODY, signWebhook(OTHER, BODY, T), { now: T })).toEqual({
      ok: false,
      reason: expect.stringContaining('does not match'),
    });
  });

  it('refuses a moved timestamp: the signature covers it', () => {
    const moved = signWebhook(SECRET, BODY, T).replace(`t=${T}`, `t=${T + 60}`);
    expect(verifyWebhook(SECRET, BODY, moved, { now: T + 60 })).toMatchObject({ ok: false });
  });

  it('refuses a timestamp beyond the tolerance (300 s by default), old or in the future', () => {
    const header = signWebhook(SECRET, BODY, T);
    expect(verifyWebhook(SECRET, BODY, header, { now: T + 300 })).toEqual({ ok: true });
    expect(verifyWebhook(SECRET, BODY, header, { now: T - 300 })).toEqual({ ok: true });
    expect(verifyWebhook(SECRET, BODY, header, { now: T + 301 })).toEqual({ ok: false, reason: expect.stringContaining('301s old') });
    expect(verifyWebhook(SECRET, BODY, header, { now: T - 301 })).toEqual({
      ok: false,
      reason: expect.stringContaining('301s in the future'),
    });
    expect(verifyWebhook(SECRET, BODY, header, { now: T + 3600, toleranceSeconds: 3600 })).toEqual({ ok: true });
    expect(verifyWebhook(SECRET, BODY, header, { now: T + 31, toleranceSeconds: 30 })).toMatchObject({ ok: false });
  });

  it('says what is wrong with a malformed or missing header', () => {
    const v1 = v1Of(signWebhook(SECRET, BODY, T))!;
    const check = (header: string | undefined) => verifyWebhook(SECRET, BODY, header, { now: T });
    expect(check(undefined)).toEqual({ ok: false, reason: `no ${SIGNATURE_HEADER} header` });
    expect(check('')).toEqual({ ok: false, reason: `no ${SIGNATURE_HEADER} header` });
    expect(check(v1)).toEqual({ ok: false, reason: expect.stringContaining('is not key=value') });
    expect(check(`v1=${v1}`)).toEqual({ ok: false, reason: expect.stringContaining('no t=') });
    expect(check(`t=${T}`)).toEqual({ ok: false, reason: expect.stringContaining('no v1=') });
    expect(check(`t=${T},v0=${v1}`)).toEqual({ ok: false, reason: expect.stringContaining('no v1=') });
    expect(check(`t=soon,v1=${v1}`)).toEqual({ ok: false, reason: expect.stringContaining('is not unix seconds') });
    expect(check(`t=${T}.5,v1=${v1}`)).toEqual({ ok: false, reason: expect.stringContaining('is not unix seconds') });
    expect(check(`t=-${T},v1=${v1}`)).toEqual({ ok: false, reason: expect.stringContaining('is not unix seconds') });
    expect(check(`t=${T},t=${T},v1=${v1}`)).toEqual({ ok: false, reason: expect.stringContaining('more than one t=') });
    expect(check(`t=${T},v1=${v1.slice(2)}`)).toEqual({ ok: false, reason: expect.stringContaining('not a hex SHA-256 HMAC') });
    expect(check(`t=${T},v1=${v1.slice(2)}zz`)).toEqual({ ok: false, reason: expect.stringContaining('not a hex SHA-256 HMAC') });
    expect(check(`t=${T},v1=`)).toEqual({ ok: false, reason: expect.stringContaining('not a hex SHA-256 HMAC') });
  });

  it('accepts any matching v1 (secret rotation), ignores unknown schemes and spaces, and refuses when none matches', () => {
    const [ours, theirs] = [v1Of(signWebhook(SECRET, BODY, T))!, v1Of(signWebhook(OTHER, BODY, T))!];
    expect(verifyWebhook(SECRET, BODY, `t=${T},v1=${theirs},v1=${ours}`, { now: T })).toEqual({ ok: true });
    expect(verifyWebhook(SECRET, BODY, ` t=${T} , v0=abc, v1=${ours.toUpperCase()}`, { now: T })).toEqual({ ok: true });
    expect(verifyWebhook(SECRET, BODY, `t=${T},v1=${theirs},v1=${theirs}`, { now: T })).toMatchObject({ ok: false });
  });

  it('signs only whole unix seconds', () => {
    expect(() => signWebhook(SECRET, BODY, 1.5)).toThrow(RangeError);
    expect(() => signWebhook(SECRET, BODY, -1)).toThrow(RangeError);
    expect(() => signWebhook(SECRET, BODY, Number.NaN)).toThrow(RangeError);
  });

  it("computes the same v1 as Python's hmac and hashlib: any language can verify", () => {
    // An independent implementation, standard library only; the body goes through stdin as raw bytes.
    const script = [
      'import hashlib, hmac, sys',
      'secret, t = sys.argv[1], sys.argv[2]',
      'body = sys.stdin.buffer.read()',
      "print(hmac.new(secret.encode(), t.encode() + b'.' + body, hashlib.sha256).hexdigest())",
    ].join('\n');
    for (const [secret, t, body] of [
      [SECRET, T, BODY],
      [OTHER, T + 1, '{}'],
      ['a-secret-with-ünïcode-and-=,', 0, ''],
    ] as const) {
      const python = spawnSync('python3', ['-c', script, secret, String(t)], { input: Buffer.from(body), encoding: 'utf8' });
      expect(python.error).toBeUndefined();
      expect(python.stderr).toBe('');
      expect(python.status).toBe(0);
      expect(python.stdout.trim()).toBe(v1Of(signWebhook(secret, body, t)));
    }
  });
});

describe('postJson with a secret, against a real HTTP receiver', () => {
  let server: Server;
  let url: string;
  const received: { headers: IncomingHttpHeaders; raw: Buffer }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ headers: req.headers, raw: Buffer.concat(chunks) });
        res.writeHead(204).end();
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/alerts`;
  });
  afterAll(() => server?.close());

  it('sends Retrain-Signature over the exact bytes sent: the same secret verifies, another does not', async () => {
    received.length = 0;
    const body = { kind: 'retrain.drift-alert/v1', checkId: 'chk-1', summary: 'dérive ⚠', datasetDriftShare: 0.75 };
    await postJson(url, body, 'chk-1', {}, { secret: SECRET });
    expect(received).toHaveLength(1);
    const [{ headers, raw }] = received;
    const header = headers['retrain-signature'] as string;
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(headers['idempotency-key']).toBe('chk-1');
    expect(JSON.parse(raw.toString('utf8'))).toEqual(body);
    const now = Math.floor(Date.now() / 1000);
    expect(Math.abs(now - Number(/^t=(\d+)/.exec(header)![1]))).toBeLessThanOrEqual(5);
    expect(verifyWebhook(SECRET, raw, header, { now })).toEqual({ ok: true });
    expect(verifyWebhook(OTHER, raw, header, { now })).toEqual({ ok: false, reason: expect.stringContaining('does not match') });
  });

  it('sends no signature without a secret', async () => {
    received.length = 0;
    await postJson(url, { kind: 'retrain.drift-alert/v1' }, 'chk-2');
    await postJson(url, { kind: 'retrain.drift-alert/v1' }, 'chk-3', {}, { secret: undefined });
    expect(received).toHaveLength(2);
    for (const r of received) expect(r.headers['retrain-signature']).toBeUndefined();
  });
});

describe('the drift alert activity', () => {
  let server: Server;
  let url: string;
  let dir: string;
  const received: { headers: IncomingHttpHeaders; raw: Buffer }[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'retrain-webhook-signature-'));
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ headers: req.headers, raw: Buffer.concat(chunks) });
        res.writeHead(204).end();
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/alerts`;
  });
  afterAll(() => {
    server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Sends one drift alert through the real activity, with only the config fields it reads. */
  async function sendAlert(model: string, webhookSecret: string | undefined) {
    const config = { alertWebhook: url, webhookSecret } as RetrainConfig;
    const { sendDriftAlert } = driftActivities({ store: new LocalStore(dir), config });
    const result = { checkId: `check-${model}`, version: 'v1', summary: 'drifted', datasetDriftShare: 0.5 } as DriftCheckResult;
    await new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') }).run(sendDriftAlert, {
      pipeline: testPipeline({ name: model }),
      result,
    });
    return received.find((r) => r.headers['idempotency-key'] === result.checkId)!;
  }

  it('signs with RETRAIN_WEBHOOK_SECRET (config.webhookSecret), and sends no signature without one', async () => {
    const signed = await sendAlert('signed-alert', SECRET);
    const now = Math.floor(Date.now() / 1000);
    expect(JSON.parse(signed.raw.toString('utf8'))).toMatchObject({ kind: 'retrain.drift-alert/v1', model: 'signed-alert' });
    expect(verifyWebhook(SECRET, signed.raw, signed.headers['retrain-signature'] as string, { now })).toEqual({ ok: true });
    expect(verifyWebhook(OTHER, signed.raw, signed.headers['retrain-signature'] as string, { now })).toMatchObject({ ok: false });

    const unsigned = await sendAlert('unsigned-alert', undefined);
    expect(unsigned.headers['retrain-signature']).toBeUndefined();
  });
});
