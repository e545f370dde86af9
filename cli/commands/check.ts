import { spawnSync } from 'node:child_process';
import { get as httpGetRequest } from 'node:http';
import { get as httpsGet } from 'node:https';
import { storeLocation, type RetrainConfig } from '../../lib/config';
import { InvalidInputError } from '../../lib/errors';
import { partitionQueueOf } from '../../lib/task-queues';
import { loadConfig } from '../../services/config';
import { checkStore, createStore } from '../../store/index';
import { defineCommand } from '../command';
import { jsonFlag } from '../common-args';
import { connectClient } from '../../client/client';
import { output } from '../format';
import { describeTemporal } from '../../client/temporal-connection';

interface Check {
  what: string;
  ok: boolean;
  detail: string;
}

/**
 * Checks what a deployment needs, one line each, so a new machine or a changed setting can be
 * tried before a run depends on it: the configuration parses (else that is the one failure
 * reported, naming the variable: a store that is a file or a missing directory, a bad port…),
 * Temporal answers in the namespace, workers poll the task queues, the store can be read, and
 * the training Python has scikit-learn; with RETRAIN_API_URL set, the HTTP API is ready (its
 * /readyz). Exits 1 when any check fails.
 */
export const checkCommand = defineCommand({
  name: 'check',
  summary: 'check configuration, Temporal, workers on every queue, store, Python (and the HTTP API)',
  details:
    'One line per check; exits 1 when any check fails, saying what to do about it. A configuration\nthat does not parse is the one failure reported, naming the variable. With RETRAIN_API_URL set, the\nHTTP API of `retrain serve` is checked too (GET <url>/readyz).',
  flags: { json: jsonFlag },
  examples: [
    'retrain check',
    'RETRAIN_TEMPORAL_ADDRESS=temporal.internal:7233 retrain check --json',
    'RETRAIN_API_URL=http://127.0.0.1:8080 retrain check',
  ],
  async run(args) {
    let config: RetrainConfig;
    try {
      config = loadConfig();
    } catch (err) {
      if (!(err instanceof InvalidInputError)) throw err;
      // Nothing else can be checked without a configuration: this is the one failure to fix first.
      const check: Check = { what: 'configuration', ok: false, detail: oneLine(err.message) };
      output(
        args.json,
        { ok: false, checks: [check] },
        () => `FAIL  ${check.what.padEnd(22)} ${check.detail}\n\nSome checks failed (FAIL above).`,
      );
      return 1;
    }
    const checks: Check[] = [
      ...(await temporalChecks(config)),
      await storeCheck(config),
      pythonCheck(config),
      ...(config.apiUrl ? [await apiCheck(config.apiUrl)] : []),
    ];
    output(args.json, { ok: checks.every((c) => c.ok), checks }, () =>
      [
        ...checks.map((c) => `${c.ok ? 'ok  ' : 'FAIL'}  ${c.what.padEnd(22)} ${c.detail}`),
        checks.every((c) => c.ok) ? '\nAll checks passed.' : '\nSome checks failed (FAIL above).',
      ].join('\n'),
    );
    return checks.every((c) => c.ok) ? 0 : 1;
  },
});

/** "environment is invalid:\n  - A: x\n  - B: y" as one line: "environment is invalid: A: x; B: y". */
function oneLine(message: string): string {
  const [head, ...rest] = message.split('\n');
  return rest.length ? `${head} ${rest.map((l) => l.replace(/^\s*-\s*/, '')).join('; ')}` : head!;
}

async function temporalChecks(config: RetrainConfig): Promise<Check[]> {
  let client;
  try {
    client = await connectClient(config);
    await client.workflowService.describeNamespace({ namespace: config.namespace });
  } catch (err) {
    const detail = (err as Error).message.split('\n')[0]!;
    return [{ what: 'Temporal', ok: false, detail }];
  }
  const checks: Check[] = [{ what: 'Temporal', ok: true, detail: describeTemporal(config) }];
  // The retrain queue is served if someone polls its workflow tasks; the training queue has
  // activity tasks only. Values of temporal.api.enums.v1.TaskQueueType.
  const WORKFLOW_TASKS = 1;
  const ACTIVITY_TASKS = 2;
  for (const [queue, role, taskQueueType] of [
    [config.taskQueue, 'retrain', WORKFLOW_TASKS],
    // The hours of partitioned drift checks: polled by every worker of the retrain queue.
    [partitionQueueOf(config.taskQueue), 'retrain', ACTIVITY_TASKS],
    [config.trainingTaskQueue, 'training', ACTIVITY_TASKS],
  ] as const) {
    const { pollers } = await client.workflowService.describeTaskQueue({
      namespace: config.namespace,
      taskQueue: { name: queue },
      taskQueueType,
    });
    const n = pollers?.length ?? 0;
    checks.push({
      what: `workers on "${queue}"`,
      ok: n > 0,
      detail:
        n > 0
          ? `${n} polling (${[...new Set(pollers!.map((p) => p.identity))].join(', ')})`
          : `none polling: start \`retrain worker --queues ${role}\``,
    });
  }
  await client.connection.close();
  return checks;
}

async function storeCheck(config: RetrainConfig): Promise<Check> {
  const store = createStore(config);
  try {
    const warning = await checkStore(store);
    return warning
      ? { what: 'store', ok: false, detail: warning }
      : { what: 'store', ok: true, detail: `${storeLocation(config.store)} (readable)` };
  } catch (err) {
    return { what: 'store', ok: false, detail: (err as Error).message };
  }
}

function pythonCheck(config: RetrainConfig): Check {
  const probe = spawnSync(
    config.python,
    ['-c', 'import sys, sklearn, numpy; print(sys.version.split()[0], sklearn.__version__, numpy.__version__)'],
    { encoding: 'utf8', timeout: 60_000 },
  );
  if (probe.error || probe.status !== 0) {
    const why = probe.error?.message ?? probe.stderr.trim().split('\n').at(-1) ?? `exit ${probe.status}`;
    return { what: 'training Python', ok: false, detail: `${config.python}: ${why} (set RETRAIN_PYTHON, or run node scripts/setup.mjs)` };
  }
  const [python, sklearn, numpy] = probe.stdout.trim().split(' ');
  return { what: 'training Python', ok: true, detail: `${config.python}: Python ${python}, scikit-learn ${sklearn}, numpy ${numpy}` };
}

/** How long `retrain check` waits for the API's /readyz (which itself asks Temporal and the store). */
const API_TIMEOUT_MS = 15_000;

/** What `GET /readyz` of `retrain serve` answers, 200 or 503 (api/routes/health.ts). */
interface Readiness {
  ready: boolean;
  temporal: { ok: boolean; reason?: string };
  store: { ok: boolean; location?: string; reason?: string };
}

function isReadiness(value: unknown): value is Readiness {
  const v = value as Partial<Readiness> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.ready === 'boolean' &&
    typeof v.temporal?.ok === 'boolean' &&
    typeof v.store?.ok === 'boolean'
  );
}

/** The HTTP API at RETRAIN_API_URL answers /readyz, and is ready (it reaches Temporal and reads the store). */
async function apiCheck(url: string): Promise<Check> {
  const what = 'HTTP API';
  const readyz = `${url.replace(/\/+$/, '')}/readyz`;
  let response: { status: number; statusText: string; text: string };
  try {
    response = await httpGet(readyz, API_TIMEOUT_MS);
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    return { what, ok: false, detail: `${readyz}: unreachable (${why}): start \`retrain serve\`, or check RETRAIN_API_URL` };
  }
  let body: unknown;
  try {
    body = JSON.parse(response.text);
  } catch {
    body = undefined;
  }
  if (!isReadiness(body)) {
    const answer = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
    return { what, ok: false, detail: `${readyz} answers ${answer}, not the readiness of \`retrain serve\`: check RETRAIN_API_URL` };
  }
  if (body.ready && response.status === 200) return { what, ok: true, detail: `${url} (ready: Temporal reachable, store readable)` };
  const firstLine = (reason: string | undefined, otherwise: string) => reason?.split('\n')[0] || otherwise;
  const reasons = [
    ...(body.temporal.ok ? [] : [`Temporal: ${firstLine(body.temporal.reason, 'not reachable')}`]),
    ...(body.store.ok
      ? []
      : [`store${body.store.location ? ` ${body.store.location}` : ''}: ${firstLine(body.store.reason, 'not readable')}`]),
  ];
  return { what, ok: false, detail: `${url}: not ready (HTTP ${response.status}): ${reasons.join('; ') || 'no reason given'}` };
}

/**
 * GET `url` with node:http(s) (fetch refuses some ports, e.g. 6000, that a server may well use):
 * the status and up to 64 KiB of the body. `timeoutMs` bounds the wait for a connection and for
 * each part of the answer.
 */
function httpGet(url: string, timeoutMs: number): Promise<{ status: number; statusText: string; text: string }> {
  return new Promise((resolve, reject) => {
    const get = url.startsWith('https:') ? httpsGet : httpGetRequest;
    const request = get(url, { headers: { accept: 'application/json' }, timeout: timeoutMs }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (text.length < 64 * 1024) text += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', text }));
      res.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
    request.on('error', reject);
  });
}
