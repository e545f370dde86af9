/**
 * An example application that serves a pipeline's champion and logs every prediction: the
 * monitoring half of the lifecycle starts here. Drift checks (`npx retrain drift churn`) read
 * what this writes, and `npx retrain explain <id>` answers "which model decided this, and why?".
 *
 *   node --import tsx examples/serving-app.ts --pipeline churn --rows 400 --drift 0.8 --seed 21
 *
 * generates customers with examples/data/generators.ts, asks the champion about them in one
 * batch, and logs one line per prediction to the store (RETRAIN_STORE, default .retrain/store).
 * It needs a champion (`npx retrain demo` or `npx retrain run churn --wait` makes one), not a
 * Temporal server: serving reads the registry and runs the predict command itself.
 *
 * Exit codes: 0 served, 2 bad arguments, 1 anything else (no champion, predict failed).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import {
  createPredictionLogger,
  createStore,
  flushOnExit,
  loadConfig,
  loadPipeline,
  materialiseArtifacts,
  QUIET_HOOKS,
  readPointer,
  readVersion,
  runPredict,
  type ModelOutput,
  type ModelVersion,
  type Pipeline,
  type PredictionLine,
  type Store,
} from 'retrain/serving';
import { storeKeyLocation, type RetrainConfig } from '../lib/config';
import { InvalidInputError, NotFoundError } from '../lib/errors';
import { keys } from '../lib/keys';
import { isoHour } from '../lib/prediction-log';
import { generateChurn, generateHousePrices, toCsv } from './data/generators';
import { isEntryPoint } from './entry-point';

/**
 * Example price of one second of compute, in US dollars: about what a serverless platform
 * charges for one vCPU-second. It only gives the `cost` field a plausible figure; put your own
 * price (or your own cost model) here.
 */
export const PRICE_PER_COMPUTE_SECOND_USD = 0.0000166667;

/** Longest one batch's predict command may run by default, milliseconds. */
const DEFAULT_PREDICT_TIMEOUT_MS = 120_000;

export interface ServeBatchOptions {
  store: Store;
  /** Where the project is (the predict command's working directory), its Python and scratch space. */
  config: Pick<RetrainConfig, 'projectDir' | 'python' | 'workDir'>;
  /** The model's pipeline definition (pipelines/<name>.ts): its name, predict command, id column, positive class. */
  model: Pipeline;
  /**
   * The rows to score, with at least the champion's feature columns. The pipeline's `idColumn`
   * (churn: `customer_id`) becomes the prediction id; without one the logger makes a UUID.
   */
  rows: readonly object[];
  /** When the predictions were made. Default: now (the demo back-dates a batch). */
  at?: Date;
  /** Longest the predict command may run, milliseconds. Default 120000. */
  timeoutMs?: number;
  /** Aborting it ends the predict process (a server passes its request's signal). */
  signal?: AbortSignal;
}

export interface ServedBatch {
  /** The champion version that made the predictions. */
  version: string;
  /** The logged lines, in the order of `rows`; already written to the store. */
  lines: PredictionLine[];
  /** Wall time of the predict step (input file, predict command, output parsing), milliseconds. */
  batchMs: number;
  /** `batchMs / rows`: one process scores the whole batch, so per-row time is only an average. */
  latencyMsPerRow: number;
  /** Example cost of one prediction, US dollars: its compute-seconds × {@link PRICE_PER_COMPUTE_SECOND_USD}. */
  costPerPrediction: number;
}

/**
 * Serves one batch with the pipeline's current champion and logs every prediction:
 * reads the champion pointer and its version record, copies the model's artefacts into a temp
 * directory, runs the predict command once for the batch (training/CONTRACT.md: a request JSON,
 * an input CSV of the feature columns, JSON lines out) and logs one line per row with
 * `createPredictionLogger`. Resolves once the lines are in the store.
 *
 * @example
 * ```ts
 * const churn = await loadPipeline(config.projectDir, 'churn');
 * const { lines } = await serveBatch({ store, config, model: churn, rows: customers });
 * // l.id is the customer_id: `npx retrain explain <id>` shows which model decided, and why.
 * return lines.map((l) => ({ customerId: l.id, churns: l.prediction, probability: l.score }));
 * ```
 */
export async function serveBatch(options: ServeBatchOptions): Promise<ServedBatch> {
  const { store, config, model: pipeline, rows } = options;
  if (rows.length === 0) throw new InvalidInputError('serveBatch needs at least one row', { model: pipeline.name });
  const champion = await loadChampion(store, pipeline.name);
  const features = champion.lineage.features.map((f) => f.name);
  const featureRows = rows.map((row, i) => featureValues(row, features, i, pipeline.name));

  await mkdir(config.workDir, { recursive: true });
  const dir = await mkdtemp(join(config.workDir, `serve-${pipeline.name}-`));
  try {
    const artifacts = await materialiseArtifacts(store, champion, join(dir, 'model'));
    // The clock starts after the artefact copy: a long-running server copies them once, not per batch.
    const started = performance.now();
    const inputPath = join(dir, 'input.csv');
    await writeFile(inputPath, toCsv(featureRows, features));
    const outputs = await runPredict({
      command: pipeline.training.predictCommand,
      model: champion,
      modelDir: join(dir, 'model'),
      artifacts,
      inputPath,
      rows: featureRows.length,
      purpose: 'serve',
      dir,
      timeoutMs: options.timeoutMs ?? DEFAULT_PREDICT_TIMEOUT_MS,
      python: config.python,
      cwd: config.projectDir,
      // Nothing cancels a batch in this example unless the caller passes a signal.
      hooks: { ...QUIET_HOOKS, signal: options.signal ?? QUIET_HOOKS.signal },
    });
    const batchMs = performance.now() - started;
    const latencyMsPerRow = batchMs / rows.length;
    // Three significant digits: an estimate, not an invoice line.
    const costPerPrediction = Number(((latencyMsPerRow / 1000) * PRICE_PER_COMPUTE_SECOND_USD).toPrecision(3));
    const lines = await logPredictions({
      store,
      pipeline,
      version: champion.version,
      rows,
      featureRows,
      outputs,
      latencyMs: round(latencyMsPerRow, 3),
      cost: costPerPrediction,
      at: options.at ?? new Date(),
    });
    return { version: champion.version, lines, batchMs, latencyMsPerRow, costPerPrediction };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The champion's version record; a clear error when there is no champion yet. */
async function loadChampion(store: Store, model: string): Promise<ModelVersion> {
  const { pointer } = await readPointer(store, model);
  if (!pointer.champion) {
    throw new NotFoundError(
      `${model} has no champion in ${store.location} yet: train one first (npx retrain demo ${model}, or npx retrain run ${model} --wait with a server running)`,
      { model },
    );
  }
  return readVersion(store, model, pointer.champion);
}

type FeatureValue = string | number | null;

/** The feature columns of one row, checked: a missing or non-scalar value names the row and column. */
function featureValues(row: object, features: readonly string[], index: number, model: string): Record<string, FeatureValue> {
  const values: Record<string, FeatureValue> = {};
  for (const name of features) {
    const value = (row as Record<string, unknown>)[name];
    if (value !== null && typeof value !== 'string' && !(typeof value === 'number' && Number.isFinite(value))) {
      throw new InvalidInputError(
        `row ${index + 1}: feature "${name}" must be a finite number, a string or null, got ${value === undefined ? 'nothing' : JSON.stringify(value)}`,
        { model },
      );
    }
    values[name] = value;
  }
  return values;
}

/** Logs one line per row and waits until they are written. */
async function logPredictions(o: {
  store: Store;
  pipeline: Pipeline;
  version: string;
  rows: readonly object[];
  featureRows: Record<string, FeatureValue>[];
  outputs: ModelOutput[];
  latencyMs: number;
  cost: number;
  at: Date;
}): Promise<PredictionLine[]> {
  const logger = createPredictionLogger({ store: o.store, model: o.pipeline.name, version: o.version });
  // A SIGTERM while the batch is logged still writes what was logged. A long-running server
  // keeps one logger for its lifetime and hooks it once.
  const unhook = flushOnExit(logger);
  try {
    const lines = o.outputs.map((out, i) =>
      logger.logPrediction({
        id: rowId(o.rows[i], o.pipeline.idColumn),
        timestamp: o.at,
        features: o.featureRows[i],
        prediction: out.prediction,
        score: positiveScore(out, o.pipeline.positiveClass),
        scores: out.scores,
        latencyMs: o.latencyMs,
        cost: o.cost,
        ...productAction(out, o.pipeline),
      }),
    );
    await logger.close();
    return lines;
  } finally {
    unhook();
  }
}

/**
 * What this example product does with a prediction, logged with it so `retrain explain` can say
 * so: a stand-in for the business rule an application applies (a real one logs its own).
 */
function productAction(out: ModelOutput, pipeline: Pipeline): { action: string; context: Record<string, string> } {
  const positive = pipeline.positiveClass;
  if (pipeline.task !== 'classification' || !positive) return { action: 'shown to the user', context: { rule: 'always show' } };
  return String(out.prediction) === positive
    ? { action: `flagged for follow-up (predicted ${positive})`, context: { rule: `prediction is ${positive}` } }
    : { action: 'no action', context: { rule: `prediction is ${positive}` } };
}

/** The row's id column as text, or undefined (the logger then makes a UUID). */
function rowId(row: object, idColumn: string | undefined): string | undefined {
  const value = idColumn ? (row as Record<string, unknown>)[idColumn] : undefined;
  return value === undefined || value === null || value === '' ? undefined : String(value);
}

/** The positive class's score (what a churn dashboard plots), when the pipeline names one. */
function positiveScore(out: ModelOutput, positiveClass: string | undefined): number | undefined {
  return positiveClass && out.scores ? out.scores[positiveClass] : undefined;
}

const round = (x: number, decimals: number) => Math.round(x * 10 ** decimals) / 10 ** decimals;

/**
 * The command that explains a prediction, with RETRAIN_STORE when it is set (explain must
 * read the same store the prediction was logged to). The model and UTC hour limit the search
 * to one partition of the log, which keeps it fast however long the log grows.
 */
export function explainCommand(line: Pick<PredictionLine, 'id' | 'model' | 'timestamp'>): string {
  const store = process.env.RETRAIN_STORE ? `RETRAIN_STORE=${process.env.RETRAIN_STORE} ` : '';
  return `${store}npx retrain explain ${line.id} --model ${line.model} --at ${isoHour(line.timestamp)}`;
}

// ---------------------------------------------------------------------------------------------
// The command line
// ---------------------------------------------------------------------------------------------

const USAGE = `Usage: node --import tsx examples/serving-app.ts --pipeline churn|house-prices [--rows N] [--drift D] [--seed S]

  --pipeline  the pipeline whose champion serves: churn or house-prices (they have data generators)
  --rows      rows to generate and score, 1..100000 (default 400)
  --drift     drift strength of the generated rows, 0..1 (default 0: like the training data)
  --seed      integer seed, 0..4294967295 (default 21); same seed, same rows`;

/** Rows like each example pipeline's training data, from examples/data/generators.ts. */
const GENERATORS = {
  churn: generateChurn,
  'house-prices': generateHousePrices,
} as const;

// Flags arrive as strings; a blank one is an error, not 0.
const numberFlag = (flag: string) =>
  z
    .string({ error: `--${flag} needs a value` })
    .trim()
    .min(1, `--${flag} needs a value`)
    .transform(Number)
    .pipe(z.number({ error: `--${flag} must be a number` }));

const argsSchema = z.object({
  pipeline: z.enum(['churn', 'house-prices'], {
    error: (issue) =>
      issue.input === undefined
        ? '--pipeline is required (churn or house-prices)'
        : `--pipeline must be churn or house-prices, got "${String(issue.input)}"`,
  }),
  rows: numberFlag('rows')
    .pipe(z.number().int('--rows must be a whole number').min(1, '--rows must be at least 1').max(100_000, '--rows must be at most 100000'))
    .default(400),
  drift: numberFlag('drift')
    .pipe(z.number().min(0, '--drift must be between 0 and 1').max(1, '--drift must be between 0 and 1'))
    .default(0),
  seed: numberFlag('seed')
    .pipe(
      z
        .number()
        .int('--seed must be a whole number')
        .min(0, '--seed must be between 0 and 4294967295')
        .max(0xffffffff, '--seed must be between 0 and 4294967295'),
    )
    .default(21),
});

export type ServingAppArgs = z.output<typeof argsSchema>;

/** Thrown for any argument problem; the command line maps it to exit code 2. */
export class UsageError extends Error {}

/** Parses and validates the command line (without `node script`); errors name the flag. */
export function parseServingAppArgs(argv: string[]): ServingAppArgs {
  let values: Record<string, unknown>;
  try {
    values = parseArgs({
      args: argv,
      options: { pipeline: { type: 'string' }, rows: { type: 'string' }, drift: { type: 'string' }, seed: { type: 'string' } },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/\. To specify a positional.*$/s, ''));
  }
  const parsed = argsSchema.safeParse(values);
  if (!parsed.success) throw new UsageError(parsed.error.issues.map((i) => i.message).join('\nerror: '));
  return parsed.data;
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  let args: ServingAppArgs;
  try {
    args = parseServingAppArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`error: ${err.message}\n\n${USAGE}`);
    return 2;
  }
  const config = loadConfig();
  const store = createStore(config);
  const pipeline = await loadPipeline(config.projectDir, args.pipeline);
  const rows = GENERATORS[args.pipeline]({ rows: args.rows, seed: args.seed, drift: args.drift });
  let served: ServedBatch;
  try {
    served = await serveBatch({ store, config, model: pipeline, rows });
  } catch (err) {
    console.error(`error: ${(err as Error).message}`);
    return 1;
  }
  const where = shortPath(storeKeyLocation(config.store, keys.predictions(pipeline.name)));
  console.log(`Served ${rows.length} ${pipeline.name} rows (seed ${args.seed}, drift ${args.drift}) with champion ${served.version}.`);
  console.log(`Logged ${served.lines.length} predictions under ${where}`);
  console.log(
    `  latency: ${served.latencyMsPerRow.toFixed(2)} ms per prediction (batch time ${(served.batchMs / 1000).toFixed(2)} s / ${rows.length} rows, Python start included)`,
  );
  console.log(
    `  cost:    $${served.costPerPrediction.toPrecision(2)} per prediction (example: compute-seconds × $${PRICE_PER_COMPUTE_SECOND_USD}/s)`,
  );
  console.log('Why did the model decide that? Try:');
  for (const line of sampleLines(served.lines)) console.log(`  ${explainCommand(line)}`);
  return 0;
}

/** `path` relative to the working directory when it is inside it, else absolute. */
function shortPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') ? rel : path;
}

/** Two predictions worth explaining: for a classifier, one of each of two predicted classes when the batch has both. */
function sampleLines(lines: readonly PredictionLine[]): PredictionLine[] {
  const first = lines[0];
  const other = lines.find((l) => l.prediction !== first.prediction) ?? lines[1];
  return [first, other].filter((l): l is PredictionLine => Boolean(l));
}

// Run only when executed directly, so the demo and tests can import serveBatch.
if (isEntryPoint(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
