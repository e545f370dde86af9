// Faults under the prediction-logging API (`retrain serve`, POST /v1/predictions), each with
// real processes: the API SIGKILLed mid-load and restarted, MinIO stopped mid-load, and S3
// answers lost or delayed on the wire (through a proxy). In every case a client that resends
// each batch it has no 200 for (same ids, same content) must end with every prediction in the
// store exactly once, and no 200 may acknowledge a prediction that is not in the store.
import { request as httpRequest, createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { once } from 'node:events';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { IngestResult } from '../api/ingest';
import type { PredictionLine } from '../lib/prediction-log';
import { LocalStore } from '../store/local-store';
import { S3Store } from '../store/s3-store';
import type { Store } from '../store/store';
import { makeUserProject, writeTestPipeline } from './helpers/cli-project';
import { startApiProcess, writeTokensFile, type ApiProcess } from './helpers/api-process';
import { startMinio, type Minio } from './helpers/minio';
import { waitFor } from './helpers/runs';

const MODEL = 'churn';
const project = makeUserProject('retrain-api-faults-');
writeTestPipeline(project, MODEL);
const { path: tokensFile, token } = writeTokensFile(project);

let minio: Minio;
const apis: ApiProcess[] = [];
const clients: { destroy(): void }[] = [];

beforeAll(async () => {
  minio = await startMinio();
});
afterEach(async () => {
  for (const api of apis.splice(0)) await api.stop();
});
afterAll(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await minio?.stop();
  rmSync(project, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------
// Stores: a local directory, or a prefix of the MinIO bucket (read back with a client of our own).

interface TestStore {
  /** The API's environment for this store. */
  env: Record<string, string>;
  /** The same store, for the test to read. */
  store: Store;
}

function localStore(name: string): TestStore {
  const dir = join(project, 'stores', name);
  mkdirSync(dir, { recursive: true });
  return { env: { RETRAIN_STORE: dir }, store: new LocalStore(dir) };
}

/** A prefix of the MinIO bucket; `endpoint` is where the API sends its S3 requests (MinIO, or a proxy in front of it). */
function s3Store(prefix: string, endpoint = minio.endpoint): TestStore {
  const client = minio.client();
  clients.push(client);
  return {
    env: {
      RETRAIN_STORE: `s3://${minio.bucket}/${prefix}`,
      RETRAIN_S3_ENDPOINT: endpoint,
      AWS_ACCESS_KEY_ID: minio.accessKeyId,
      AWS_SECRET_ACCESS_KEY: minio.secretAccessKey,
    },
    store: new S3Store({ client, bucket: minio.bucket, prefix }),
  };
}

async function startApi(store: TestStore): Promise<ApiProcess> {
  const api = await startApiProcess({ RETRAIN_PROJECT_DIR: project, RETRAIN_API_TOKENS_FILE: tokensFile, ...store.env });
  apis.push(api);
  return api;
}

/** Every stored prediction line of the model, with the batch file it is in. */
async function storedLines(store: Store): Promise<{ key: string; line: PredictionLine }[]> {
  const out = [];
  for (const key of await store.list(`predictions/${MODEL}/`)) {
    const text = (await store.get(key))!.toString('utf8');
    for (const line of text.split('\n')) if (line.trim()) out.push({ key, line: JSON.parse(line) as PredictionLine });
  }
  return out;
}

/** How many times each id is in the store. */
function countIds(lines: { line: PredictionLine }[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const { line } of lines) counts.set(line.id, (counts.get(line.id) ?? 0) + 1);
  return counts;
}

/** Checks that the store holds exactly `batches`' predictions, each once, as they were sent. */
async function expectEachOnce(store: Store, batches: Batch[]): Promise<{ lines: number; files: number }> {
  const lines = await storedLines(store);
  const sent = new Map(batches.flatMap((b) => b.lines.map((l) => [l.id, l] as const)));
  const counts = countIds(lines);
  const repeated = [...counts].filter(([, n]) => n > 1);
  const missing = [...sent.keys()].filter((id) => !counts.has(id));
  const unknown = [...counts.keys()].filter((id) => !sent.has(id));
  expect({ repeated: repeated.slice(0, 10), repeatedCount: repeated.length }).toEqual({ repeated: [], repeatedCount: 0 });
  expect({ missing: missing.slice(0, 10), missingCount: missing.length }).toEqual({ missing: [], missingCount: 0 });
  expect(unknown).toEqual([]);
  expect(lines.length).toBe(sent.size);
  for (const { line } of lines) expect(line).toEqual(sent.get(line.id));
  return { lines: lines.length, files: new Set(lines.map((l) => l.key)).size };
}

// ---------------------------------------------------------------------------------------------
// The client: batches of predictions with unique ids, sent by concurrent senders, each batch
// resent as it was until a 200 acknowledges it.

interface Batch {
  index: number;
  lines: PredictionLine[];
  body: string;
}

/** `count` batches of `size` predictions; timestamps spread over three UTC hours from `hour` (three partitions). */
function makeBatches(tag: string, count: number, size: number, hour = '2024-05-01T10'): Batch[] {
  const start = Date.parse(`${hour}:00:00Z`);
  return Array.from({ length: count }, (_, b) => {
    const lines = Array.from({ length: size }, (_, i): PredictionLine => {
      const n = b * size + i;
      return {
        id: `${tag}-${b}-${i}`,
        timestamp: new Date(start + (n % 3) * 3_600_000 + (n % 3_600) * 1_000).toISOString(),
        model: MODEL,
        version: 'v1',
        features: { tenure_months: n % 72, plan: n % 2 ? 'basic' : 'pro' },
        prediction: n % 5 === 0 ? 'yes' : 'no',
        score: (n % 100) / 100,
        latencyMs: 1 + (n % 7),
      };
    });
    return { index: b, lines, body: JSON.stringify(lines) };
  });
}

/** One POST and what came of it: a status, or 'network' when no answer arrived (refused, reset, cut off mid-body). */
interface Attempt {
  status: number | 'network';
  retryAfter: string | null;
  result?: IngestResult;
  text?: string;
}

async function postBatch(url: string, body: string): Promise<Attempt> {
  try {
    const res = await fetch(`${url}/v1/predictions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body,
    });
    const text = await res.text();
    return {
      status: res.status,
      retryAfter: res.headers.get('retry-after'),
      text,
      result: res.ok ? (JSON.parse(text) as IngestResult) : undefined,
    };
  } catch {
    return { status: 'network', retryAfter: null };
  }
}

/** What the senders have seen so far. */
interface Load {
  /** The 200 that acknowledged each batch, by batch index. */
  acks: Map<number, IngestResult>;
  /** Ids acknowledged so far, in the order of their acknowledgement. */
  ackedIds: Set<string>;
  /** Batches with a request in flight now. */
  inFlight: Set<number>;
  /** Attempts per batch. */
  attempts: Map<number, number>;
  /** Answers by status ('network': none). */
  statuses: Map<string, number>;
  /** 503 answers without a Retry-After header. */
  without503RetryAfter: number;
  done: Promise<void>;
}

/**
 * Sends `batches` with `senders` concurrent senders; each batch is resent, unchanged, until a
 * 200 answers it: after the Retry-After of a 503, or `networkRetryMs` when no answer came.
 * Any other answer fails the load (it is not a fault these tests make).
 */
function sendAll(api: ApiProcess, batches: Batch[], senders: number, networkRetryMs = 100): Load {
  const load: Load = {
    acks: new Map(),
    ackedIds: new Set(),
    inFlight: new Set(),
    attempts: new Map(),
    statuses: new Map(),
    without503RetryAfter: 0,
    done: Promise.resolve(),
  };
  const queue = [...batches];
  const deadline = Date.now() + 300_000;
  const sender = async () => {
    for (let batch = queue.shift(); batch; batch = queue.shift()) {
      for (;;) {
        if (Date.now() > deadline) throw new Error(`batch ${batch.index} still not acknowledged; API output:\n${api.output()}`);
        load.attempts.set(batch.index, (load.attempts.get(batch.index) ?? 0) + 1);
        load.inFlight.add(batch.index);
        const attempt = await postBatch(api.url, batch.body);
        load.inFlight.delete(batch.index);
        load.statuses.set(String(attempt.status), (load.statuses.get(String(attempt.status)) ?? 0) + 1);
        if (attempt.status === 200) {
          load.acks.set(batch.index, attempt.result!);
          for (const line of batch.lines) load.ackedIds.add(line.id);
          break;
        }
        if (attempt.status === 503) {
          if (attempt.retryAfter === null) load.without503RetryAfter++;
          await sleep(Number(attempt.retryAfter ?? 1) * 1_000);
        } else if (attempt.status === 'network') await sleep(networkRetryMs);
        else throw new Error(`batch ${batch.index}: unexpected answer ${attempt.status}: ${attempt.text}`);
      }
    }
  };
  load.done = Promise.all(Array.from({ length: senders }, sender)).then(() => undefined);
  // A failed sender must not go unhandled while the test is busy elsewhere; the test awaits `done`.
  load.done.catch(() => undefined);
  return load;
}

/** Figures of a finished load, for the test output. */
function figures(load: Load, batches: Batch[]) {
  const retried = batches.filter((b) => (load.attempts.get(b.index) ?? 0) > 1);
  return {
    batches: batches.length,
    predictions: batches.reduce((n, b) => n + b.lines.length, 0),
    attempts: [...load.attempts.values()].reduce((a, b) => a + b, 0),
    retriedBatches: retried.length,
    answers: Object.fromEntries(load.statuses),
    storedReported: [...load.acks.values()].reduce((n, a) => n + a.stored, 0),
    duplicatesReported: [...load.acks.values()].reduce((n, a) => n + a.duplicates, 0),
    duplicatesReportedOnRetries: retried.reduce((n, b) => n + load.acks.get(b.index)!.duplicates, 0),
  };
}

/** Every batch acknowledged once, each acknowledgement accounting for all its predictions. */
function expectAllAcknowledged(load: Load, batches: Batch[]): void {
  expect(load.acks.size).toBe(batches.length);
  for (const b of batches) {
    const ack = load.acks.get(b.index)!;
    expect(ack).toMatchObject({ received: b.lines.length, rejected: [] });
    expect(ack.stored + ack.duplicates).toBe(b.lines.length);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// ---------------------------------------------------------------------------------------------

describe.each([
  { name: 'a local store', make: () => localStore('kill') },
  { name: 'MinIO', make: () => s3Store('kill') },
])('the API SIGKILLed mid-load, on $name', ({ name, make }) => {
  it('ends with every prediction stored exactly once after the client resends what was not acknowledged', async () => {
    const store = make();
    const api = await startApi(store);
    const batches = makeBatches(`kill-${name.replace(/\W+/g, '')}`, 200, 50);
    const load = sendAll(api, batches, 8);
    await waitFor('40 batches to be acknowledged', () => load.acks.size >= 40);
    const ackedBeforeKill = load.acks.size;
    const inFlightAtKill = load.inFlight.size;
    await api.kill();
    await api.restart();
    await load.done;

    expectAllAcknowledged(load, batches);
    const stored = await expectEachOnce(store.store, batches);
    const f = figures(load, batches);
    // The kill landed mid-load: requests were cut off and resent.
    expect(ackedBeforeKill).toBeLessThan(batches.length);
    expect(f.retriedBatches).toBeGreaterThan(0);
    expect(f.storedReported + f.duplicatesReported).toBe(f.predictions);
    console.log(
      `[SIGKILL on ${name}] acked before the kill: ${ackedBeforeKill} batches; in flight at the kill: ${inFlightAtKill}; ` +
        `retried: ${f.retriedBatches} batches (${f.attempts} requests for ${f.batches} batches; answers ${JSON.stringify(f.answers)}); ` +
        `duplicates reported on retries: ${f.duplicatesReportedOnRetries}; stored reported: ${f.storedReported}; ` +
        `in the store: ${stored.lines} lines in ${stored.files} files, ${f.predictions} distinct ids sent`,
    );
  });
});

describe('MinIO stopped mid-load', () => {
  it('answers 503 with Retry-After, acknowledges only what it stored, and takes the retries once MinIO is back', async () => {
    const store = s3Store('outage');
    const api = await startApi(store);
    const batches = makeBatches('outage', 150, 50);
    const load = sendAll(api, batches, 6);
    await waitFor('30 batches to be acknowledged', () => load.acks.size >= 30);
    const ackedBeforeOutage = load.acks.size;
    await minio.pause();
    const ackedAtPause = new Set(load.ackedIds);
    let ackedDuringOutage: Set<string>;
    let answersDuringOutage: Record<string, number>;
    try {
      // A few rounds of 503s from every sender (each waits Retry-After between them).
      await waitFor('503s while MinIO is down', () => (load.statuses.get('503') ?? 0) >= 12, 120_000);
      ackedDuringOutage = new Set([...load.ackedIds].filter((id) => !ackedAtPause.has(id)));
      answersDuringOutage = Object.fromEntries(load.statuses);
    } finally {
      await minio.resume();
    }
    const ackedAtResume = new Set(load.ackedIds);

    // Nothing acknowledged before MinIO came back is missing from it.
    const afterResume = countIds(await storedLines(store.store));
    expect([...ackedAtResume].filter((id) => !afterResume.has(id))).toEqual([]);

    await load.done;
    expectAllAcknowledged(load, batches);
    const stored = await expectEachOnce(store.store, batches);
    const f = figures(load, batches);
    expect(f.answers['503']).toBeGreaterThan(0);
    expect(load.without503RetryAfter).toBe(0);
    expect(f.answers.network).toBeUndefined();
    console.log(
      `[MinIO outage] acked before the outage: ${ackedBeforeOutage} batches; 503s: ${f.answers['503']} (all with Retry-After); ` +
        `ids acked while MinIO was down: ${ackedDuringOutage.size} (answers by then ${JSON.stringify(answersDuringOutage)}); ` +
        `retried: ${f.retriedBatches} batches (${f.attempts} requests for ${f.batches} batches; answers ${JSON.stringify(f.answers)}); ` +
        `duplicates reported on retries: ${f.duplicatesReportedOnRetries}; stored reported: ${f.storedReported}; ` +
        `in the store: ${stored.lines} lines in ${stored.files} files, ${f.predictions} distinct ids sent`,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Faults on the wire between the API and S3: an HTTP proxy in front of MinIO that can lose the
// answer to a batch PUT (MinIO wrote the object; the API never hears so) or hold a batch PUT
// and deliver it later (a partition that heals: the write lands after the API gave up on it),
// and can slow down reads of batch files (a store farther away than loopback).

type WireFault = 'lose-answer' | 'hold';

interface S3FaultProxy {
  endpoint: string;
  /** Every prediction batch PUT: MinIO's status and the fault it got. */
  puts: { status: number; fault: WireFault | null }[];
  /** The next prediction batch PUT gets `fault`. */
  inject(fault: WireFault): void;
  /** Delays every GET of a prediction batch file by `ms` (a store farther away than loopback). */
  delayBatchGets(ms: number): void;
  /** Resolves once a PUT is being held. */
  held(): Promise<void>;
  /** Delivers the held PUT to MinIO; resolves once MinIO has answered it. */
  release(): Promise<void>;
  close(): Promise<void>;
}

async function readAll(stream: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function startS3FaultProxy(target: string): Promise<S3FaultProxy> {
  const { hostname, port } = new URL(target);
  const puts: S3FaultProxy['puts'] = [];
  let next: WireFault | null = null;
  let getDelayMs = 0;
  let holding: { release: () => void; answered: Promise<void> } | null = null;
  let onHeld: () => void = () => undefined;
  let heldSeen = new Promise<void>((r) => (onHeld = r));

  const server = createHttpServer((req, res) => {
    void (async () => {
      const body = await readAll(req);
      const batchPut = req.method === 'PUT' && /\/predictions\/[^?]+\.jsonl(\?|$)/.test(req.url ?? '');
      const fault = batchPut ? next : null;
      if (fault) next = null;
      if (getDelayMs > 0 && req.method === 'GET' && /\/predictions\/[^?]+\.jsonl(\?|$)/.test(req.url ?? '')) await sleep(getDelayMs);
      let answered = () => {};
      if (fault === 'hold') {
        let release = () => {};
        const released = new Promise<void>((r) => (release = r));
        holding = { release, answered: new Promise<void>((r) => (answered = r)) };
        onHeld();
        await released;
      }
      // Headers as they came (the signature covers host and the x-amz-* ones).
      const headers = { ...req.headers };
      delete headers.expect;
      delete headers.connection;
      const upstream = httpRequest({ host: hostname, port, method: req.method, path: req.url, headers, agent: false });
      upstream.end(body);
      const [answer] = (await once(upstream, 'response')) as [IncomingMessage];
      const payload = await readAll(answer);
      if (batchPut) puts.push({ status: answer.statusCode!, fault });
      answered();
      if (fault === 'lose-answer') {
        req.socket.destroy();
        return;
      }
      const out = { ...answer.headers };
      delete out['transfer-encoding'];
      delete out.connection;
      if (req.method !== 'HEAD') out['content-length'] = String(payload.length);
      res.writeHead(answer.statusCode!, out);
      res.end(payload);
    })().catch(() => req.socket.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port: proxyPort } = server.address() as { port: number };
  return {
    endpoint: `http://127.0.0.1:${proxyPort}`,
    puts,
    inject(fault) {
      next = fault;
    },
    delayBatchGets(ms) {
      getDelayMs = ms;
    },
    held: () => heldSeen,
    async release() {
      const h = holding!;
      holding = null;
      heldSeen = new Promise<void>((r) => (onHeld = r));
      h.release();
      await h.answered;
    },
    async close() {
      holding?.release();
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

describe('S3 answers lost or late on the wire', () => {
  let proxy: S3FaultProxy;
  let store: TestStore;
  let api: ApiProcess;
  beforeAll(async () => {
    proxy = await startS3FaultProxy(minio.endpoint);
    store = s3Store('wire', proxy.endpoint);
    api = await startApiProcess({ RETRAIN_PROJECT_DIR: project, RETRAIN_API_TOKENS_FILE: tokensFile, ...store.env });
  });
  afterAll(async () => {
    await api?.stop();
    await proxy?.close();
  });

  /** Resends `batch` until a 200 (at most `limit` requests), honouring Retry-After; every answer on the way. */
  async function untilAcknowledged(batch: Batch, first?: Attempt, limit = 20): Promise<Attempt[]> {
    const seen: Attempt[] = [];
    for (let attempt = first ?? (await postBatch(api.url, batch.body)); ; attempt = await postBatch(api.url, batch.body)) {
      seen.push(attempt);
      if (attempt.status === 200) return seen;
      if (attempt.status !== 503) throw new Error(`unexpected answer ${attempt.status}: ${attempt.text}`);
      if (seen.length >= limit) return seen;
      await sleep(Number(attempt.retryAfter ?? 1) * 1_000);
    }
  }

  const summary = (attempts: Attempt[]) =>
    attempts.map((a) => (a.status === 200 ? `200 stored ${a.result!.stored} duplicates ${a.result!.duplicates}` : String(a.status)));

  it('stores a batch once when MinIO wrote it but its answer was lost (the S3 client retries the PUT)', async () => {
    const [batch] = makeBatches('lost-answer', 1, 50, '2024-06-01T10');
    proxy.inject('lose-answer');
    const answers = await untilAcknowledged(batch);
    const resend = await postBatch(api.url, batch.body);
    // Only this test's hours: the other tests write elsewhere in the same store.
    const lines = (await storedLines(store.store)).filter((l) => l.line.id.startsWith('lost-answer-'));
    console.log(
      `[lost S3 answer] API answers: ${summary(answers).join(', ')}; resend: ${summary([resend]).join('')}; ` +
        `PUTs MinIO saw: ${JSON.stringify(proxy.puts.splice(0))}; lines stored: ${lines.length} for 50 ids`,
    );
    expect(answers.at(-1)!.result!.stored + answers.at(-1)!.result!.duplicates).toBe(50);
    expect(resend.result).toMatchObject({ stored: 0, duplicates: 50 });
    expect([...countIds(lines).values()].filter((n) => n !== 1)).toEqual([]);
    expect(lines).toHaveLength(50);
  });

  it('stores a batch once when its write lands after the API gave up on it and the client resent it', async () => {
    const [batch] = makeBatches('late-write', 1, 50, '2024-06-02T10');
    proxy.inject('hold');
    const first = postBatch(api.url, batch.body);
    await proxy.held();
    // The log's write timeout (15 s) passes with the PUT still held: 503, resend.
    const firstAnswer = await first;
    expect(firstAnswer.status).toBe(503);
    const retry = postBatch(api.url, batch.body);
    // Give the resend time to reach the store before the held PUT lands.
    await Promise.race([retry, sleep(2_000)]);
    await proxy.release();
    const answers = [firstAnswer, ...(await untilAcknowledged(batch, await retry))];
    const lines = (await storedLines(store.store)).filter((l) => l.line.id.startsWith('late-write-'));
    console.log(
      `[late S3 write] API answers: ${summary(answers).join(', ')}; PUTs MinIO saw: ${JSON.stringify(proxy.puts.splice(0))}; ` +
        `lines stored: ${lines.length} for 50 ids`,
    );
    expect([...countIds(lines).values()].filter((n) => n !== 1)).toEqual([]);
    expect(lines).toHaveLength(50);
  });

  it('takes predictions for an hour that already holds many batch files (as after a restart) from a store farther away', async () => {
    // 1,500 batch files of one line in one hour, as a busy hour leaves them (group commit writes
    // a file per round), and 25 ms per GET, about what S3 takes from EC2. The first write of the
    // hour in this process must know every id in it before it writes.
    const hour = '2024-06-03T10';
    const backlog = Array.from({ length: 1_500 }, (_, i): PredictionLine => ({
      ...makeBatches(`backlog-${i}`, 1, 1, hour)[0].lines[0],
    }));
    const writer = async (from: number) => {
      for (let i = from; i < backlog.length; i += 32)
        await store.store.put(`predictions/${MODEL}/2024-06-03/10/backlog-${i}.jsonl`, JSON.stringify(backlog[i]) + '\n');
    };
    await Promise.all(Array.from({ length: 32 }, (_, i) => writer(i)));
    proxy.delayBatchGets(25);
    try {
      const [batch] = makeBatches('busy-hour', 1, 50, hour);
      // Each attempt fails after the log's write timeout (15 s) if the reading does not get on.
      const answers = await untilAcknowledged(batch, undefined, 4);
      const resent = await postBatch(api.url, JSON.stringify([backlog[1_234], ...batch.lines.slice(0, 3)]));
      console.log(
        `[busy hour] ${backlog.length} batch files in the hour, 25 ms per GET: API answers ${summary(answers).join(', ')}; ` +
          `a stored id resent with 3 of the batch: ${summary([resent]).join('')}`,
      );
      expect(answers.at(-1)!.status).toBe(200);
      expect(resent.result).toMatchObject({ stored: 0, duplicates: 4 });
      const lines = (await storedLines(store.store)).filter((l) => l.line.id.startsWith('busy-hour-') || l.line.id.startsWith('backlog-'));
      expect([...countIds(lines).values()].filter((n) => n !== 1)).toEqual([]);
      expect(lines).toHaveLength(backlog.length + 50);
    } finally {
      proxy.delayBatchGets(0);
    }
  });
});

// A known limit, shown rather than hidden (services/idempotent-log.ts: "idempotency holds for one
// writer per store"): each process knows the ids of a partition as of when it read it, so a
// retry that reaches another process (two replicas behind a load balancer, or an old and a new
// one during a rolling deploy) is written again. `it.fails`: the assertion is the behaviour one
// would want; when the log learns to handle several writers this fails, and should become `it`.
describe('two API processes on one store', () => {
  it.fails('stores a batch once when its retry reaches the other process', async () => {
    const store = localStore('two-writers');
    const [a, b] = [await startApi(store), await startApi(store)];
    const [earlier, batch] = makeBatches('two-writers', 2, 50, '2024-06-04T10');
    // b reads the partitions (its first write to them), then a writes the batch, and the client,
    // without a's answer, resends it to b.
    const first = await postBatch(b.url, earlier.body);
    const toA = await postBatch(a.url, batch.body);
    const toB = await postBatch(b.url, batch.body);
    const lines = await storedLines(store.store);
    const twice = [...countIds(lines).values()].filter((n) => n === 2).length;
    console.log(
      `[two writers] earlier batch to b: ${first.status}; the batch to a: ${JSON.stringify(toA.result)}; its retry to b: ` +
        `${JSON.stringify(toB.result)}; ids stored twice: ${twice} of ${lines.length} lines`,
    );
    expect(toA.result).toMatchObject({ stored: 50 });
    await expectEachOnce(store.store, [earlier, batch]);
  });
});
