/**
 * Page timings of the web console (/ui of `retrain serve`) on a large store, and what the Model
 * page's data would cost without the listing indexes. Not a test: it measures and prints, it
 * asserts nothing.
 *
 *   node --import tsx bench/console.ts [--dir /tmp/console-large] [--runs 5]
 *
 * --dir is a store made by bench/console-store.ts (its ids.json names the model, versions, checks
 * and predictions to ask for; its project/ and store/ are used as they are). The bench starts a
 * headless, in-memory Temporal dev server (the pages ask it for the model's run: there is none)
 * and the API in this process (`startApi`, one bearer token with the scopes read and approve:*),
 * then:
 *   1. cold: deletes <store>/indexes/ and visits every page once, in the order of the table: the
 *      first page that reads an index builds it from every object under its prefix (one-time cost);
 *   2. warm: --runs rounds over the pages (each page once per round), median and max per page;
 *   3. the prediction lookup of an old id without its day (the search reads the log newest first),
 *      once;
 *   4. restarted: a second API on a new store object, after `forgetListingIndexes`, visits every
 *      page once more: the indexes are read from the stored index files, not rebuilt;
 *   5. data load: the Model page's store reads (pointer, versionHistory, auditHistory,
 *      driftHistory) through the warm indexes, against the peer: the same data read with the plain
 *      services (listVersions, every evaluation, every audit event, every drift report JSON),
 *      --runs times each.
 * Every request sends `Authorization: Bearer <token>` and reads the whole body. Peak RSS is
 * `process.memoryUsage().rss` sampled every 50 ms, per phase. See bench/README.md.
 */
import { checkBenchArgs } from './bench-args';
import { request as httpRequest } from 'node:http';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { consoleRoutes } from '../console/routes';
import { startApi, type RunningApi } from '../api/server';
import { startDevServer, type DevServer } from '../cli/dev-server';
import { hashToken, type TokensFile } from '../lib/api-tokens';
import { keys } from '../lib/keys';
import type { RetrainConfig } from '../lib/config';
import { loadConfig } from '../services/config';
import { forgetListingIndexes } from '../services/listing-index';
import { auditHistory, driftHistory, versionHistory } from '../services/model-history';
import { listVersions, readListed, readPointer } from '../services/registry';
import { createStore, type Store } from '../store/index';

const benchStart = Date.now();

interface Options {
  dir: string;
  runs: number;
}

function parseArgs(argv: string[]): Options {
  const value = checkBenchArgs(argv, { values: ['--dir', '--runs'] }, import.meta.url);
  const runs = Number(value('--runs') ?? 5);
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs expects a positive integer');
  return { dir: resolve(value('--dir') ?? '/tmp/console-large'), runs };
}

function progress(message: string): void {
  process.stderr.write(`[${((Date.now() - benchStart) / 1000).toFixed(1).padStart(6)}s] ${message}\n`);
}

/** What bench/console-store.ts wrote of the store it made (the part used here). */
interface StoreIds {
  model: string;
  from: string;
  to: string;
  store: string;
  projectDir: string;
  counts: { versions: number; checks: number; predictions: number; predictionBatches: number; files: number; bytes: number };
  predictions: { old: { id: string; hour: string }; recent: { id: string; hour: string } };
  versions: { first: string; champion: string };
  checks: { some: string[] };
}

// ---------------------------------------------------------------------------------------------
// Peak RSS, per phase

let phaseRss = 0;
const sampler = setInterval(() => {
  phaseRss = Math.max(phaseRss, process.memoryUsage().rss);
}, 50);
sampler.unref();

/** The peak RSS (MiB) since the last call, and starts a new phase. */
function takePeakRss(): number {
  const peak = Math.max(phaseRss, process.memoryUsage().rss);
  phaseRss = 0;
  return peak / 2 ** 20;
}

// ---------------------------------------------------------------------------------------------
// Requests

interface Visit {
  ms: number;
  status: number;
  bytes: number;
}

/** One page, its whole body read; the time is from sending the request to the last byte. */
async function visit(base: string, token: string, path: string): Promise<Visit> {
  const t0 = performance.now();
  const res = await fetch(base + path, { headers: { authorization: `Bearer ${token}` } });
  const body = await res.arrayBuffer();
  return { ms: performance.now() - t0, status: res.status, bytes: body.byteLength };
}

/**
 * The same with node:http and no time limit: fetch gives up after 300 s without response headers,
 * and the lookup of an old id without its day may take longer than that.
 */
function visitUnbounded(base: string, token: string, path: string): Promise<Visit> {
  const t0 = performance.now();
  return new Promise((done, fail) => {
    const req = httpRequest(base + path, { headers: { authorization: `Bearer ${token}` } }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () => done({ ms: performance.now() - t0, status: res.statusCode ?? 0, bytes }));
      res.on('error', fail);
    });
    req.on('error', fail);
    req.end();
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

// ---------------------------------------------------------------------------------------------
// The Model page's data, with and without the indexes

/** What loadModelPage reads from the store (the pipeline and Temporal left out). */
async function indexedLoad(store: Store, model: string): Promise<{ ms: number; items: number }> {
  const t0 = performance.now();
  const [, versions, audit, checks] = await Promise.all([
    readPointer(store, model),
    versionHistory(store, model),
    auditHistory(store, model),
    driftHistory(store, model),
  ]);
  return { ms: performance.now() - t0, items: versions.length + audit.length + checks.length };
}

interface PeerLoad {
  ms: number;
  parts: { versions: number; evaluations: number; audit: number; reports: number };
  counts: { versions: number; evaluations: number; audit: number; reports: number };
}

/** The same data read with the project's plain services: every object, one read each. */
async function peerLoad(store: Store, model: string): Promise<PeerLoad> {
  const timed = async <T>(f: () => Promise<T[]>): Promise<{ ms: number; n: number }> => {
    const t0 = performance.now();
    const items = await f();
    return { ms: performance.now() - t0, n: items.length };
  };
  const t0 = performance.now();
  const [, versions, evaluations, audit, reports] = await Promise.all([
    readPointer(store, model),
    timed(() => listVersions(store, model)),
    timed(async () =>
      readListed<unknown>(
        store,
        (await store.list(keys.evaluations(model))).filter((k) => k.endsWith('.json')),
      ),
    ),
    timed(async () =>
      readListed<unknown>(
        store,
        (await store.list(keys.audit(model))).filter((k) => k.endsWith('.json')),
      ),
    ),
    timed(async () =>
      readListed<unknown>(
        store,
        (await store.list(keys.driftReports(model))).filter((k) => k.endsWith('.json')),
      ),
    ),
  ]);
  return {
    ms: performance.now() - t0,
    parts: { versions: versions.ms, evaluations: evaluations.ms, audit: audit.ms, reports: reports.ms },
    counts: { versions: versions.n, evaluations: evaluations.n, audit: audit.n, reports: reports.n },
  };
}

// ---------------------------------------------------------------------------------------------

interface PageRow {
  label: string;
  path: string;
  /** Timed once only (cold, and not in the warm rounds). */
  once?: boolean;
  cold?: Visit;
  restarted?: Visit;
  warm: Visit[];
}

const fmt = (ms: number | undefined) => (ms === undefined ? '–' : ms >= 100 ? Math.round(ms).toLocaleString('en-US') : ms.toFixed(1));
const kb = (bytes: number) => (bytes / 1024).toFixed(1);

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const idsFile = join(opts.dir, 'ids.json');
  if (!existsSync(idsFile)) throw new Error(`${idsFile} not found: make the store first with bench/console-store.ts`);
  const ids = JSON.parse(readFileSync(idsFile, 'utf8')) as StoreIds;
  const projectDir = existsSync(join(opts.dir, 'project')) ? join(opts.dir, 'project') : ids.projectDir;
  const storeDir = existsSync(join(opts.dir, 'store')) ? join(opts.dir, 'store') : ids.store;
  const m = ids.model;

  progress('starting a headless Temporal dev server');
  const temporal: DevServer = await startDevServer({ uiPort: null });
  let api: RunningApi | null = null;
  try {
    const env = {
      ...process.env,
      RETRAIN_PROJECT_DIR: projectDir,
      RETRAIN_STORE: storeDir,
      RETRAIN_TEMPORAL_ADDRESS: temporal.address,
      RETRAIN_LOG_LEVEL: 'warn',
    };
    const config: RetrainConfig = loadConfig(env);
    const token = randomBytes(32).toString('hex');
    const tokens: TokensFile = { tokens: [{ name: 'bench', sha256: hashToken(token), scopes: ['read', 'approve:*'] }] };

    const mid = new Date((Date.parse(ids.from) + Date.parse(ids.to)) / 2).toISOString();
    const recent = ids.predictions.recent;
    const old = ids.predictions.old;
    const checkId = ids.checks.some[Math.floor(ids.checks.some.length / 2)]!;
    const enc = encodeURIComponent;
    const pages: PageRow[] = [
      { label: 'Models', path: '/ui' },
      { label: 'Model', path: `/ui/models/${m}` },
      { label: 'Model, old page of checks', path: `/ui/models/${m}?checks=10` },
      { label: 'Model, audit page 200, drift-check', path: `/ui/models/${m}?audit=200&type=drift-check` },
      { label: 'Model, at mid-history', path: `/ui/models/${m}?at=${enc(mid)}` },
      { label: 'Version, champion', path: `/ui/models/${m}/versions/${ids.versions.champion}` },
      { label: 'Version, oldest', path: `/ui/models/${m}/versions/${ids.versions.first}` },
      { label: 'Approvals', path: '/ui/approvals' },
      { label: 'Prediction, recent id', path: `/ui/predictions?id=${recent.id}` },
      { label: 'Prediction, recent id + day', path: `/ui/predictions?id=${recent.id}&model=${m}&day=${recent.hour.slice(0, 10)}` },
      { label: 'Prediction, old id + day', path: `/ui/predictions?id=${old.id}&model=${m}&day=${old.hour.slice(0, 10)}` },
      { label: 'Drift report', path: `/ui/models/${m}/reports/${checkId}` },
      { label: 'Prediction, old id, no day', path: `/ui/predictions?id=${old.id}`, once: true },
    ].map((p) => ({ ...p, warm: [] }));

    const indexDir = join(storeDir, 'indexes');
    rmSync(indexDir, { recursive: true, force: true });
    progress(`deleted ${indexDir}; starting the API`);
    takePeakRss();
    const store = createStore(config);
    const apiStart = performance.now();
    api = await startApi(config, { tokens, address: '127.0.0.1:0', logLevel: 'warn', store, extensions: [consoleRoutes] });
    const apiStartMs = performance.now() - apiStart;
    const rssStarted = takePeakRss();

    // 1. Cold
    for (const p of pages) {
      if (p.once) continue;
      p.cold = await visit(api.url, token, p.path);
      progress(`cold ${p.label}: ${fmt(p.cold.ms)} ms, ${p.cold.status}, ${kb(p.cold.bytes)} KB`);
    }
    const rssCold = takePeakRss();
    const indexFiles = existsSync(join(indexDir, m))
      ? readdirSync(join(indexDir, m)).map((f) => ({ name: f, bytes: statSync(join(indexDir, m, f)).size }))
      : [];

    // 2. Warm
    for (let r = 0; r < opts.runs; r++) {
      for (const p of pages) if (!p.once) p.warm.push(await visit(api.url, token, p.path));
      progress(`warm round ${r + 1}/${opts.runs} done`);
    }
    const rssWarm = takePeakRss();

    // 3. The worst lookup, once
    const worst = pages.find((p) => p.once)!;
    progress(`${worst.label}: reading the log newest first (${ids.counts.predictionBatches.toLocaleString('en-US')} batches), once`);
    worst.cold = await visitUnbounded(api.url, token, worst.path);
    progress(`${worst.label}: ${fmt(worst.cold.ms)} ms, ${worst.cold.status}, ${kb(worst.cold.bytes)} KB`);
    const rssWorst = takePeakRss();

    // 5 (before closing the first API: its store's indexes are warm). Data load, indexed vs peer.
    const indexed: number[] = [];
    let indexedItems = 0;
    for (let r = 0; r < opts.runs; r++) {
      const x = await indexedLoad(store, m);
      indexed.push(x.ms);
      indexedItems = x.items;
    }
    const rssIndexed = takePeakRss();
    const peer: PeerLoad[] = [];
    for (let r = 0; r < opts.runs; r++) {
      peer.push(await peerLoad(store, m));
      progress(`peer run ${r + 1}/${opts.runs}: ${fmt(peer.at(-1)!.ms)} ms`);
    }
    const rssPeer = takePeakRss();

    // 4. Restarted
    await api.close();
    api = null;
    const store2 = createStore(config);
    forgetListingIndexes(store2);
    api = await startApi(config, { tokens, address: '127.0.0.1:0', logLevel: 'warn', store: store2, extensions: [consoleRoutes] });
    for (const p of pages) {
      if (p.once) continue;
      p.restarted = await visit(api.url, token, p.path);
      progress(`restarted ${p.label}: ${fmt(p.restarted.ms)} ms, ${p.restarted.status}`);
    }
    const rssRestarted = takePeakRss();
    await api.close();
    api = null;

    // -----------------------------------------------------------------------------------------
    // Output
    const c = ids.counts;
    console.log('');
    console.log(
      `Store ${storeDir}: model ${m}, ${c.versions.toLocaleString('en-US')} versions, ${c.checks.toLocaleString('en-US')} drift checks, ` +
        `${c.predictions.toLocaleString('en-US')} predictions in ${c.predictionBatches.toLocaleString('en-US')} batches ` +
        `(${c.files.toLocaleString('en-US')} files, ${(c.bytes / 2 ** 30).toFixed(1)} GiB); Temporal: dev server at ${temporal.address}; ` +
        `${opts.runs} warm runs per page.`,
    );
    console.log('');
    console.log('| page | cold ms | restarted ms | warm median ms | warm max ms | KB | status |');
    console.log('|:---|---:|---:|---:|---:|---:|:---|');
    for (const p of pages) {
      const w = p.warm.map((v) => v.ms);
      const statuses = [...new Set([p.cold, p.restarted, ...p.warm].filter((v): v is Visit => !!v).map((v) => v.status))].join(',');
      console.log(
        `| ${p.label} \`${p.path.replace(/\|/g, '%7C')}\` | ${fmt(p.cold?.ms)} | ${fmt(p.restarted?.ms)} | ` +
          `${w.length ? fmt(median(w)) : '–'} | ${w.length ? fmt(Math.max(...w)) : '–'} | ${kb((p.warm[0] ?? p.cold!).bytes)} | ${statuses} |`,
      );
    }
    console.log('');
    console.log(
      `cold: the first visit after deleting ${indexDir}, in table order, so the first page that reads an index builds it ` +
        `(one-time cost; Models builds the versions and drift indexes, Model the audit index). ` +
        `restarted: a second API on a new store object after forgetListingIndexes (the stored index files are read). ` +
        `The last row is timed once.`,
    );
    console.log(
      `Index files written: ${indexFiles.map((f) => `${f.name} ${(f.bytes / 2 ** 20).toFixed(1)} MiB`).join(', ') || 'none'}; API start ${fmt(apiStartMs)} ms.`,
    );
    console.log('');
    const peerMed = median(peer.map((p) => p.ms));
    const indexedMed = median(indexed);
    const part = (k: keyof PeerLoad['parts']) =>
      `${k} ${fmt(median(peer.map((p) => p.parts[k])))} ms (${peer[0]!.counts[k].toLocaleString('en-US')} objects)`;
    console.log(`Model page data load (pointer + versions with holdout metrics + audit + drift checks), ${opts.runs} runs each:`);
    console.log('');
    console.log('| side | median ms | max ms | objects read |');
    console.log('|:---|---:|---:|---:|');
    console.log(
      `| indexed, warm (readPointer, versionHistory, auditHistory, driftHistory) | ${fmt(indexedMed)} | ${fmt(Math.max(...indexed))} | 1 pointer + 3 listings (${indexedItems.toLocaleString('en-US')} entries) |`,
    );
    const pc = peer[0]!.counts;
    console.log(
      `| peer: plain services, every object | ${fmt(peerMed)} | ${fmt(Math.max(...peer.map((p) => p.ms)))} | ${(1 + pc.versions + pc.evaluations + pc.audit + pc.reports).toLocaleString('en-US')} |`,
    );
    console.log('');
    console.log(
      `  peer parts (run concurrently, medians): ${(['versions', 'evaluations', 'audit', 'reports'] as const).map(part).join(', ')}`,
    );
    console.log(`  ratio (peer / indexed warm): ${(peerMed / indexedMed).toFixed(1)}x`);
    const modelRow = pages[1]!;
    console.log(
      `  ratio (peer / Model page warm median, whole request): ${(peerMed / median(modelRow.warm.map((v) => v.ms))).toFixed(1)}x; ` +
        `ratio (Model page cold / warm median): ${(modelRow.cold!.ms / median(modelRow.warm.map((v) => v.ms))).toFixed(1)}x`,
    );
    console.log('');
    console.log(
      `Peak RSS MiB (process.memoryUsage().rss every 50 ms): API started ${rssStarted.toFixed(0)}, cold ${rssCold.toFixed(0)}, ` +
        `warm ${rssWarm.toFixed(0)}, old id without day ${rssWorst.toFixed(0)}, indexed load ${rssIndexed.toFixed(0)}, ` +
        `peer ${rssPeer.toFixed(0)}, restarted ${rssRestarted.toFixed(0)}.`,
    );
    const cpu = os.cpus();
    console.log(
      `Machine: ${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}, ` +
        `${os.type()} ${os.release()}; load average ${os.loadavg()[0]!.toFixed(2)} at the end; bench took ${((Date.now() - benchStart) / 1000).toFixed(0)} s.`,
    );
  } finally {
    if (api) await api.close();
    await temporal.stop();
  }
}

await main();
