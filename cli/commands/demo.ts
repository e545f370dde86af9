import { shellQuote } from '../../lib/shell-quote';
import type { Client } from '@temporalio/client';
import { assessReadiness } from '../../lib/readiness';
import { writeLabels } from '../../services/label-log';
import { gatherReadiness } from '../../services/readiness';
import { describeSchedule } from '../../client/schedules';
import { describeReadiness } from './readiness';
import { readPointer } from '../../services/registry';
import { generateChurn } from '../../examples/data/generators';
import { explainCommand, serveBatch, type ServedBatch } from '../../examples/serving-app';
import { storeKeyLocation, storeLocation, type RetrainConfig } from '../../lib/config';
import { loadConfig } from '../../services/config';
import type { DriftCheckReport } from '../../lib/drift/report';
import { durationToMs } from '../../lib/duration';
import { keys } from '../../lib/keys';
import { describeSource, type Pipeline } from '../../lib/pipeline';
import type { PredictionLine } from '../../lib/prediction-log';
import { driftScheduleId } from '../../lib/workflow-ids';
import { createStore, type Store } from '../../store/index';
import type { DriftCheckSummary } from '../../shared/inputs';
import type { driftCheck } from '../../workflows/drift-check';
import { defineCommand } from '../command';
import { connectClient, decideCandidate, startRetrain } from '../../client/client';
import { describeRun } from '../format';
import { followRun, rootCause } from '../../client/follow';
import { listPipelines, loadPipeline } from '../../services/pipelines';
import { startLocalStack } from '../local-stack';
import { isAbsolute, relative } from 'node:path';
import { z } from 'zod';
import { RETRAIN_HOME } from '../../lib/config';
import { InvalidInputError } from '../../lib/errors';
import { describeDatabase } from '../../services/postgres-source';
import { CHURN_TABLE, loadChurnTable } from '../../examples/postgres/load-churn';

/** churn read from PostgreSQL (examples/postgres/): run when the demo is given a database. */
const POSTGRES_DEMO = 'churn-pg';
const POSTGRES_DEMO_FILE = `${RETRAIN_HOME}/examples/postgres/churn-postgres.ts`;
/** Where the demo's database URL comes from when --database-url is not given. */
const DATABASE_URL_ENV = 'RETRAIN_DEMO_DATABASE_URL';
const databaseUrl = z.url({
  protocol: /^postgres(ql)?$/,
  message: 'expected a PostgreSQL URL, postgres://user:password@host:5432/database',
});

/** `retrain demo`: the whole lifecycle on the embedded default (dev server and worker in this process). */
export const demoCommand = defineCommand({
  name: 'demo',
  summary: 'start a local dev server + worker and run the example pipelines',
  details:
    'Runs each pipeline in pipelines/ (or those named) on a local dev server and worker, printing each\nstep; then, for churn, monitoring: served batches, the prediction log and drift checks.\nRun it twice: the second run finds the same data and params already trained.\n' +
    `With a database URL, also ${POSTGRES_DEMO}: churn with its rows in the PostgreSQL table ${CHURN_TABLE}\n(created and filled from examples/data/churn.csv when absent or empty), read by a query.`,
  positionals: [
    {
      name: 'pipeline',
      description: `the pipelines to run; every pipeline in pipelines/ when none is named (and ${POSTGRES_DEMO} with a database)`,
      optional: true,
      variadic: true,
    },
  ],
  flags: {
    'database-url': {
      type: 'string',
      schema: databaseUrl.optional(),
      placeholder: 'URL',
      description: `also run ${POSTGRES_DEMO}, churn read from this PostgreSQL database`,
      shownDefault: DATABASE_URL_ENV,
    },
  },
  examples: [
    'retrain demo',
    'retrain demo churn',
    'retrain demo --database-url postgres://me:secret@localhost:5432/shop',
    `${DATABASE_URL_ENV}=postgres://me:secret@localhost:5432/shop retrain demo ${POSTGRES_DEMO}`,
  ],
  async run(args) {
    const config = loadConfig();
    const say = (line: string) => process.stdout.write(line + '\n');
    const database = args['database-url'] ?? databaseUrlFromEnv();
    const available = listPipelines(config.projectDir);
    const names = [...new Set(args.pipeline.length ? args.pipeline : [...available, ...(database ? [POSTGRES_DEMO] : [])])];
    const pipelines: Pipeline[] = [];
    for (const name of names)
      pipelines.push(
        name === POSTGRES_DEMO && !available.includes(name) ? await postgresVariant(database) : await loadPipeline(config.projectDir, name),
      );
    const postgres = database ? pipelines.find((p) => p.name === POSTGRES_DEMO && p.source.kind === 'postgres') : undefined;
    if (args['database-url'] && !postgres)
      say(`(--database-url is for ${POSTGRES_DEMO}, which is not among the pipelines named: not used)`);
    // Before any server starts: a database the demo cannot use is the first thing to hear about.
    if (postgres && !(await preparePostgres(postgres, database!, say))) return 1;

    say('Retrain demo: the retraining lifecycle of each example pipeline, then monitoring of churn, on a local Temporal server.\n');
    const stack = await startLocalStack(config, say);
    let failures = 0;
    try {
      const client = await connectClient({ ...config, temporalAddress: stack.address });
      for (const pipeline of pipelines) {
        say(`\n=== ${pipeline.name} (${pipeline.task}; ${describeSource(pipeline.source).replace(config.projectDir + '/', '')}) ===`);
        const { handle, joined } = await startRetrain(client, config, pipeline, { requestedBy: 'demo' });
        say(joined ? `Joined the run already in progress: ${handle.workflowId}` : `Started workflow ${handle.workflowId}`);
        const { status, failed } = await followRun(handle, {
          print: say,
          // The demo approves by itself and says how one would: no second hint.
          approvalHint: false,
          onStep: async (s) => {
            if (s.step !== 'approval' || pipeline.approval.mode !== 'manual') return;
            const approver = pipeline.approval.approvers[0];
            say(`    this pipeline needs a person's approval; the demo approves as ${approver}`);
            say(`    (yourself: npx retrain approve ${pipeline.name} --by ${shellQuote(approver)} --reason "…")`);
            await waitForApprovalStep(async () =>
              decideCandidate(client, pipeline.name, 'approve', {
                by: approver,
                reason: 'approved in the demo',
                version: s.version ?? undefined,
              }),
            );
          },
        });
        say('');
        say(describeRun(status));
        if (failed && status.outcome !== 'rolled-back') say(`  error: ${failed.message}`);
        if (failed) failures++;
      }
      const monitored = pipelines.find((p) => p.name === 'churn' && p.drift);
      let explain: PredictionLine | null = null;
      if (monitored) {
        say(`\n=== monitoring ${monitored.name} (the champion serves, every prediction is logged, drift checks read the log) ===`);
        const monitoring = await showMonitoring({ client, config, store: createStore(config), pipeline: monitored, say });
        explain = monitoring.explain;
        failures += monitoring.failures;
        // The checklist a team answers before deploying, from what the demo left behind.
        say(`\n=== production readiness of ${monitored.name} (npx retrain readiness ${monitored.name}) ===`);
        const evidence = await gatherReadiness({ store: createStore(config), config }, monitored, {
          schedule: await describeSchedule(client, monitored.name),
        });
        say(describeReadiness([assessReadiness(evidence)], storeLocation(config.store)).replace(/\n\n[^\n]*$/, ''));
      }
      say(`\nWhere things are:`);
      const at = (key: string) => storeKeyLocation(config.store, key);
      say(`  artefacts, registry, snapshots: ${storeLocation(config.store)}`);
      say(`  audit log:                      ${at('audit/<model>')}/   (npx retrain audit <model>)`);
      if (monitored) say(`  prediction log, drift reports:  ${at(`predictions/${monitored.name}`)}/, ${at(`reports/${monitored.name}`)}/`);
      say(`  worker log (JSON lines):        ${stack.workerLog}`);
      if (stack.uiUrl) say(`  Temporal UI (while running):    ${stack.uiUrl}`);
      if (postgres)
        say(
          `  ${POSTGRES_DEMO}'s rows:                table ${CHURN_TABLE} in ${describeDatabase(database!)}; pipeline ${shownPath(config.projectDir, POSTGRES_DEMO_FILE)}\n` +
            `                                  (to keep it: copy it to pipelines/, set CHURN_DATABASE_URL where workers run; churn.sql beside it has a read-only user)`,
        );
      say(`\nNext: run the demo again (same data: nothing new is trained), or keep things running with`);
      // churn when it ran (or without a database, as ever); else the PostgreSQL variant that did.
      const shown = postgres && !pipelines.some((p) => p.name === 'churn') ? postgres.name : 'churn';
      say(`  npx retrain dev        and in another terminal:   npx retrain versions ${shown}`);
      if (explain) say(`Which model made a prediction, and why:   ${explainCommand(explain)}`);
    } finally {
      await stack.stop();
    }
    return failures ? 1 : 0;
  },
});

/** RETRAIN_DEMO_DATABASE_URL, validated; unset or empty is no database. */
function databaseUrlFromEnv(): string | undefined {
  const value = process.env[DATABASE_URL_ENV] || undefined;
  const parsed = databaseUrl.optional().safeParse(value);
  // The message leaves the value out: a URL carries its password.
  if (!parsed.success) throw new InvalidInputError(`${DATABASE_URL_ENV}: ${parsed.error.issues[0]!.message}`, { step: 'cli' });
  return parsed.data;
}

/** The PostgreSQL variant of churn from examples/postgres/, which needs a database to read. */
async function postgresVariant(database: string | undefined): Promise<Pipeline> {
  if (!database) {
    throw new InvalidInputError(
      `${POSTGRES_DEMO} reads churn from PostgreSQL: give the demo a database with --database-url postgres://user:password@host:5432/database (or ${DATABASE_URL_ENV})`,
      { step: 'cli' },
    );
  }
  return ((await import('../../examples/postgres/churn-postgres')) as { default: Pipeline }).default;
}

/**
 * Creates and fills the demo table if need be, and hands the URL to this process's worker in the
 * variable the pipeline names, where a production worker finds it too. False when the database
 * cannot be used (said on stderr).
 */
async function preparePostgres(pipeline: Pipeline, database: string, say: (line: string) => void): Promise<boolean> {
  const where = describeDatabase(database);
  try {
    const t = await loadChurnTable(database);
    say(
      t.loaded
        ? `PostgreSQL: ${t.created ? 'created' : 'filled the empty'} table ${CHURN_TABLE} in ${where}: ${t.loaded} rows from examples/data/churn.csv.`
        : `PostgreSQL: table ${CHURN_TABLE} in ${where} has ${t.rows} rows; left as it is.`,
    );
  } catch (err) {
    const e = err as { code?: string; message?: string };
    // The demo writes only to create or fill the table; after that a read-only user will do.
    const hint = ['25006', '42501'].includes(e.code ?? '')
      ? `: the first run creates and fills the table, so it needs a user that may (the reader of churn.sql will do afterwards)`
      : '';
    process.stderr.write(
      `retrain: cannot prepare the demo table ${CHURN_TABLE} in ${where}: ${e.message || e.code || String(err)}${hint}\n`,
    );
    return false;
  }
  if (pipeline.source.kind === 'postgres') process.env[pipeline.source.urlEnv] = database;
  return true;
}

/** A path relative to the project when it is inside it, else absolute. */
function shownPath(projectDir: string, path: string): string {
  const rel = relative(projectDir, path);
  return rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}

/** The status query can show the approval step a moment before the update handler accepts decisions. */
async function waitForApprovalStep(send: () => Promise<unknown>): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await send();
      return;
    } catch (err) {
      if (attempt >= 20) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

const HOUR_MS = 3_600_000;
/** Customers per served batch. */
const BATCH_ROWS = 300;

/**
 * The monitoring half, with real parts: the champion serves two batches through
 * examples/serving-app.ts (real predict command, real prediction log), and after each the
 * driftCheck workflow runs on the stack's worker, as `retrain drift` and the schedule run it.
 * Returns a prediction id worth explaining and the number of parts that failed.
 */
async function showMonitoring(o: {
  client: Client;
  config: RetrainConfig;
  store: Store;
  pipeline: Pipeline;
  say: (line: string) => void;
}): Promise<{ explain: PredictionLine | null; failures: number }> {
  const { store, pipeline, say } = o;
  const drift = pipeline.drift!;
  const { pointer } = await readPointer(store, pipeline.name);
  if (!pointer.champion) {
    say(`  skipped: ${pipeline.name} has no champion to serve (its retraining run did not promote one)`);
    return { explain: null, failures: 0 };
  }
  try {
    // The first batch is back-dated past the pipeline's window (24h + 1h) and checked "as of"
    // one window ago: the second check, on the window ending now, then sees only drifted
    // traffic, and a rerun of the demo within a day sees the same picture.
    const windowMs = durationToMs(drift.window);
    // Customer ids of this demo run: labels posted by an earlier run must not label these predictions.
    const run = Date.now().toString(36);
    const customers = (options: Parameters<typeof generateChurn>[0]) =>
      generateChurn(options).map((row) => ({ ...row, customer_id: `${row.customer_id}-${run}` }));
    const backdated = new Date(Date.now() - windowMs - HOUR_MS);
    const asOf = new Date(Date.now() - windowMs).toISOString();

    say(`Serving ${BATCH_ROWS} customers like the training data (seed 21), logged with timestamps ${fmtHours(windowMs + HOUR_MS)} ago:`);
    const calm = await serveBatch({
      store,
      config: o.config,
      model: pipeline,
      rows: customers({ rows: BATCH_ROWS, seed: 21 }),
      at: backdated,
    });
    say(describeBatch(calm));
    say(`Drift check of the ${drift.window} window ending ${fmtHours(windowMs)} ago:`);
    const first = await runDriftCheck(o, pipeline, 'demo: traffic like the training data', asOf);
    let failures = await describeCheck(o, first, calm);

    say(
      `\nServing ${BATCH_ROWS} drifted customers (drift 0.9, seed 22: shorter tenure, more tickets, more basic plans, more apac), timestamped now:`,
    );
    const drifted = await serveBatch({
      store,
      config: o.config,
      model: pipeline,
      rows: customers({ rows: BATCH_ROWS, seed: 22, drift: 0.9 }),
    });
    say(describeBatch(drifted));
    say(`Drift check over the pipeline's ${drift.window} window (no labels yet: performance is estimated from the scores):`);
    const second = await runDriftCheck(o, pipeline, 'demo: drifted traffic');
    failures += await describeCheck(o, second, drifted);

    // The outcomes arrive later (a churn label needs the renewal date): posted to the label log,
    // as an application does with POST /v1/labels, they show the realised performance.
    const outcomes = customers({ rows: BATCH_ROWS, seed: 22, drift: 0.9 });
    const knownAt = new Date().toISOString();
    const posted = await writeLabels(
      store,
      drifted.lines.map((line, i) => ({ model: pipeline.name, id: line.id, label: outcomes[i]!.churned, knownAt })),
    );
    say(`\nThe outcomes of those ${posted} customers become known (label log, as POST /v1/labels stores them); drift check again:`);
    const third = await runDriftCheck(o, pipeline, 'demo: labels arrived');
    failures += await describeCheck(o, third, drifted);
    return { explain: likeliestChurner(drifted), failures };
  } catch (err) {
    say(`  monitoring failed: ${rootCause(err as Error).message}`);
    return { explain: null, failures: 1 };
  }
}

/** Runs the driftCheck workflow now, on the stack's task queue, as `retrain drift` does. */
async function runDriftCheck(
  o: { client: Client; config: RetrainConfig },
  pipeline: Pipeline,
  trigger: string,
  asOf?: string,
): Promise<DriftCheckSummary> {
  return o.client.workflow.execute<typeof driftCheck>('driftCheck', {
    taskQueue: o.config.taskQueue,
    workflowId: `${driftScheduleId(pipeline.name)}-demo-${Date.now()}`,
    args: [{ pipeline, trigger, asOf }],
  });
}

function describeBatch(b: ServedBatch): string {
  return `  champion ${b.version} answered in ${(b.batchMs / 1000).toFixed(2)} s: ${b.latencyMsPerRow.toFixed(1)} ms per prediction (batch time / rows); ${b.lines.length} lines logged`;
}

const VERDICT: Record<DriftCheckSummary['outcome'], string> = {
  'no-champion': 'NO CHAMPION',
  'no-drift': 'NO DRIFT',
  'not-enough-data': 'NOT ENOUGH DATA',
  'drift-held': 'DRIFT (alert held)',
  'drift-alerted': 'DRIFT',
  'drift-retraining': 'DRIFT',
};

/**
 * Prints a check's verdict and what followed from it: drifted features, the report, the alert,
 * and the retraining run it started, followed to its end. Returns 1 when that run failed.
 */
async function describeCheck(
  o: { client: Client; config: RetrainConfig; store: Store; say: (line: string) => void },
  s: DriftCheckSummary,
  batch: ServedBatch,
): Promise<number> {
  const { say } = o;
  say(`  verdict: ${VERDICT[s.outcome]}. ${s.result?.summary ?? s.message}`);
  if (!s.result) return 0;
  const earlier = s.result.predictions - batch.lines.length;
  // Traffic logged by an earlier demo run within the window counts too: say so rather than hide it.
  say(
    `  window: ${s.result.predictions} predictions${earlier > 0 ? ` (${earlier} logged earlier, e.g. by a previous demo run; the verdict covers them too)` : earlier < 0 ? ` (${-earlier} of this batch fell outside)` : ', all from this batch'}`,
  );
  const report = JSON.parse((await o.store.get(s.result.reportKey))!.toString()) as DriftCheckReport;
  for (const line of describePerformance(report)) say(`  ${line}`);
  if (!s.result.drifted) return 0;
  const features = report.dataDrift.features.filter((f) => f.drifted).map((f) => f.name);
  say(`  drifted features: ${features.join(', ') || 'none'}${report.predictionDrift?.drifted ? '; the predictions drifted too' : ''}`);
  say(`  report: ${storeKeyLocation(o.config.store, keys.driftReport(s.model, s.result.checkId, 'html'))}`);
  if (s.alert)
    say(`  alert: ${s.alert.delivered === 'webhook' ? `sent to ${s.alert.url}` : 'logged and audited only (no webhook configured)'}`);
  if (!s.retrain) return 0;
  say(
    `  retrain: onDrift is 'retrain', so the check ${s.retrain.joined ? 'joined the run in progress' : 'started'} ${s.retrain.workflowId}:`,
  );
  const { status, failed } = await followRun(o.client.workflow.getHandle(s.retrain.workflowId, s.retrain.runId), {
    print: (line) => say(`  ${line}`),
  });
  say(describeRun(status).replace(/^/gm, '  '));
  if (failed && status.outcome !== 'rolled-back') say(`    error: ${failed.message}`);
  // The source file is the same, so planning finds the version it would train already trained.
  if (status.outcome === 'unchanged')
    say(
      `  (same training data, so retraining reproduces the champion: to learn from the drift, label these customers and add them to ${s.model}'s source)`,
    );
  return failed ? 1 : 0;
}

/**
 * The champion's performance on the window: on its holdout, estimated from its scores (no
 * labels), and realised once labels arrived, one metric a line.
 */
function describePerformance(r: DriftCheckReport): string[] {
  const e = r.estimatedPerformance;
  if (!e) return [];
  const realised = e.realised ? ` · realised on ${e.realised.labelledRows} labels` : ' · realised: no labels yet';
  const lines = [`performance of ${r.version}: holdout · estimated from the scores (95% band)${realised}`];
  for (const [metric, m] of Object.entries(e.metrics) as [keyof typeof e.metrics, (typeof e.metrics)[keyof typeof e.metrics]][]) {
    if (m.value === null) continue;
    const holdout = e.baselines[metric];
    const band = m.lower !== null && m.upper !== null ? ` (${fmt(m.lower)}–${fmt(m.upper)})` : '';
    const real = e.realised?.metrics[metric];
    lines.push(
      `  ${metric.padEnd(9)} ${holdout === null ? '   ?' : fmt(holdout)} · ${fmt(m.value)}${band}${real !== undefined && real !== null ? ` · ${fmt(real)}` : ''}`,
    );
  }
  if (e.dropped) lines.push(`  ${e.metric} estimated below the holdout by more than the allowed ${e.maxRegression}`);
  return lines;
}

function fmt(x: number): string {
  return x.toFixed(3);
}

/**
 * The id of the customer the champion is surest will churn: a prediction worth explaining
 * (ids carry the demo run's tag, so they are this batch's).
 */
function likeliestChurner(b: ServedBatch): PredictionLine {
  return b.lines.reduce((best, l) => ((l.score ?? 0) > (best.score ?? 0) ? l : best));
}

function fmtHours(ms: number): string {
  return `${ms / HOUR_MS} h`;
}
