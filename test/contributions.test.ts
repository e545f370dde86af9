// Which features pushed a prediction, end to end: models trained by training/train.py on the churn
// example, stored as registered versions are (artefacts and the training split's reference
// profile), explained by training/explain.py run with the project's Python through the launcher.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CONTRIBUTIONS_CONTRACT,
  describeContribution,
  topContributions,
  type Contributions,
  type ExplainedRow,
  type FeatureContribution,
} from '../lib/contributions';
import { InvalidInputError, TrainingBadInputError } from '../lib/errors';
import { keys } from '../lib/keys';
import type { ModelVersion } from '../lib/registry';
import { parseTrainingResult, TRAIN_CONTRACT, type ModelOutput } from '../lib/training-contract';
import { loadConfig } from '../services/config';
import { explainContributions } from '../services/contributions';
import { saveReferenceProfileOf } from '../services/reference-profiles';
import { failOnExit, materialiseArtifacts, QUIET_HOOKS, runContract, runPredict } from '../services/runner/contract';
import { stopLauncher } from '../services/runner/launcher';
import { createPredictionLogger } from '../serving/index';
import { LocalStore } from '../store/local-store';

const execFileAsync = promisify(execFile);

const REPO = resolve(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'retrain-contributions-'));
const config = loadConfig({
  RETRAIN_PROJECT_DIR: REPO,
  RETRAIN_PYTHON: process.env.RETRAIN_PYTHON,
  RETRAIN_WORK_DIR: join(work, 'scratch'),
});
const store = new LocalStore(join(work, 'store'));
const COMMAND_TIMEOUT_MS = 120_000;

/** base + Σ contributions must give the raw output this closely. */
const TOLERANCE = 1e-6;
/** The largest |base + Σ contributions − value| seen, per kind of model: printed at the end. */
const identityErrors: Record<string, number> = {};

afterAll(async () => {
  const width = Math.max(0, ...Object.keys(identityErrors).map((kind) => kind.length));
  const lines = Object.entries(identityErrors).map(([kind, error]) => `  ${kind.padEnd(width)}  ${error.toExponential(2)}`);
  console.log(`largest |base + Σ contributions − value| per model:\n${lines.join('\n')}`);
  await stopLauncher();
  rmSync(work, { recursive: true, force: true });
});

type Cell = string | number | null;
type Row = Record<string, Cell>;
type Feature = { name: string; type: 'numeric' | 'categorical' };

const numeric = (name: string): Feature => ({ name, type: 'numeric' });
const categorical = (name: string): Feature => ({ name, type: 'categorical' });
/** Two features that cannot matter: the same number and the same category on every training row. */
const CONSTANTS = [numeric('always_one'), categorical('channel')];
const CHURN_FEATURES = [
  numeric('tenure_months'),
  numeric('monthly_spend'),
  numeric('support_tickets'),
  numeric('seats'),
  categorical('plan'),
  categorical('region'),
  ...CONSTANTS,
];
const SPEND_FEATURES = CHURN_FEATURES.filter((f) => f.name !== 'monthly_spend');
const PLAN_FEATURES = CHURN_FEATURES.filter((f) => f.name !== 'plan');

// examples/data/churn.csv (no commas inside cells) with the constant columns, and a few blank
// cells so that the imputers, and the missing counts of the reference profile, take part.
const TRAIN_ROWS = 1600;
const records: Record<string, string>[] = (() => {
  const [header, ...lines] = readFileSync(join(REPO, 'examples/data/churn.csv'), 'utf8').trim().split('\n');
  const names = header!.split(',');
  return lines.map((line, i) => {
    const record = Object.fromEntries(line.split(',').map((cell, j) => [names[j]!, cell]));
    if (i % 41 === 0) record.tenure_months = '';
    if (i % 37 === 0) record.region = '';
    return { ...record, always_one: '1', channel: 'web' };
  });
})();
const trainPath = join(work, 'train.csv');
const TRAIN_COLUMNS = [...CHURN_FEATURES.map((f) => f.name), 'churned'];
writeFileSync(trainPath, toCsv(TRAIN_COLUMNS, records.slice(0, TRAIN_ROWS)));

function toCsv(columns: string[], rows: Record<string, Cell>[]): string {
  return [columns, ...rows.map((r) => columns.map((c) => (r[c] === null ? '' : String(r[c]))))].map((l) => l.join(',')).join('\n') + '\n';
}

/** Records as logged feature values: numbers, categories, null for a blank cell. */
function logged(rows: Record<string, string>[]): Row[] {
  return rows.map((record) =>
    Object.fromEntries(
      CHURN_FEATURES.map((f) => [f.name, record[f.name] === '' ? null : f.type === 'numeric' ? Number(record[f.name]) : record[f.name]!]),
    ),
  );
}

/** Predictions to explain: held-out rows, one with missing values and one with a constant at a value never seen. */
const toExplain: Row[] = logged(records.slice(TRAIN_ROWS, TRAIN_ROWS + 6));
toExplain[1] = { ...toExplain[1], tenure_months: null, region: null };
toExplain[2] = { ...toExplain[2], always_one: 7 };

/** Trains with the default trainer and stores the result as a registered version (with its reference profile unless told). */
async function trainVersion(opts: {
  version: string;
  task: 'classification' | 'regression';
  label: string;
  features: Feature[];
  params?: Record<string, unknown>;
  profile?: boolean;
}): Promise<ModelVersion> {
  const model = 'churn';
  const ctx = { model, version: opts.version, step: 'train' };
  const dir = join(work, 'train', opts.version);
  const outputDir = join(dir, 'out');
  const request = {
    contract: TRAIN_CONTRACT,
    model,
    task: opts.task,
    trainPath,
    outputDir,
    labelColumn: opts.label,
    features: opts.features,
    params: opts.params ?? {},
    seed: 7,
  };
  const run = await runContract({
    command: ['$PYTHON', '$RETRAIN_HOME/training/train.py'],
    dir,
    request,
    timeoutMs: COMMAND_TIMEOUT_MS,
    python: config.python,
    cwd: REPO,
    hooks: QUIET_HOOKS,
    context: ctx,
  });
  failOnExit(run, 'training', ctx);
  const result = parseTrainingResult(await readFile(join(outputDir, 'result.json'), 'utf8'), ctx);
  const artifacts: Record<string, string> = {};
  for (const [name, file] of Object.entries(result.artifacts)) {
    artifacts[name] = keys.artifact(model, opts.version, file);
    await store.upload(join(outputDir, file), artifacts[name]);
  }
  const trainKey = `datasets/${model}/train.csv`;
  await store.upload(trainPath, trainKey);
  if (opts.profile !== false) {
    const columns = opts.features.map((f) => ({ name: f.name, kind: f.type }));
    await saveReferenceProfileOf(store, { model, version: opts.version, name: 'features', key: trainKey, columns });
  }
  return {
    model,
    version: opts.version,
    createdAt: new Date().toISOString(),
    task: opts.task,
    artifacts,
    classes: result.classes ?? null,
    trainMetrics: result.metrics,
    lineage: {
      datasetSha256: '0'.repeat(64),
      datasetKey: trainKey,
      trainKey,
      holdoutKey: trainKey,
      rows: { train: TRAIN_ROWS, holdout: 0 },
      features: opts.features,
      label: opts.label,
      params: opts.params ?? {},
      seed: 7,
      trainingCommand: ['$PYTHON', 'training/train.py'],
      trainingCodeVersion: 'test',
      libraryVersions: result.libraryVersions,
      workflowId: 'contributions-test',
      runId: opts.version,
    },
  };
}

/** Trains once, on first use: several tests explain the same model. */
function once<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => (made ??= make());
}

const logistic = once(() => trainVersion({ version: 'logistic', task: 'classification', label: 'churned', features: CHURN_FEATURES }));

/** The predict command's output for the same rows, as serving would get it. */
let predictRuns = 0;
async function predictCommand(model: ModelVersion, rows: Row[]): Promise<ModelOutput[]> {
  const dir = join(work, 'predict', String(++predictRuns));
  mkdirSync(dir, { recursive: true });
  const modelDir = join(dir, 'model');
  const inputPath = join(dir, 'rows.csv');
  writeFileSync(
    inputPath,
    toCsv(
      model.lineage.features.map((f) => f.name),
      rows,
    ),
  );
  return runPredict({
    command: ['$PYTHON', '$RETRAIN_HOME/training/predict.py'],
    model,
    modelDir,
    artifacts: await materialiseArtifacts(store, model, modelDir),
    inputPath,
    rows: rows.length,
    purpose: 'serve',
    dir,
    timeoutMs: COMMAND_TIMEOUT_MS,
    python: config.python,
    cwd: REPO,
    hooks: QUIET_HOOKS,
  });
}

/** The rows of a decomposed result, each checked: base + Σ contributions = value. */
function checkedRows(kind: string, result: Contributions): ExplainedRow[] {
  if (result.method === 'unsupported') throw new Error(`${kind}: expected contributions, got unsupported: ${result.reason}`);
  for (const row of result.rows) {
    const total = Object.values(row.contributions).reduce((a, b) => a + b, row.base);
    const error = Math.abs(total - row.value);
    identityErrors[kind] = Math.max(identityErrors[kind] ?? 0, error);
    expect(error).toBeLessThan(TOLERANCE);
  }
  return result.rows;
}

/** `value` is the raw output behind the predict command's own scores or value for the same rows. */
async function checkAgainstPredict(model: ModelVersion, result: Contributions, rows: Row[]): Promise<void> {
  const served = await predictCommand(model, rows);
  const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
  result.rows.forEach((row, i) => {
    expect(row.prediction).toEqual(served[i]!.prediction);
    if (result.method === 'unsupported') return;
    const explained = row as ExplainedRow;
    if (result.output === 'value') expect(explained.value).toBeCloseTo(served[i]!.prediction as number, 9);
    else {
      const score = served[i]!.scores![explained.class!]!;
      expect(result.output === 'probability' ? explained.value : sigmoid(explained.value)).toBeCloseTo(score, 9);
    }
  });
}

/** Every feature once by its own name (one-hot columns summed back), and the constants at ~0. */
function checkFeatures(rows: ExplainedRow[], features: Feature[]): void {
  for (const row of rows) {
    expect(Object.keys(row.contributions)).toEqual(features.map((f) => f.name));
    for (const constant of CONSTANTS) expect(Math.abs(row.contributions[constant.name]!)).toBeLessThan(1e-9);
  }
}

function printTop(title: string, row: ExplainedRow, n = 5): void {
  const top = topContributions(row, n);
  const width = Math.max(...top.map((c) => c.feature.length));
  const lines = top.map((c) => `  ${c.feature.padEnd(width)}  ${c.contribution.toFixed(4).padStart(8)}   ${describeContribution(c, row)}`);
  console.log(
    `${title}: prediction ${JSON.stringify(row.prediction)}, base ${row.base.toFixed(4)}, value ${row.value.toFixed(4)}\n${lines.join('\n')}`,
  );
}

describe('feature contributions of default-trainer models', () => {
  it("splits a logistic regression's log-odds into a base and one contribution per feature", async () => {
    const model = await logistic();
    const result = await explainContributions({ store, config, model, rows: toExplain });
    expect(result).toMatchObject({ kind: CONTRIBUTIONS_CONTRACT, method: 'linear', output: 'log-odds', estimator: 'LogisticRegression' });
    const rows = checkedRows('logistic regression', result);
    checkFeatures(rows, CHURN_FEATURES);
    expect(rows.every((r) => r.class === 'yes')).toBe(true);
    await checkAgainstPredict(model, result, toExplain);
    printTop('logistic regression, held-out row 1', rows[0]!);
  });

  it('measures the linear base from the training mean: the mean log-odds over the training rows', async () => {
    const rows = checkedRows(
      'logistic regression',
      await explainContributions({ store, config, model: await logistic(), rows: logged(records.slice(0, TRAIN_ROWS)) }),
    );
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    expect(mean(rows.map((r) => r.value))).toBeCloseTo(rows[0]!.base, 9);
    // Every feature, numeric or one-hot, averages to no push at all over the data it was fitted on.
    for (const { name } of CHURN_FEATURES) expect(mean(rows.map((r) => r.contributions[name]!))).toBeCloseTo(0, 9);
  });

  it('measures one-hot columns from the all-zero reference, and says so, when the version has no category counts', async () => {
    const model = await trainVersion({
      version: 'logistic-no-profile',
      task: 'classification',
      label: 'churned',
      features: CHURN_FEATURES,
      profile: false,
    });
    const result = await explainContributions({ store, config, model, rows: toExplain });
    expect(result.method).toBe('linear-reference');
    if (result.method === 'unsupported') return;
    expect(result.note).toMatch(/channel, plan, region .*measured from 0/);
    const rows = checkedRows('logistic regression (reference)', result);
    // The constant category now carries its coefficient: it is measured from "no category".
    expect(Math.abs(rows[0]!.contributions.channel!)).toBeGreaterThan(0);
    expect(rows[0]!.contributions.always_one).toBe(0);
  });

  it("attributes a random forest's probability along each tree's path", async () => {
    const model = await trainVersion({
      version: 'forest',
      task: 'classification',
      label: 'churned',
      features: CHURN_FEATURES,
      params: { algorithm: 'random_forest', n_estimators: 50 },
    });
    const result = await explainContributions({ store, config, model, rows: toExplain });
    expect(result).toMatchObject({ method: 'tree-path', output: 'probability', estimator: 'RandomForestClassifier' });
    checkFeatures(checkedRows('random forest (classification)', result), CHURN_FEATURES);
    await checkAgainstPredict(model, result, toExplain);
  });

  it("attributes gradient boosting's log-odds along its trees' paths, from the init estimator's prior", async () => {
    const model = await trainVersion({
      version: 'boosting',
      task: 'classification',
      label: 'churned',
      features: CHURN_FEATURES,
      params: { algorithm: 'gradient_boosting' },
    });
    const result = await explainContributions({ store, config, model, rows: toExplain, positiveClass: 'no' });
    expect(result).toMatchObject({ method: 'tree-path', output: 'log-odds', estimator: 'GradientBoostingClassifier' });
    const rows = checkedRows('gradient boosting (classification)', result);
    checkFeatures(rows, CHURN_FEATURES);
    expect(rows.every((r) => r.class === 'no')).toBe(true);
    await checkAgainstPredict(model, result, toExplain);
    printTop('gradient boosting, held-out row 1, towards "no"', rows[0]!);
  });

  it.each([
    ['ridge', 'Ridge', 'linear'],
    ['random_forest', 'RandomForestRegressor', 'tree-path'],
    ['gradient_boosting', 'GradientBoostingRegressor', 'tree-path'],
  ])("explains a regression pipeline's predicted value (%s)", async (algorithm, estimator, method) => {
    const model = await trainVersion({
      version: `spend-${algorithm}`,
      task: 'regression',
      label: 'monthly_spend',
      features: SPEND_FEATURES,
      params: { algorithm, ...(algorithm === 'random_forest' ? { n_estimators: 50 } : {}) },
    });
    const rows = toExplain.map(({ monthly_spend: _spend, ...row }) => row);
    const result = await explainContributions({ store, config, model, rows });
    expect(result).toMatchObject({ method, output: 'value', estimator });
    const explained = checkedRows(`${estimator} (regression)`, result);
    checkFeatures(explained, SPEND_FEATURES);
    expect(explained.every((r) => r.class === null)).toBe(true);
    await checkAgainstPredict(model, result, rows);
  });

  it.each([
    ['logistic_regression', 'linear'],
    ['gradient_boosting', 'tree-path'],
  ])("explains each row's predicted class of a three-class model (%s)", async (algorithm, method) => {
    const model = await trainVersion({
      version: `plan-${algorithm}`,
      task: 'classification',
      label: 'plan',
      features: PLAN_FEATURES,
      params: { algorithm, ...(algorithm === 'gradient_boosting' ? { n_estimators: 30 } : {}) },
    });
    const rows = toExplain.map(({ plan: _plan, ...row }) => row);
    const result = await explainContributions({ store, config, model, rows });
    expect(result).toMatchObject({ method, output: 'logit' });
    const explained = checkedRows(`${algorithm} (three classes)`, result);
    checkFeatures(explained, PLAN_FEATURES);
    for (const row of explained) expect(row.class).toBe(row.prediction);
  });

  it('gives no contributions for a dummy model, with a reason, and still its predictions', async () => {
    const model = await trainVersion({
      version: 'dummy',
      task: 'classification',
      label: 'churned',
      features: CHURN_FEATURES,
      params: { algorithm: 'dummy' },
    });
    const result = await explainContributions({ store, config, model, rows: toExplain });
    expect(result).toMatchObject({ method: 'unsupported', output: null, estimator: 'DummyClassifier' });
    if (result.method !== 'unsupported') return;
    expect(result.reason).toMatch(/DummyClassifier predicts without looking at the features/);
    await checkAgainstPredict(model, result, toExplain);
  });

  it('names a feature missing from a row, before and inside the explain command', async () => {
    const model = await logistic();
    const { plan: _plan, ...withoutPlan } = toExplain[0]!;
    const error = await explainContributions({ store, config, model, rows: [toExplain[1]!, withoutPlan] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).message).toMatch(/prediction 2 of 2 to explain lacks feature 'plan'/);
    expect((error as InvalidInputError).context).toMatchObject({ model: 'churn', version: 'logistic', feature: 'plan' });

    // The script checks too: a request written by another caller gets exit 2 and the feature's name.
    const dir = join(work, 'missing-feature');
    const modelDir = join(dir, 'model');
    const ctx = { model: 'churn', version: 'logistic', step: 'explain' };
    const request = {
      contract: CONTRIBUTIONS_CONTRACT,
      task: 'classification',
      modelDir,
      artifacts: await materialiseArtifacts(store, model, modelDir),
      features: CHURN_FEATURES,
      classes: ['no', 'yes'],
      rows: [withoutPlan],
    };
    const run = await runContract({
      command: ['$PYTHON', '$RETRAIN_HOME/training/explain.py'],
      dir,
      request,
      timeoutMs: COMMAND_TIMEOUT_MS,
      python: config.python,
      cwd: REPO,
      hooks: QUIET_HOOKS,
      context: ctx,
    });
    expect(run.exitCode).toBe(2);
    expect(() => failOnExit(run, 'explain', ctx)).toThrow(TrainingBadInputError);
    expect(run.stderrTail).toContain('row 1 of 1 lacks feature(s): plan');
  });
});

describe('topContributions and describeContribution', () => {
  const row = { class: 'yes', contributions: { tenure_months: 0.42, plan: -0.9, region: 0.0123, seats: 0, spend: -0.42 } };

  it('returns the n features with the largest |contribution|, signed, ties by name', () => {
    expect(topContributions(row, 3)).toEqual<FeatureContribution[]>([
      { feature: 'plan', contribution: -0.9 },
      { feature: 'spend', contribution: -0.42 },
      { feature: 'tenure_months', contribution: 0.42 },
    ]);
    expect(topContributions(row, 10)).toHaveLength(5);
    expect(topContributions(row, 0)).toEqual([]);
  });

  it('says which way each feature pushed', () => {
    const [plan, , tenure, region, seats] = topContributions(row, 5);
    expect(describeContribution(tenure!, row)).toBe('tenure_months +0.42 (pushed towards "yes")');
    expect(describeContribution(plan!, row)).toBe('plan -0.90 (pushed away from "yes")');
    expect(describeContribution(region!, row)).toBe('region +0.012 (pushed towards "yes")');
    expect(describeContribution(seats!, row)).toBe('seats 0 (no effect)');
    expect(describeContribution({ feature: 'seats', contribution: 3.14159 }, { class: null })).toBe('seats +3.14 (pushed the value up)');
  });
});

describe('retrain explain --contributions', () => {
  it('prints the features that pushed a logged prediction, from the real CLI', async () => {
    const model = await logistic();
    await store.put(keys.version(model.model, model.version), JSON.stringify(model));
    const logger = createPredictionLogger({ store, model: model.model, version: model.version });
    const { id } = logger.logPrediction({
      features: toExplain[0]!,
      prediction: 'yes',
      scores: { no: 0.3, yes: 0.7 },
      latencyMs: 3,
      action: 'offered a retention call',
    });
    await logger.close();
    const env = {
      ...process.env,
      RETRAIN_PROJECT_DIR: REPO,
      RETRAIN_STORE: join(work, 'store'),
      RETRAIN_WORK_DIR: join(work, 'scratch'),
    };
    const cli = join(REPO, 'bin/retrain.mjs');
    const text = await execFileAsync(process.execPath, [cli, 'explain', id, '--model', 'churn', '--contributions'], { env });
    expect(text.stdout).toContain('action:     offered a retention call');
    expect(text.stdout).toMatch(/Features that pushed it \(linear, LogisticRegression; log-odds of "yes" -?\d/);
    expect(text.stdout).toMatch(/\n {2}\w+ [+-]\d.* \(pushed (towards|away from) "yes"\)/);
    const json = JSON.parse((await execFileAsync(process.execPath, [cli, 'explain', id, '--contributions', '--json'], { env })).stdout);
    expect(json.contributions).toMatchObject({ available: true, method: 'linear', class: 'yes' });
    expect(json.contributions.top).toHaveLength(5);
    const [row] = checkedRows('logistic regression, again', await explainContributions({ store, config, model, rows: [toExplain[0]!] }));
    const sum = json.contributions.base + Object.values(row!.contributions).reduce((a, b) => a + b, 0);
    expect(sum).toBeCloseTo(json.contributions.value, 9);
    // Without the flag nothing runs in Python and the answer has no contributions.
    const plain = JSON.parse((await execFileAsync(process.execPath, [cli, 'explain', id, '--json'], { env })).stdout);
    expect(plain.contributions).toBeUndefined();
  });
});
