/**
 * A large, realistic store for benchmarking the web console (`retrain serve`, /ui): a history of
 * model versions, drift checks and logged predictions over ~14 months ending now, written with the
 * same object shapes real runs write.
 *
 *   node --import tsx bench/console-store.ts --dir <D> [--versions 1000] [--checks 10000]
 *     [--predictions 10000000] [--model churn] [--seed 1] [--end <ISO time>] [--fresh-seed] [--skip-validate] [--validate-only]
 *
 * 1. Runs the real demo once into <D>/seed (`retrain demo churn`, its own local Temporal dev
 *    server; reused when <D>/seed already holds a champion, unless --fresh-seed) and takes its
 *    objects as templates: a version, its evaluation, the champion pointer, a drift report, audit
 *    events of every type it wrote and a prediction line.
 * 2. Writes <D>/store: N versions (each with its evaluation against the champion of its time and
 *    the audit events of its run: snapshot, validation, training, registration, evaluation, gate,
 *    approval, promotion, verification, and now and then a failed verification and its rollback),
 *    the champion pointer with its whole history, M hourly drift checks (JSON report + a small
 *    HTML page, a drift-check audit event each, alerts and held alerts by the alert policy,
 *    retraining runs started by drift), and P predictions as hourly JSON-lines batches naming the
 *    champion of their time. <D>/project/pipelines/<model>.ts is the pipeline (manual approval).
 * 3. Reads it back with the project's own services and prints how long each naive read took.
 *
 * Deterministic given --seed and --end (default: now, rounded down to the minute), apart from
 * the demo's seed run. Writes <D>/ids.json: prediction ids, versions and check ids to look up.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { checkBenchArgs } from './bench-args';
import { auditEventId, type AuditEvent, type AuditEventType } from '../lib/audit';
import { hashOf } from '../lib/canonical-json';
import { RETRAIN_HOME, type RetrainConfig } from '../lib/config';
import { decideAlert, rememberOutcome, type CheckOutcome } from '../lib/drift/alert-policy';
import { regressed, summarize, type DriftCheckReport } from '../lib/drift/report';
import { decideGate } from '../lib/gate';
import { keys } from '../lib/keys';
import type { Pipeline } from '../lib/pipeline';
import { applyPromotion, applyRollback, emptyPointer, versionIdFor, type ChampionPointer, type ModelVersion } from '../lib/registry';
import { listAudit } from '../services/audit-log';
import { explainPredictionById } from '../services/explain';
import { modelSummary } from '../services/model-summary';
import { loadPipeline } from '../services/pipelines';
import { listVersions, readPointer } from '../services/registry';
import { createStore } from '../store/index';

const arg = checkBenchArgs(
  process.argv.slice(2),
  {
    values: ['--dir', '--versions', '--checks', '--predictions', '--model', '--seed', '--end'],
    switches: ['--fresh-seed', '--skip-validate', '--validate-only'],
  },
  import.meta.url,
);
const dirArg = arg('--dir');
if (!dirArg) {
  process.stderr.write('--dir <D> is required (--help says more)\n');
  process.exit(2);
}
const DIR = resolve(dirArg);
const N_VERSIONS = Number(arg('--versions') ?? 1000);
const N_CHECKS = Number(arg('--checks') ?? 10_000);
const N_PREDICTIONS = Number(arg('--predictions') ?? 10_000_000);
const MODEL = arg('--model') ?? 'churn';
const SEED = Number(arg('--seed') ?? 1);
const END = arg('--end') ? Date.parse(arg('--end')!) : Math.floor(Date.now() / 60_000) * 60_000;
for (const [name, v] of Object.entries({ N_VERSIONS, N_CHECKS, N_PREDICTIONS, SEED, END })) {
  if (!Number.isFinite(v) || v < 0) {
    process.stderr.write(`bad value for ${name}\n`);
    process.exit(2);
  }
}
if (!/^[a-z0-9][a-z0-9-]*$/.test(MODEL)) {
  process.stderr.write('--model: lower-case letters, digits and dashes\n');
  process.exit(2);
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const SPAN = 426 * DAY; // ~14 months
const START = END - SPAN;
const SEED_DIR = join(DIR, 'seed');
const STORE_DIR = join(DIR, 'store');
const PROJECT_DIR = join(DIR, 'project');
const TEMPLATE_MODEL = 'churn';
/** examples/serving-app.ts: the price the demo's cost field is computed with. */
const PRICE_PER_COMPUTE_SECOND_USD = 0.0000166667;
const APPROVERS = ['alice@example.com', 'growth-ml-lead@example.com'];
const say = (line: string) => process.stderr.write(line + '\n');

// ---------------------------------------------------------------------------------------------
// Randomness: one seeded generator (mulberry32), so the store is the same for the same --seed.

let rngState = (SEED * 0x9e3779b9) >>> 0 || 1;
function u32(): number {
  rngState = (rngState + 0x6d2b79f5) >>> 0;
  let t = rngState;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return (t ^ (t >>> 14)) >>> 0;
}
const rand = () => u32() / 4294967296;
function gauss(): number {
  const a = rand() || 1e-12;
  return Math.sqrt(-2 * Math.log(a)) * Math.cos(2 * Math.PI * rand());
}
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
function hex32(): string {
  const x = u32();
  return HEX[x >>> 24]! + HEX[(x >>> 16) & 255]! + HEX[(x >>> 8) & 255]! + HEX[x & 255]!;
}
function hex(n: number): string {
  let s = '';
  while (s.length < n) s += hex32();
  return s.slice(0, n);
}
/** A UUIDv7 (Temporal's run ids are time-ordered): time in the head, randomness in the tail. */
function uuid7(ms: number): string {
  const t = Math.floor(ms).toString(16).padStart(12, '0');
  const r = hex(20);
  return `${t.slice(0, 8)}-${t.slice(8, 12)}-7${r.slice(0, 3)}-${'89ab'[u32() & 3]}${r.slice(3, 6)}-${r.slice(6, 18)}`;
}
function uuid4(): string {
  const r = hex(32);
  return `${r.slice(0, 8)}-${r.slice(8, 12)}-4${r.slice(13, 16)}-${'89ab'[u32() & 3]}${r.slice(17, 20)}-${r.slice(20, 32)}`;
}
const iso = (ms: number) => new Date(ms).toISOString();
const compact = (ms: number) =>
  iso(ms)
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');

// ---------------------------------------------------------------------------------------------
// 1. Templates from a real demo run.

function runSeedDemo(): void {
  const hasChampion = () => existsSync(join(SEED_DIR, keys.pointer(TEMPLATE_MODEL)));
  const hasReport = () =>
    existsSync(join(SEED_DIR, keys.driftReports(TEMPLATE_MODEL))) &&
    readdirSync(join(SEED_DIR, keys.driftReports(TEMPLATE_MODEL))).some((f) => f.endsWith('.json'));
  if (!process.argv.includes('--fresh-seed') && hasChampion() && hasReport()) {
    say(`seed: reusing the demo store in ${SEED_DIR}`);
    return;
  }
  rmSync(SEED_DIR, { recursive: true, force: true });
  mkdirSync(SEED_DIR, { recursive: true });
  say(`seed: running the real demo (node bin/retrain.mjs demo churn) into ${SEED_DIR} …`);
  const t = performance.now();
  const env: NodeJS.ProcessEnv = { ...process.env, RETRAIN_STORE: SEED_DIR };
  delete env.RETRAIN_PROJECT_DIR;
  execFileSync(process.execPath, [join(RETRAIN_HOME, 'bin', 'retrain.mjs'), 'demo', TEMPLATE_MODEL], {
    cwd: RETRAIN_HOME,
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  say(`seed: demo done in ${((performance.now() - t) / 1000).toFixed(1)} s`);
}

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile())
    .sort();
}

interface Templates {
  version: ModelVersion;
  evaluation: Record<string, unknown>;
  pointer: ChampionPointer;
  report: DriftCheckReport;
  reportHtmlBytes: number;
  events: Map<string, AuditEvent>;
  line: Record<string, unknown>;
}

function loadTemplates(): Templates {
  const m = TEMPLATE_MODEL;
  const versionFile = filesUnder(join(SEED_DIR, keys.versions(m)))[0];
  if (!versionFile) throw new Error(`the seed store ${SEED_DIR} has no version of ${m}: did the demo fail?`);
  const version = readJson<ModelVersion>(versionFile);
  const evaluation = readJson<Record<string, unknown>>(filesUnder(join(SEED_DIR, `registry/${m}/evaluations`))[0]!);
  const pointer = readJson<ChampionPointer>(join(SEED_DIR, keys.pointer(m)));
  const reports = filesUnder(join(SEED_DIR, keys.driftReports(m))).filter((f) => f.endsWith('.json'));
  // The richest report (a drifted one with an estimate) is the template; every number is rewritten.
  const parsed = reports.map((f) => ({ f, r: readJson<DriftCheckReport>(f) }));
  const chosen = parsed.find((p) => p.r.drifted && p.r.estimatedPerformance && p.r.predictionDrift) ?? parsed.at(-1);
  if (!chosen) throw new Error(`the seed store has no drift report of ${m}`);
  const events = new Map<string, AuditEvent>();
  for (const f of filesUnder(join(SEED_DIR, keys.audit(m)))) {
    const e = readJson<AuditEvent>(f);
    const kind = `${e.type}${e.version === null ? ':null' : ''}`;
    if (!events.has(kind)) events.set(kind, e);
  }
  const batch = filesUnder(join(SEED_DIR, keys.predictions(m)))[0];
  if (!batch) throw new Error(`the seed store has no prediction batch of ${m}`);
  const line = JSON.parse(readFileSync(batch, 'utf8').split('\n')[0]!) as Record<string, unknown>;
  return {
    version,
    evaluation,
    pointer,
    report: chosen.r,
    reportHtmlBytes: statSync(chosen.f.replace(/\.json$/, '.html')).size,
    events,
    line,
  };
}

// ---------------------------------------------------------------------------------------------
// The project: the churn pipeline under the model's name, with manual approval and an alert policy.

function writeProject(): string {
  const source = readFileSync(join(RETRAIN_HOME, 'pipelines', `${TEMPLATE_MODEL}.ts`), 'utf8');
  let text = source
    .replace(`name: '${TEMPLATE_MODEL}'`, `name: '${MODEL}'`)
    .replace(`path: 'examples/data/churn.csv'`, `path: ${JSON.stringify(join(RETRAIN_HOME, 'examples/data/churn.csv'))}`)
    .replace(
      `approval: { mode: 'auto' }`,
      `approval: { mode: 'manual', approvers: ${JSON.stringify(APPROVERS).replace(/"/g, "'")}, timeout: '24h', onTimeout: 'reject' }`,
    )
    .replace(`onDrift: 'retrain' }`, `onDrift: 'retrain', alertAfter: 2, cooldown: '6h' }`);
  if (!text.includes(`name: '${MODEL}'`)) throw new Error('pipelines/churn.ts changed shape: cannot rename it');
  if (!text.includes(`mode: 'manual'`)) text = source.replace(`name: '${TEMPLATE_MODEL}'`, `name: '${MODEL}'`);
  rmSync(PROJECT_DIR, { recursive: true, force: true });
  mkdirSync(join(PROJECT_DIR, 'pipelines'), { recursive: true });
  mkdirSync(join(PROJECT_DIR, 'node_modules'), { recursive: true });
  writeFileSync(join(PROJECT_DIR, 'pipelines', `${MODEL}.ts`), text);
  writeFileSync(
    join(PROJECT_DIR, 'package.json'),
    JSON.stringify({ name: `${MODEL}-console-bench`, private: true, type: 'module' }, null, 2),
  );
  // `import … from 'retrain/pipeline'` resolves to this checkout.
  symlinkSync(RETRAIN_HOME, join(PROJECT_DIR, 'node_modules', 'retrain'), 'dir');
  return join(PROJECT_DIR, 'pipelines', `${MODEL}.ts`);
}

// ---------------------------------------------------------------------------------------------
// Writing.

const madeDirs = new Set<string>();
let filesWritten = 0;
let bytesWritten = 0;
function put(key: string, body: string): void {
  const path = join(STORE_DIR, key);
  const dir = dirname(path);
  if (!madeDirs.has(dir)) {
    mkdirSync(dir, { recursive: true });
    madeDirs.add(dir);
  }
  writeFileSync(path, body);
  filesWritten++;
  bytesWritten += Buffer.byteLength(body);
}
const putJson = (key: string, value: unknown) => put(key, JSON.stringify(value, null, 2));

/** One run of a workflow: its audit events get Temporal-like activity ids 1, 2, 3 … */
interface Run {
  workflowId: string;
  runId: string;
  step: number;
}
function newRun(workflowId: string, at: number): Run {
  return { workflowId, runId: uuid7(at), step: 0 };
}
const auditCounts = new Map<string, number>();
function audit(
  run: Run,
  at: number,
  event: {
    type: AuditEventType;
    version: string | null;
    outcome: AuditEvent['outcome'];
    summary: string;
    details?: Record<string, unknown>;
  },
): AuditEvent {
  const step = String(++run.step);
  const id = auditEventId({ workflowId: run.workflowId, runId: run.runId, step, type: event.type, version: event.version });
  // The field order appendAudit gives: id, at, origin, details, then the event.
  const ordered: AuditEvent = {
    id,
    at: iso(at),
    workflowId: run.workflowId,
    runId: run.runId,
    details: event.details ?? {},
    type: event.type,
    model: MODEL,
    version: event.version,
    outcome: event.outcome,
    summary: event.summary,
  };
  putJson(keys.auditEvent(MODEL, id), ordered);
  auditCounts.set(event.type, (auditCounts.get(event.type) ?? 0) + 1);
  return ordered;
}

/** Template model name → generated model name, in keys and strings. */
function renamed<T>(value: T): T {
  if (MODEL === TEMPLATE_MODEL) return value;
  return JSON.parse(
    JSON.stringify(value).replaceAll(`/${TEMPLATE_MODEL}/`, `/${MODEL}/`).replaceAll(`"${TEMPLATE_MODEL}"`, `"${MODEL}"`),
  ) as T;
}

// ---------------------------------------------------------------------------------------------
// 2a. Versions, their runs and the champion pointer.

type Metrics = Record<string, number>;

interface VersionRun {
  index: number;
  version: string;
  start: number;
  end: number;
  runId: string;
  metrics: Metrics;
  promoted: boolean;
  gatePassed: boolean;
  rolledBack: boolean;
  /** The pointer history entry of its promotion, whose actor is who asked for the run. */
  promotion: ChampionPointer['history'][number] | null;
  latencyBaseMs: number;
  requestedBy: string | null;
}

/** Who was champion from when: in time order. */
interface ChampionSpan {
  from: number;
  champion: string | null;
}

function metricsAt(frac: number, i: number): Metrics {
  // Slow seasonal wave + gentle improvement + noise; now and then a bad candidate.
  const bad = rand() < 0.03;
  const auc = clamp(
    0.805 + 0.018 * Math.sin(2 * Math.PI * frac * 3.2 + 0.7) + 0.02 * frac + 0.004 * gauss() - (bad ? 0.12 : 0) - (i === 0 ? 0.01 : 0),
    0.55,
    0.97,
  );
  const accuracy = clamp(0.782 + (auc - 0.81) * 0.85 + 0.006 * gauss(), 0.5, 0.97);
  const precision = clamp(0.66 + (auc - 0.81) * 1.2 + 0.02 * gauss(), 0.2, 0.99);
  const recall = clamp(0.39 + (auc - 0.81) * 1.5 + 0.025 * gauss(), 0.1, 0.99);
  const f1 = (2 * precision * recall) / (precision + recall);
  const logLoss = clamp(0.44 - (auc - 0.81) * 1.3 + 0.01 * gauss(), 0.1, 1.5);
  return { accuracy, precision, recall, f1, roc_auc: auc, log_loss: logLoss };
}
const fmt4 = (x: number | null | undefined) => (x === null || x === undefined ? 'n/a' : x.toFixed(4));

function generateVersions(t: Templates, pipeline: Pipeline) {
  const runs: VersionRun[] = [];
  const spans: ChampionSpan[] = [{ from: 0, champion: null }];
  let pointer = emptyPointer(MODEL);
  const holdout = new Map<string, Metrics>();
  // Creation times: spread over the span with jitter, distinct and increasing.
  const step = (SPAN - 2 * DAY) / Math.max(1, N_VERSIONS);
  const starts: number[] = [];
  for (let i = 0; i < N_VERSIONS; i++) starts.push(Math.round(START + i * step + rand() * step * 0.6 + 60_000));
  let codeVersion = `sha256:${hex(16)}`;
  const lib = t.version.lineage.libraryVersions;
  const snapshotTemplate = t.events.get('snapshot:null');
  const validationTemplate = t.events.get('validation:null');
  for (let i = 0; i < N_VERSIONS; i++) {
    const start = starts[i]!;
    const frac = (start - START) / SPAN;
    if (i > 0 && rand() < 0.04) codeVersion = `sha256:${hex(16)}`;
    const algorithm = frac > 0.55 && rand() < 0.5 ? 'gradient_boosting' : 'logistic_regression';
    const params =
      algorithm === 'logistic_regression'
        ? { algorithm, C: pick([0.1, 0.3, 1, 3, 10]) }
        : { algorithm, n_estimators: pick([100, 200, 300]), max_depth: pick([2, 3, 4]), learning_rate: pick([0.05, 0.1]) };
    const datasetSha256 = hex(64);
    const rows = 2000 + Math.round(frac * 18_000 + rand() * 400);
    const holdoutRows = Math.round(rows * 0.25 - rand() * 30);
    const splitId = hex(12);
    const datasetKey = keys.snapshot(MODEL, datasetSha256, 'csv');
    const trainKey = keys.split(MODEL, datasetSha256, splitId, 'train');
    const holdoutKey = keys.split(MODEL, datasetSha256, splitId, 'holdout');
    const version = versionIdFor(
      hashOf({
        dataset: datasetSha256,
        split: splitId,
        task: pipeline.task,
        label: pipeline.label,
        features: pipeline.features,
        params,
        seed: pipeline.training.seed,
        command: pipeline.training.command,
        codeVersion,
      }),
    );
    const run = newRun(`retrain-${MODEL}`, start);
    const metrics = metricsAt(frac, i);
    const trainSeconds = algorithm === 'gradient_boosting' ? 20 + rand() * 90 : 1.5 + rand() * 6;
    let at = start + 40 + rand() * 80;
    // snapshot, validation
    const bytes = Math.round(rows * 34.2);
    audit(run, at, {
      type: 'snapshot',
      version: null,
      outcome: 'ok',
      summary: `snapshotted ${datasetSha256.slice(0, 12)} (${bytes} bytes) from ${join(RETRAIN_HOME, 'examples/data/churn.csv')}`,
      details: {
        ...(renamed(snapshotTemplate?.details) ?? {}),
        sha256: datasetSha256,
        key: datasetKey,
        format: 'csv',
        bytes,
        created: true,
        asOf: iso(start),
        window: null,
      },
    });
    at += 25 + rand() * 40;
    const validationDetails = renamed(structuredClone(validationTemplate?.details ?? {})) as Record<string, unknown>;
    validationDetails.snapshot = datasetSha256;
    const report = validationDetails.report as { rows?: number; labelClasses?: Record<string, number> } | undefined;
    if (report) {
      report.rows = rows;
      const yes = Math.round(rows * (0.23 + rand() * 0.04));
      if (report.labelClasses) report.labelClasses = { yes, no: rows - yes };
      for (const c of (report as { columns?: { name: string; distinct: number | null }[] }).columns ?? [])
        if (c.name === pipeline.idColumn) c.distinct = rows;
    }
    audit(run, at, { type: 'validation', version: null, outcome: 'ok', summary: `${rows} rows valid`, details: validationDetails });
    at += 200 + rand() * 300 + trainSeconds * 1000;
    const trainMetrics = {
      train_accuracy: clamp(metrics.accuracy! + 0.02 + 0.005 * gauss(), 0, 1),
      train_f1_macro: clamp(metrics.f1! + 0.22 + 0.01 * gauss(), 0, 1),
      holdout_accuracy: metrics.accuracy!,
      holdout_f1_macro: clamp(metrics.f1! + 0.19 + 0.01 * gauss(), 0, 1),
    };
    audit(run, at, {
      type: 'training',
      version,
      outcome: 'ok',
      summary: `trained ${version} in ${trainSeconds.toFixed(1)}s`,
      details: { trainMetrics, libraryVersions: lib, params },
    });
    at += 15 + rand() * 30;
    const record: ModelVersion = {
      model: MODEL,
      version,
      createdAt: iso(at),
      task: pipeline.task,
      artifacts: { model: keys.artifact(MODEL, version, 'model.joblib') },
      classes: t.version.classes,
      trainMetrics,
      lineage: {
        datasetSha256,
        datasetKey,
        trainKey,
        holdoutKey,
        rows: { train: rows - holdoutRows, holdout: holdoutRows },
        features: pipeline.features,
        label: pipeline.label,
        params,
        seed: pipeline.training.seed,
        trainingCommand: pipeline.training.command,
        trainingCodeVersion: codeVersion,
        libraryVersions: lib,
        workflowId: run.workflowId,
        runId: run.runId,
      },
    };
    putJson(keys.version(MODEL, version), record);
    at += 20 + rand() * 20;
    audit(run, at, {
      type: 'registration',
      version,
      outcome: 'ok',
      summary: `registered ${version}`,
      details: { lineage: record.lineage },
    });
    // Evaluation: challenger and the champion of the time on the same (new) holdout.
    const championVersion = pointer.champion;
    const champion = championVersion
      ? Object.fromEntries(Object.entries(holdout.get(championVersion)!).map(([k, v]) => [k, clamp(v + 0.002 * gauss(), 0, 2)]))
      : null;
    const latencyBaseMs =
      clamp(runs.at(-1)?.latencyBaseMs ?? 6, 2, 30) * Math.exp(0.08 * gauss()) * (algorithm === 'gradient_boosting' ? 1.01 : 0.995);
    const evalKey = keys.evaluation(MODEL, version, championVersion);
    at += 300 + rand() * 1500;
    putJson(evalKey, {
      model: MODEL,
      version,
      holdoutKey,
      challenger: metrics,
      champion,
      championVersion,
      holdoutRows,
      key: evalKey,
      latency: {
        challenger: latencyBaseMs / 40,
        champion: championVersion ? (runs.find((r) => r.version === championVersion)?.latencyBaseMs ?? latencyBaseMs) / 40 : null,
      },
    });
    const primary = pipeline.metrics.primary;
    audit(run, at, {
      type: 'evaluation',
      version,
      outcome: 'ok',
      summary: `${primary}: challenger ${fmt4(metrics[primary])}, champion ${championVersion ? `${championVersion} ${fmt4(champion?.[primary])}` : 'none'} on ${holdoutRows} holdout rows`,
      details: { challenger: metrics, champion, championVersion, holdoutKey },
    });
    holdout.set(version, metrics);
    const gate = decideGate({ pipeline, challenger: metrics, champion, championVersion });
    at += 5 + rand() * 10;
    audit(run, at, { type: 'gate', version, outcome: gate.passed ? 'ok' : 'rejected', summary: gate.reason, details: { ...gate } });
    const vr: VersionRun = {
      index: i,
      version,
      start,
      end: at + 50,
      runId: run.runId,
      metrics,
      promoted: false,
      gatePassed: gate.passed,
      rolledBack: false,
      promotion: null,
      latencyBaseMs,
      requestedBy: null,
    };
    runs.push(vr);
    if (!gate.passed) continue;
    if (pipeline.approval.mode === 'manual') {
      const next = starts[i + 1] ?? END;
      const wait = Math.min((next - at) * 0.7, 60_000 + rand() * 8 * HOUR);
      at += wait;
      const r = rand();
      const decision = r < 0.9 ? 'approved' : r < 0.97 ? 'rejected' : 'timed-out';
      const by = decision === 'timed-out' ? 'timeout' : pick(APPROVERS);
      const reason =
        decision === 'timed-out'
          ? `no decision within ${pipeline.approval.timeout}; policy: ${pipeline.approval.onTimeout}`
          : decision === 'approved'
            ? pick(['looks good', 'metrics and segments fine', null, 'ok to ship', null])
            : pick(['recall too low on enterprise', 'wait for the new labels', 'holdout looks odd']);
      const state = { required: true, approvers: pipeline.approval.approvers, decision, by, reason, at: iso(at), ignored: [] as unknown[] };
      audit(run, at + 20, {
        type: 'approval',
        version,
        outcome: decision === 'approved' ? 'ok' : 'rejected',
        summary: `${decision} by ${by}${reason ? `: ${reason}` : ''}`,
        details: state,
      });
      at += 40;
      if (decision !== 'approved') {
        vr.end = at;
        continue;
      }
    }
    const eventId = `${run.workflowId}/${run.runId}/promote`;
    at += 10 + rand() * 20;
    pointer = applyPromotion(pointer, {
      to: version,
      expectedChampion: championVersion,
      at: iso(at),
      reason: gate.reason,
      actor: run.workflowId,
      eventId,
    })!;
    vr.promotion = pointer.history.at(-1)!;
    vr.promoted = true;
    spans.push({ from: at, champion: version });
    audit(run, at + 2, {
      type: 'promotion',
      version,
      outcome: 'ok',
      summary: `promoted ${version} (previous champion: ${championVersion ?? 'none'})`,
      details: { reason: gate.reason, previous: championVersion, alreadyApplied: false },
    });
    at += 800 + rand() * 1500;
    if (i > 0 && rand() < 0.025) {
      // Verification failed: the previous champion is put back and the retraining owner told.
      const why = `verification of ${version} failed: ${pick([
        'predict command exited with code 1: ModuleNotFoundError: No module named ',
        'the model predicted 0 of 50 rows: training contract violation',
        'timed out after 120s',
      ])}`;
      audit(run, at, { type: 'verification', version, outcome: 'failed', summary: why });
      at += 30 + rand() * 40;
      pointer = applyRollback(pointer, {
        to: championVersion ?? undefined,
        expectedChampion: version,
        allowNoChampion: true,
        reason: why,
        actor: run.workflowId,
        eventId: `${run.workflowId}/${run.runId}/rollback`,
        at: iso(at),
      })!;
      spans.push({ from: at, champion: pointer.champion });
      const change = pointer.history.at(-1)!;
      audit(run, at + 3, {
        type: 'rollback',
        version: pointer.champion,
        outcome: 'ok',
        summary: `rolled back from ${change.from ?? 'none'} to ${change.to ?? 'no champion'}: ${why}`,
        details: { from: change.from, to: change.to, reason: why, actor: run.workflowId, alreadyApplied: false },
      });
      const subject = `${MODEL}: ${version} rolled back after failed verification`;
      const message = `${why}. The champion is ${pointer.champion ?? 'none'} again.`;
      const alert = audit(run, at + 30, {
        type: 'alert',
        version,
        outcome: 'ok',
        summary: `critical: ${subject} (to ${pipeline.owners.retraining})`,
        details: { owner: pipeline.owners.retraining, severity: 'critical', message },
      });
      putJson(keys.alert(MODEL, alert.id), alert);
      vr.rolledBack = true;
      vr.end = at + 60;
      continue;
    }
    audit(run, at, {
      type: 'verification',
      version,
      outcome: 'ok',
      summary: `champion ${version} loaded from the registry and predicted 50 rows`,
    });
    vr.end = at + 20;
  }
  return { runs, spans, pointer, holdout };
}

function championAt(spans: ChampionSpan[], at: number): string | null {
  let lo = 0;
  let hi = spans.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (spans[mid]!.from <= at) lo = mid;
    else hi = mid - 1;
  }
  return spans[lo]!.champion;
}

// ---------------------------------------------------------------------------------------------
// Traffic: predictions per hour (diurnal and weekly rhythm, slow growth), shared by the drift
// reports' window counts and the prediction log.

function hourWeights(hours: number): Float64Array {
  const w = new Float64Array(hours);
  const startHour = Math.floor(START / HOUR);
  for (let h = 0; h < hours; h++) {
    const abs = startHour + h;
    const hourOfDay = abs % 24;
    const dayOfWeek = Math.floor(abs / 24 + 4) % 7; // 0 = Sunday
    const diurnal = 1 + 0.6 * Math.sin(((hourOfDay - 9) / 24) * 2 * Math.PI);
    const weekly = dayOfWeek === 0 || dayOfWeek === 6 ? 0.55 : 1;
    w[h] = Math.max(0.05, diurnal * weekly * (0.6 + (0.8 * h) / hours) * (1 + 0.1 * gauss()));
  }
  return w;
}

function hourCounts(weights: Float64Array, total: number): Int32Array {
  let sum = 0;
  for (const x of weights) sum += x;
  const counts = new Int32Array(weights.length);
  let given = 0;
  for (let h = 0; h < weights.length; h++) {
    counts[h] = Math.floor((weights[h]! / sum) * total);
    given += counts[h]!;
  }
  for (let h = weights.length - 1; given < total; h = (h - 1 + weights.length) % weights.length) {
    counts[h]!++;
    given++;
  }
  return counts;
}

// ---------------------------------------------------------------------------------------------
// Drift level over time: calm, with episodes of drift that a new champion partly resets.

function driftLevels(hours: number, spans: ChampionSpan[]): Float32Array {
  const level = new Float32Array(hours);
  let d = 0.1;
  let episodeLeft = 0;
  let intensity = 0;
  const startHour = Math.floor(START / HOUR);
  let spanIndex = 0;
  for (let h = 0; h < hours; h++) {
    if (episodeLeft <= 0 && rand() < 0.003) {
      episodeLeft = 6 + Math.floor(rand() * 90);
      intensity = 0.45 + rand() * 0.55;
    }
    const target = episodeLeft-- > 0 ? intensity : 0.08;
    d = clamp(0.9 * d + 0.1 * target + 0.03 * gauss(), 0, 1);
    const t = (startHour + h) * HOUR;
    while (spanIndex + 1 < spans.length && spans[spanIndex + 1]!.from <= t) {
      spanIndex++;
      d *= 0.6; // a new champion was trained on recent data
    }
    level[h] = d;
  }
  return level;
}

// ---------------------------------------------------------------------------------------------
// 2b. Drift checks: hourly schedule runs.

interface CheckInfo {
  checkId: string;
  at: number;
  drifted: boolean;
  version: string;
}

function generateChecks(
  t: Templates,
  pipeline: Pipeline,
  gen: ReturnType<typeof generateVersions>,
  levels: Float32Array,
  counts: Int32Array,
): CheckInfo[] {
  const drift = pipeline.drift!;
  const firstChampion = gen.spans.find((s) => s.champion)?.from;
  if (firstChampion === undefined || N_CHECKS === 0) return [];
  // Hourly schedule (cron '0 * * * *'): the last N_CHECKS top-of-hours with a champion, thinned evenly if the span is short.
  const firstHour = Math.ceil(firstChampion / HOUR) * HOUR;
  const lastHour = Math.floor(END / HOUR) * HOUR;
  const available = Math.max(1, Math.floor((lastHour - firstHour) / HOUR) + 1);
  const stride = available / Math.max(1, N_CHECKS);
  const scheduled: number[] = [];
  if (stride >= 1) for (let i = 0; i < N_CHECKS; i++) scheduled.push(firstHour + Math.floor(i * stride) * HOUR);
  else {
    // More checks than hours: several schedule runs per hour (an every-few-minutes cron).
    const every = Math.max(60_000, Math.floor(((lastHour - firstHour + HOUR) / N_CHECKS / 60_000) | 0) * 60_000);
    for (let i = 0; i < N_CHECKS; i++) scheduled.push(firstHour + i * every);
  }
  const startHour = Math.floor(START / HOUR);
  const prefix = new Float64Array(counts.length + 1);
  for (let h = 0; h < counts.length; h++) prefix[h + 1] = prefix[h]! + counts[h]!;
  const features = t.report.dataDrift.features;
  const sensitivity = new Map(features.map((f) => [f.name, 0.5 + rand() * 1.3]));
  const shift = new Map(
    Object.entries(t.report.dataDrift.distributions).map(([name, dist]) => [name, dist.bins.map(() => gauss())] as const),
  );
  const html = (r: DriftCheckReport) =>
    `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Drift check ${r.checkId} of ${MODEL}</title></head>\n` +
    `<body><h1>Drift check ${r.checkId}</h1><p>${r.drifted ? 'Drift detected' : r.enoughData === false ? 'Not enough data' : 'No drift'}: ${escapeHtml(r.summary)}</p>\n` +
    `<p>(a small stand-in: the real report of this check would be ~${Math.round(t.reportHtmlBytes / 1024)} KB)</p></body></html>\n`;
  let history: CheckOutcome[] = [];
  const out: CheckInfo[] = [];
  const runsByStart = gen.runs;
  let runCursor = 0;
  const claimed = new Set<string>();
  const windowMs = 24 * HOUR;
  for (let i = 0; i < scheduled.length; i++) {
    const sched = scheduled[i]!;
    const to = sched + 40 + Math.floor(rand() * 900);
    const from = to - windowMs;
    const champion = championAt(gen.spans, to);
    if (!champion) continue;
    const workflowId = `drift-${MODEL}-${iso(sched).replace(/\.\d+Z$/, 'Z')}`;
    const run = newRun(workflowId, sched + 5);
    const checkId = `${compact(to)}-${run.runId.replace(/-/g, '').slice(-12)}`;
    const h = clamp(Math.floor(to / HOUR) - startHour, 0, levels.length - 1);
    const d = levels[h]!;
    const hFrom = clamp(Math.floor(from / HOUR) - startHour, 0, counts.length);
    const windowRows = Math.round(prefix[h + 1]! - prefix[hFrom]!);
    const outage = rand() < 0.003;
    const rows = outage ? Math.floor(rand() * 150) : windowRows;
    const enoughData = rows >= (drift.minPredictions ?? 200);
    const report = renamed(structuredClone(t.report));
    report.model = MODEL;
    report.version = champion;
    report.checkId = checkId;
    report.createdAt = iso(to + 150 + Math.floor(rand() * 500));
    const champRun = gen.runs.find((r) => r.version === champion)!;
    report.reference = {
      label: `training data of ${champion}`,
      rows: Math.round(champRun.metrics.roc_auc! * 0 + 1500 + champRun.index * 18),
    };
    report.current = { label: `predictions logged ${iso(from)} – ${iso(to)}`, rows, from: iso(from), to: iso(to) };
    // Per-feature tests.
    let driftedCount = 0;
    for (const f of report.dataDrift.features) {
      const s = sensitivity.get(f.name) ?? 1;
      const statistic = Math.max(0, f.threshold * (0.25 + 1.9 * d * s + 0.25 * Math.abs(gauss())));
      f.statistic = enoughData ? statistic : null;
      if (f.pValue !== null) f.pValue = enoughData ? Math.exp(-statistic * 40) : null;
      f.drifted = enoughData && statistic >= f.threshold;
      f.reference = { ...f.reference, rows: report.reference.rows, used: report.reference.rows };
      f.current = { ...f.current, rows, used: rows };
      if (f.drifted) driftedCount++;
    }
    const dd = report.dataDrift.datasetDrift;
    dd.driftedCount = driftedCount;
    dd.featureCount = report.dataDrift.features.length;
    dd.share = enoughData ? driftedCount / dd.featureCount : 0;
    dd.drifted = enoughData && dd.share >= dd.threshold;
    for (const [name, dist] of Object.entries(report.dataDrift.distributions)) {
      const deltas = shift.get(name) ?? [];
      let sum = 0;
      const cur = dist.bins.map((b, k) => {
        const v = Math.max(0, b.reference * (1 + 0.6 * d * (deltas[k] ?? 0)) + 0.01 * Math.abs(gauss()));
        sum += v;
        return v;
      });
      dist.bins.forEach((b, k) => (b.current = sum > 0 && rows > 0 ? cur[k]! / sum : 0));
    }
    // Prediction drift (the template's test of the predicted class).
    const pd = report.predictionDrift;
    if (pd) {
      const z = enoughData ? -(d * 9 + 0.8 * gauss()) : null;
      pd.statistic = z;
      if (pd.pValue !== null) pd.pValue = z === null ? null : Math.min(1, (2 * Math.exp(-(z * z) / 2)) / Math.max(1, Math.abs(z) * 2.5));
      const p = pd as typeof pd & { effect?: { value: number; floor: number }; significant?: boolean };
      if (p.effect) p.effect = { ...p.effect, value: Math.max(0, d * 0.65 + 0.03 * gauss()) };
      const significant = z !== null && Math.abs(z) > 1.96;
      if (p.significant !== undefined) p.significant = significant;
      pd.drifted = enoughData && significant && (!p.effect || p.effect.value >= p.effect.floor);
      pd.current = { ...pd.current, rows, used: rows };
      const yes = clamp(0.16 + 0.3 * d + 0.02 * gauss(), 0.01, 0.99);
      for (const b of pd.distribution.bins) b.current = b.label === 'yes' ? yes : 1 - yes;
    }
    // Concept drift: labels arrive about once every six hours.
    const baseline = gen.holdout.get(champion)!.roc_auc!;
    if (enoughData && new Date(to).getUTCHours() % 6 === 0) {
      const labelledRows = Math.round(windowRows * (0.15 + rand() * 0.2));
      const current = clamp(baseline - 0.06 * d + 0.012 * gauss(), 0.4, 1);
      const maxRegression = 0.02;
      const m = gen.holdout.get(champion)!;
      report.conceptDrift = {
        labelledRows,
        metric: 'roc_auc',
        baseline,
        current,
        maxRegression,
        drifted: regressed('roc_auc', baseline, current, maxRegression),
        metrics: Object.fromEntries(Object.entries(m).map(([k, v]) => [k, k === 'roc_auc' ? current : v - 0.04 * d + 0.01 * gauss()])),
        sources: { file: 0, log: labelledRows },
        labelsKnown: { from: iso(from), to: iso(to) },
        predictionsFrom: iso(from - 7 * DAY),
      };
    } else report.conceptDrift = null;
    // Estimated performance without labels.
    const ep = report.estimatedPerformance;
    if (ep) {
      ep.baseline = baseline;
      const value = clamp(baseline - 0.07 * d + 0.01 * gauss(), 0.4, 1);
      const half = 0.03 + 0.03 * rand();
      ep.estimate = { value, lower: value - half, upper: Math.min(1, value + half) };
      const metrics = ep.metrics as Record<string, { value: number | null; lower: number | null; upper: number | null }>;
      const baselines = ep.baselines as Record<string, number | null>;
      for (const [k, v] of Object.entries(metrics)) {
        const base = gen.holdout.get(champion)![k] ?? v.value ?? 0.5;
        const val = clamp(base - 0.05 * d + 0.01 * gauss(), 0, 1);
        metrics[k] = { value: val, lower: val - half * 1.2, upper: Math.min(1, val + half * 1.2) };
      }
      for (const k of Object.keys(baselines)) baselines[k] = gen.holdout.get(champion)![k] ?? baselines[k]!;
      ep.rows = rows;
      ep.dropped = enoughData && value < baseline - ep.maxRegression;
      if (!enoughData) delete report.estimatedPerformance;
    }
    // Serving in the window: every version that served in it, with its latency and cost.
    const serving: NonNullable<DriftCheckReport['serving']> = [];
    const served = new Map<string, number>();
    for (let hh = hFrom; hh <= h; hh++) {
      const v = championAt(gen.spans, (startHour + hh) * HOUR + HOUR / 2) ?? champion;
      served.set(v, (served.get(v) ?? 0) + (counts[hh] ?? 0));
    }
    if (outage) {
      served.clear();
      served.set(champion, rows);
    }
    for (const [v, n] of [...served].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      if (n <= 0) continue;
      const base = (gen.runs.find((r) => r.version === v)?.latencyBaseMs ?? 6) * (1 + 0.25 * d);
      const p50 = round3(base * (1 + 0.03 * gauss()));
      const mean = round3(p50 * 1.18);
      const p95 = round3(p50 * (2 + 0.2 * rand()));
      const max = round3(p50 * (6 + 10 * rand()));
      const per = Number(((mean / 1000) * PRICE_PER_COMPUTE_SECOND_USD).toPrecision(3));
      serving.push({
        version: v,
        predictions: n,
        latencyMs: { mean, p50, p95, max },
        cost: { total: per * n, perPrediction: per, counted: n },
      });
    }
    report.serving = serving;
    report.drifted =
      enoughData &&
      (dd.drifted || (pd?.drifted ?? false) || (report.conceptDrift?.drifted ?? false) || (report.estimatedPerformance?.dropped ?? false));
    report.enoughData = enoughData;
    const { summary: _old, ...rest } = report;
    report.summary = enoughData
      ? summarize(rest)
      : `Not enough data: ${rows} predictions in the window, fewer than the ${drift.minPredictions} a verdict needs; no feature was tested, so there is no verdict.`;
    const reportKey = keys.driftReport(MODEL, checkId, 'json');
    const htmlKey = keys.driftReport(MODEL, checkId, 'html');
    putJson(reportKey, report);
    put(htmlKey, html(report));
    const result = {
      checkId,
      version: champion,
      drifted: report.drifted,
      enoughData,
      predictions: rows,
      windowPredictions: rows,
      sampled: false,
      summary: report.summary,
      reportKey,
      htmlKey,
      datasetDriftShare: dd.share,
      predictionDrifted: pd?.drifted ?? false,
      conceptDrifted: report.conceptDrift?.drifted ?? false,
      ...(report.estimatedPerformance && enoughData
        ? {
            estimatedPerformance: {
              metric: report.estimatedPerformance.metric,
              ...report.estimatedPerformance.estimate,
              baseline: report.estimatedPerformance.baseline,
              dropped: report.estimatedPerformance.dropped,
              counts: report.estimatedPerformance.counts,
            },
          }
        : {}),
    };
    run.step = 2; // resolvePipeline, getChampion
    let at = Date.parse(report.createdAt) + 30;
    audit(run, at, {
      type: 'drift-check',
      version: champion,
      outcome: report.drifted ? 'failed' : 'ok',
      summary: report.summary,
      details: { ...result, window: { from: iso(from), to: iso(to) } },
    });
    const outcome = { checkId, to: iso(to), drifted: report.drifted, enoughData };
    const decision = decideAlert(history, outcome, { alertAfter: drift.alertAfter ?? 1, cooldownMs: parseCooldown(drift.cooldown) });
    history = rememberOutcome(history, { ...outcome, alerted: decision.alert });
    at += 20;
    if (report.drifted && !decision.alert) {
      audit(run, at, {
        type: 'drift-check',
        version: null,
        outcome: 'ok',
        summary: `drift alert held: ${decision.reason}`,
        details: { checkId, ...decision },
      });
    } else run.step++;
    if (report.drifted && decision.alert) {
      at += 15;
      audit(run, at, {
        type: 'alert',
        version: champion,
        outcome: 'ok',
        summary: `drift alert to ${pipeline.owners.monitoring} (log only: no webhook configured)`,
        details: {
          kind: 'retrain.drift-alert/v1',
          checkId,
          model: MODEL,
          version: champion,
          owner: pipeline.owners.monitoring,
          summary: report.summary,
          datasetDriftShare: dd.share,
          predictionDrifted: result.predictionDrifted,
          conceptDrifted: result.conceptDrifted,
          consecutiveChecks: decision.streak,
          coveredChecks: decision.coveredChecks,
          why: decision.reason,
          report: { json: reportKey, html: htmlKey, store: STORE_DIR },
          onDrift: drift.onDrift,
        },
      });
      if (drift.onDrift === 'retrain') {
        at += 30;
        while (runCursor < runsByStart.length && runsByStart[runCursor]!.end < to) runCursor++;
        const inProgress = runsByStart[runCursor] && runsByStart[runCursor]!.start <= to ? runsByStart[runCursor]! : null;
        const soon = runsByStart.find((r, k) => k >= runCursor && r.start > to && r.start < to + 2 * HOUR && !claimed.has(r.runId));
        let retrainRunId: string;
        let joined = false;
        if (inProgress) {
          retrainRunId = inProgress.runId;
          joined = true;
        } else if (soon) {
          retrainRunId = soon.runId;
          claimed.add(soon.runId);
          soon.requestedBy = `drift-check ${checkId}`;
          if (soon.promotion) soon.promotion.actor = soon.requestedBy;
        } else {
          // The run finds the same data and params: nothing new (snapshot, validation, unchanged).
          const r = newRun(`retrain-${MODEL}`, at + 5);
          retrainRunId = r.runId;
          unchangedRun(t, r, at + 40, champion);
        }
        audit(run, at, {
          type: 'drift-check',
          version: null,
          outcome: 'ok',
          summary: joined
            ? `drift confirmed: joined the retraining run already in progress (retrain-${MODEL})`
            : `drift confirmed: started retraining run retrain-${MODEL}`,
          details: { checkId, workflowId: `retrain-${MODEL}`, runId: retrainRunId, joined },
        });
      }
    }
    out.push({ checkId, at: to, drifted: report.drifted, version: champion });
    if ((i + 1) % Math.max(1, Math.floor(scheduled.length / 10)) === 0) say(`  drift checks: ${i + 1} / ${scheduled.length}`);
  }
  putJson(keys.driftAlertState(MODEL), { kind: 'retrain.drift-alert-state/v1', outcomes: history });
  return out;
}

function unchangedRun(t: Templates, run: Run, at: number, champion: string): void {
  const snap = t.events.get('snapshot:null');
  const sha = hex(64);
  audit(run, at, {
    type: 'snapshot',
    version: null,
    outcome: 'ok',
    summary: `reused existing snapshot ${sha.slice(0, 12)} (${68_327} bytes) from ${join(RETRAIN_HOME, 'examples/data/churn.csv')}`,
    details: { ...(renamed(snap?.details) ?? {}), sha256: sha, key: keys.snapshot(MODEL, sha, 'csv'), created: false, asOf: iso(at - 30) },
  });
  const validation = renamed(structuredClone(t.events.get('validation:null')?.details ?? {}));
  audit(run, at + 40, {
    type: 'validation',
    version: null,
    outcome: 'ok',
    summary: `2000 rows valid`,
    details: { ...validation, snapshot: sha },
  });
  const unchanged = `same data, params and code as ${champion}, which is already the champion: no new version registered, nothing to promote`;
  audit(run, at + 120, {
    type: 'run-unchanged',
    version: champion,
    outcome: 'skipped',
    summary: unchanged,
    details: { champion, rolledBack: null },
  });
}

function parseCooldown(d: string | undefined): number {
  const m = /^(\d+)([smhd])$/.exec(d ?? '0s');
  if (!m) return 0;
  return Number(m[1]) * { s: 1000, m: 60_000, h: HOUR, d: DAY }[m[2] as 's' | 'm' | 'h' | 'd'];
}
const round3 = (x: number) => Math.round(x * 1000) / 1000;
const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

// ---------------------------------------------------------------------------------------------
// 2c. The prediction log.

interface PickedPrediction {
  id: string;
  timestamp: string;
  hour: string;
  version: string;
  key: string;
}

function generatePredictions(gen: ReturnType<typeof generateVersions>, levels: Float32Array, counts: Int32Array): PickedPrediction[] {
  const startHour = Math.floor(START / HOUR);
  const latencyOf = new Map(gen.runs.map((r) => [r.version, r.latencyBaseMs]));
  const picked: PickedPrediction[] = [];
  const pickAt = new Set<number>();
  // Lines to remember: the first, one at 25%, 50%, 75%, the last.
  for (const f of [0, 0.25, 0.5, 0.75]) pickAt.add(Math.floor(f * (N_PREDICTIONS - 1)));
  pickAt.add(N_PREDICTIONS - 1);
  const plans = ['basic', 'pro', 'enterprise'];
  const regions = ['na', 'eu', 'apac'];
  const modelJson = JSON.stringify(MODEL);
  let written = 0;
  let nextReport = 0.1;
  const t0 = performance.now();
  for (let h = 0; h < counts.length; h++) {
    const n = counts[h]!;
    if (n === 0) continue;
    const hourStart = (startHour + h) * HOUR;
    if (hourStart < (gen.spans[1]?.from ?? Infinity) - HOUR) {
      // No champion yet: nothing served. Those lines go to the next hour with one.
      counts[h + 1] = (counts[h + 1] ?? 0) + n;
      continue;
    }
    const hourIso = iso(hourStart).slice(0, 13);
    const d = levels[h]!;
    const batches = n > 1500 ? 3 : n > 600 ? 2 : 1;
    const perBatch = Math.ceil(n / batches);
    let lineInHour = 0;
    for (let b = 0; b < batches; b++) {
      const m = Math.min(perBatch, n - b * perBatch);
      if (m <= 0) break;
      const parts: string[] = new Array<string>(m);
      const batchEnd = hourStart + Math.floor(((b + 1) * HOUR) / batches);
      const batchKey = keys.predictionBatch(
        MODEL,
        hourIso,
        `${iso(Math.min(batchEnd + 2000 + (u32() % 20_000), END + 60_000)).replace(/[-:.]/g, '')}-${uuid4()}`,
      );
      for (let k = 0; k < m; k++, lineInHour++) {
        const ts = Math.min(hourStart + Math.floor(((lineInHour + rand()) / n) * HOUR), END - 1);
        let version = championAt(gen.spans, ts);
        if (!version) version = gen.spans.find((s) => s.champion)!.champion!;
        // Features: drift shortens tenure, adds tickets, shifts plans and regions.
        const tenure = Math.max(1, Math.round(30 * (1 - 0.5 * d) * Math.exp(0.6 * gauss())));
        const spend = Math.round(Math.max(5, 45 * Math.exp(0.9 * gauss())) * 100) / 100;
        const tickets = Math.max(0, Math.round(1.6 + 1.8 * d + 1.3 * gauss()));
        const seats = Math.max(1, Math.round(4 * Math.exp(0.9 * gauss())));
        const plan = rand() < 0.5 + 0.2 * d ? plans[0]! : rand() < 0.7 ? plans[1]! : plans[2]!;
        const region = rand() < 0.2 + 0.25 * d ? regions[2]! : rand() < 0.55 ? regions[0]! : regions[1]!;
        const z = -1.1 - 0.045 * tenure + 0.45 * tickets - 0.002 * spend + (plan === 'basic' ? 0.5 : -0.3) + 0.4 * gauss();
        const score = 1 / (1 + Math.exp(-z));
        const yes = score >= 0.5;
        const latency = round3((latencyOf.get(version) ?? 6) * (1 + 0.25 * d) * Math.exp(0.35 * gauss()));
        const cost = Number(((latency / 1000) * PRICE_PER_COMPUTE_SECOND_USD).toPrecision(3));
        const id = uuid4();
        const timestamp = iso(ts);
        parts[k] =
          `{"id":"${id}","timestamp":"${timestamp}","model":${modelJson},"version":"${version}",` +
          `"features":{"tenure_months":${tenure},"monthly_spend":${spend},"support_tickets":${tickets},"seats":${seats},"plan":"${plan}","region":"${region}"},` +
          `"prediction":"${yes ? 'yes' : 'no'}","score":${score},"scores":{"no":${1 - score},"yes":${score}},"latencyMs":${latency},"cost":${cost},` +
          `"action":"${yes ? 'flagged for follow-up (predicted yes)' : 'no action'}","context":{"rule":"prediction is yes"}}`;
        if (pickAt.has(written)) picked.push({ id, timestamp, hour: hourIso, version, key: batchKey });
        written++;
      }
      put(batchKey, parts.join('\n') + '\n');
    }
    if (written / N_PREDICTIONS >= nextReport) {
      const s = (performance.now() - t0) / 1000;
      say(
        `  predictions: ${written.toLocaleString('en')} / ${N_PREDICTIONS.toLocaleString('en')} (${Math.round((100 * written) / N_PREDICTIONS)}%, ${s.toFixed(1)} s)`,
      );
      while (nextReport <= written / N_PREDICTIONS) nextReport += 0.1;
    }
  }
  return picked;
}

// ---------------------------------------------------------------------------------------------
// 3. Read back with the project's own services.

async function validate(ids: {
  recent: PickedPrediction | undefined;
  old: PickedPrediction | undefined;
}): Promise<Record<string, unknown>> {
  const config = { store: { kind: 'local', dir: STORE_DIR }, s3: { region: 'us-east-1', forcePathStyle: false } } as Pick<
    RetrainConfig,
    'store' | 's3'
  >;
  const store = createStore(config);
  const failures: Record<string, string> = {};
  const timed = async <T>(name: string, f: () => Promise<T>, describe: (x: T) => string): Promise<{ x: T | null; ms: number }> => {
    const t = performance.now();
    try {
      const x = await f();
      const ms = performance.now() - t;
      say(`  ${name.padEnd(44)} ${ms.toFixed(0).padStart(7)} ms   ${describe(x)}`);
      return { x, ms };
    } catch (err) {
      // A naive read that cannot cope with the size is a finding, not the end of the check.
      const ms = performance.now() - t;
      const message = (err as Error).message?.split('\n')[0] ?? String(err);
      failures[name] = message;
      say(`  ${name.padEnd(44)} ${ms.toFixed(0).padStart(7)} ms   FAILED: ${message}`);
      // The reads it left in flight still hold files open: let them end before the next timing.
      await new Promise((r) => setTimeout(r, 5000));
      return { x: null, ms };
    }
  };
  const out: Record<string, unknown> = {};
  const pipeline = await loadPipeline(PROJECT_DIR, MODEL);
  const record = async <T>(key: string, name: string, f: () => Promise<T>, describe: (x: T) => string, count: (x: T) => unknown) => {
    const r = await timed(name, f, describe);
    out[key] = { ms: Math.round(r.ms), ...(r.x === null ? { failed: failures[name] } : { result: count(r.x) }) };
  };
  await record(
    'listVersions',
    'listVersions',
    () => listVersions(store, MODEL),
    (v) => `${v.length} versions`,
    (v) => v.length,
  );
  await record(
    'listAudit',
    'listAudit',
    () => listAudit(store, MODEL),
    (a) => `${a.length} events`,
    (a) => a.length,
  );
  await record(
    'readPointer',
    'readPointer',
    () => readPointer(store, MODEL),
    (p) => `champion ${p.pointer.champion}, previous ${p.pointer.previous}, ${p.pointer.history.length} changes`,
    (p) => p.pointer.history.length,
  );
  await record(
    'modelSummary',
    'modelSummary',
    () => modelSummary(store, pipeline),
    (s) => `last drift ${s.lastDrift?.checkId} (drifted ${s.lastDrift?.drifted})`,
    (s) => s.lastDrift?.checkId ?? null,
  );
  await record(
    'listReports',
    'list reports/',
    () => store.list(keys.driftReports(MODEL)),
    (k) => `${k.length} keys`,
    (k) => k.length,
  );
  await record(
    'listPredictions',
    'list predictions/ (all batches)',
    () => store.list(keys.predictions(MODEL)),
    (k) => `${k.length} batch files`,
    (k) => k.length,
  );
  const explain = (p: PickedPrediction, at: string) => () => explainPredictionById(store, p.id, { model: MODEL, at });
  const found = (e: Awaited<ReturnType<typeof explainPredictionById>>) => (e.found ? 'found' : `NOT found (${e.files} files)`);
  for (const [name, p] of Object.entries(ids)) {
    if (!p) continue;
    await record(`explain_${name}_atHour`, `explainPredictionById ${name} (at its hour)`, explain(p, p.hour), found, (e) => e.found);
  }
  if (ids.old)
    await record(
      'explain_old_atDay',
      'explainPredictionById old (at its day)',
      explain(ids.old, ids.old.hour.slice(0, 10)),
      found,
      (e) => e.found,
    );
  return out;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  if (process.argv.includes('--validate-only')) {
    const ids = readJson<{ predictions: { old?: PickedPrediction; recent?: PickedPrediction } }>(join(DIR, 'ids.json'));
    say('reading the store back with the project’s services (naive full reads):');
    const reads = await validate({ recent: ids.predictions.recent, old: ids.predictions.old });
    writeFileSync(join(DIR, 'ids.json'), JSON.stringify({ ...ids, reads }, null, 2));
    return;
  }
  const t0 = performance.now();
  mkdirSync(DIR, { recursive: true });
  runSeedDemo();
  const templates = loadTemplates();
  say(
    `templates: version ${templates.version.version}, report ${templates.report.checkId}, audit types ${[...templates.events.keys()].join(' ')}`,
  );
  const pipelineFile = writeProject();
  const pipeline = await loadPipeline(PROJECT_DIR, MODEL);
  if (existsSync(STORE_DIR)) {
    say(`removing the old ${STORE_DIR} …`);
    rmSync(STORE_DIR, { recursive: true, force: true });
  }
  mkdirSync(STORE_DIR, { recursive: true });
  say(
    `writing ${STORE_DIR}: ${N_VERSIONS} versions, ${N_CHECKS} checks, ${N_PREDICTIONS.toLocaleString('en')} predictions, ${iso(START)} – ${iso(END)}`,
  );
  const timings: Record<string, number> = {};
  let t = performance.now();
  const gen = generateVersions(templates, pipeline);
  timings.versionsSeconds = (performance.now() - t) / 1000;
  say(
    `  versions: ${gen.runs.length} (${gen.runs.filter((r) => r.promoted).length} promoted, ${gen.runs.filter((r) => !r.gatePassed).length} rejected by the gate, ${gen.runs.filter((r) => r.rolledBack).length} rolled back) in ${timings.versionsSeconds.toFixed(1)} s`,
  );
  const hours = Math.ceil(SPAN / HOUR);
  const counts = hourCounts(hourWeights(hours), N_PREDICTIONS);
  const levels = driftLevels(hours, gen.spans);
  t = performance.now();
  const checks = generateChecks(templates, pipeline, gen, levels, Int32Array.from(counts));
  timings.checksSeconds = (performance.now() - t) / 1000;
  say(`  drift checks: ${checks.length} (${checks.filter((c) => c.drifted).length} drifted) in ${timings.checksSeconds.toFixed(1)} s`);
  // The pointer last: drift-started runs have named their starter in its history by now.
  putJson(keys.pointer(MODEL), gen.pointer);
  t = performance.now();
  const filesBefore = filesWritten;
  const bytesBefore = bytesWritten;
  const picked = generatePredictions(gen, levels, counts);
  timings.predictionsSeconds = (performance.now() - t) / 1000;
  const predictionFiles = filesWritten - filesBefore;
  const predictionBytes = bytesWritten - bytesBefore;
  say(
    `  predictions: ${N_PREDICTIONS.toLocaleString('en')} lines in ${predictionFiles} batches, ${(predictionBytes / 1e9).toFixed(2)} GB, in ${timings.predictionsSeconds.toFixed(1)} s`,
  );
  timings.totalSeconds = (performance.now() - t0) / 1000;
  const old = picked[0];
  const recent = picked.at(-1);
  const ids = {
    model: MODEL,
    seed: SEED,
    from: iso(START),
    to: iso(END),
    store: STORE_DIR,
    projectDir: PROJECT_DIR,
    pipelineFile,
    counts: {
      versions: gen.runs.length,
      promoted: gen.runs.filter((r) => r.promoted).length,
      checks: checks.length,
      driftedChecks: checks.filter((c) => c.drifted).length,
      predictions: N_PREDICTIONS,
      predictionBatches: predictionFiles,
      predictionBytes,
      auditEvents: Object.fromEntries([...auditCounts].sort()),
      files: filesWritten,
      bytes: bytesWritten,
    },
    predictions: { old, recent, more: picked.slice(1, -1) },
    versions: {
      first: gen.runs[0]?.version,
      last: gen.runs.at(-1)?.version,
      champion: gen.pointer.champion,
      previous: gen.pointer.previous,
      rejectedByGate: gen.runs.find((r) => !r.gatePassed)?.version,
      rolledBack: gen.runs.find((r) => r.rolledBack)?.version,
      some: gen.runs.filter((_, i) => i % Math.max(1, Math.floor(gen.runs.length / 10)) === 0).map((r) => r.version),
    },
    checks: {
      first: checks[0]?.checkId,
      last: checks.at(-1)?.checkId,
      lastDrifted: [...checks].reverse().find((c) => c.drifted)?.checkId,
      some: checks.filter((_, i) => i % Math.max(1, Math.floor(checks.length / 10)) === 0).map((c) => c.checkId),
    },
    timings,
  };
  writeFileSync(join(DIR, 'ids.json'), JSON.stringify(ids, null, 2));
  say(
    `wrote ${filesWritten.toLocaleString('en')} files, ${(bytesWritten / 1e9).toFixed(2)} GB in ${timings.totalSeconds.toFixed(1)} s; ids in ${join(DIR, 'ids.json')}`,
  );
  if (!process.argv.includes('--skip-validate')) {
    say('\nreading it back with the project’s services (naive full reads):');
    const reads = await validate({ recent, old });
    writeFileSync(join(DIR, 'ids.json'), JSON.stringify({ ...ids, reads }, null, 2));
  }
  process.stdout.write(
    `\nTo serve this store:\n  RETRAIN_PROJECT_DIR=${PROJECT_DIR} RETRAIN_STORE=${STORE_DIR} node ${join(RETRAIN_HOME, 'bin/retrain.mjs')} serve\n` +
      `  (then open http://127.0.0.1:8080/ui; RETRAIN_API_ADDRESS to move it, RETRAIN_API_TOKENS / RETRAIN_API_TOKENS_FILE if the API needs tokens)\n`,
  );
}

await main();
