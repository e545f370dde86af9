import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatText, type AlertHeadline } from '../lib/alert-message';
import { pipelineSchema } from '../lib/pipeline';
import { monitoringRoutes } from '../lib/alert-message';
import { deliverAlert } from '../services/alert-delivery';
import { LocalStore } from '../store/local-store';
import { MINIMAL_PIPELINE } from './helpers/pipelines';

/** A loopback receiver: records each request; `failNext` answers the next requests of a path with 503. */
let server: Server;
let base: string;
const requests: { path: string; headers: IncomingHttpHeaders; body: Record<string, unknown>; status: number }[] = [];
const failNext = new Map<string, number>();

beforeAll(async () => {
  server = createServer((req, res) => {
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      const path = req.url ?? '/';
      const fails = failNext.get(path) ?? 0;
      const status = fails > 0 ? 503 : 204;
      if (fails > 0) failNext.set(path, fails - 1);
      requests.push({ path, headers: req.headers, body: JSON.parse(text), status });
      res.writeHead(status).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => server?.close());

const headline: AlertHeadline = {
  model: 'churn',
  version: 'v1',
  area: 'monitoring',
  owner: 'ml-oncall@example.com',
  severity: 'warning',
  subject: 'Drift in churn v1',
  lines: ['2 of 4 features drifted <tenure & plan>', 'Report: file:///store/reports/churn/c1.html'],
};
const json = { kind: 'retrain.drift-alert/v1', checkId: 'c1', model: 'churn' };

describe('alert delivery', () => {
  it('sends the JSON alert to a generic webhook and a chat message to a Slack-compatible one, once each', async () => {
    const store = new LocalStore(mkdtempSync(join(tmpdir(), 'retrain-alerts-')));
    const routes = [
      { url: `${base}/json-1`, format: 'json' as const },
      { url: `${base}/slack-1`, format: 'slack' as const },
    ];
    const first = await deliverAlert(store, { alertId: 'c1', routes, headline, json });
    expect(first.map((r) => r.status)).toEqual(['sent', 'sent']);
    const toJson = requests.filter((r) => r.path === '/json-1');
    const toChat = requests.filter((r) => r.path === '/slack-1');
    expect(toJson).toHaveLength(1);
    expect(toJson[0]!.body).toEqual(json);
    expect(toJson[0]!.headers['idempotency-key']).toBe('c1');
    expect(toChat[0]!.body).toEqual({ text: chatText(headline) });
    expect(toChat[0]!.body.text).toBe(
      ':warning: *Drift in churn v1*\n2 of 4 features drifted &lt;tenure &amp; plan&gt;\nReport: file:///store/reports/churn/c1.html\n_churn v1 · monitoring owner: ml-oncall@example.com_',
    );
    // The same alert again (a retried activity): nothing is sent twice.
    expect((await deliverAlert(store, { alertId: 'c1', routes, headline, json })).map((r) => r.status)).toEqual([
      'already-sent',
      'already-sent',
    ]);
    expect(requests.filter((r) => r.path.endsWith('-1'))).toHaveLength(2);
  });

  it('still alerts the routes that answer when one is down, and a retry sends only to that one', async () => {
    const store = new LocalStore(mkdtempSync(join(tmpdir(), 'retrain-alerts-')));
    failNext.set('/slack-2', 1);
    const routes = [
      { url: `${base}/slack-2`, format: 'slack' as const },
      { url: `${base}/json-2`, format: 'json' as const },
    ];
    await expect(deliverAlert(store, { alertId: 'c2', routes, headline, json })).rejects.toThrow(/answered 503/);
    expect(requests.filter((r) => r.path === '/json-2')).toHaveLength(1);
    const retry = await deliverAlert(store, { alertId: 'c2', routes, headline, json });
    expect(retry.map((r) => r.status)).toEqual(['sent', 'already-sent']);
    expect(requests.filter((r) => r.path === '/slack-2').map((r) => r.status)).toEqual([503, 204]);
    expect(requests.filter((r) => r.path === '/json-2')).toHaveLength(1);
  });

  it('routes drift alerts to the monitoring routes, else drift.alertWebhook, else the worker-wide webhook', () => {
    const base = MINIMAL_PIPELINE;
    const routed = pipelineSchema.parse({
      ...base,
      drift: {},
      alerts: { monitoring: [{ url: 'https://chat.example.com/hook', format: 'slack' }] },
    });
    expect(monitoringRoutes(routed, 'https://fallback.example.com').routes).toEqual([
      { url: 'https://chat.example.com/hook', format: 'slack' },
    ]);
    expect(routed.alerts).toMatchObject({ retraining: [], inference: [], logging: [] });
    const legacy = pipelineSchema.parse({ ...base, drift: { alertWebhook: 'https://old.example.com/a' } });
    expect(monitoringRoutes(legacy, 'https://fallback.example.com').routes).toEqual([{ url: 'https://old.example.com/a', format: 'json' }]);
    expect(monitoringRoutes(pipelineSchema.parse({ ...base, drift: {} }), 'https://fallback.example.com').routes).toEqual([
      { url: 'https://fallback.example.com', format: 'json' },
    ]);
    expect(monitoringRoutes(pipelineSchema.parse({ ...base, drift: {} }), undefined)).toEqual({ source: null, routes: [] });
    const bad = pipelineSchema.safeParse({ ...base, alerts: { monitoring: [{ url: 'ftp://x', format: 'teams' }], paging: [] } });
    expect(bad.success).toBe(false);
    const text = JSON.stringify(bad.error?.issues);
    expect(text).toContain('format');
    expect(text).toContain('paging');
  });
});
