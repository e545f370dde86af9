// Runs the shipped Python training scripts and the trivial fixture trainer as the worker would:
// a subprocess with the request path as last argument and stdin held open as a pipe.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const python = process.env.RETRAIN_PYTHON ?? path.resolve(root, '.retrain/venv/bin/python');
const trainScript = path.join(root, 'training/train.py');
const predictScript = path.join(root, 'training/predict.py');
const trivialTrainer = path.join(root, 'test/fixtures/trainers/trivial_trainer.py');
const trivialPredict = path.join(root, 'test/fixtures/trainers/trivial_predict.py');

// sklearn imports take a second or two; the default 5 s leaves little margin on a busy machine.
const SKLEARN_TIMEOUT = 60_000;

const dir = mkdtempSync(path.join(tmpdir(), 'retrain-scripts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const features = [
  { name: 'tenure', type: 'numeric' },
  { name: 'spend', type: 'numeric' },
  { name: 'plan', type: 'categorical' },
];

// Deterministic pseudo-random numbers so the datasets are the same on every run.
function lcg(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1664525 + 1013904223) % 2 ** 32;
    return state / 2 ** 32;
  };
}

function writeCsv(name: string, header: string[], rows: (string | number)[][]): string {
  const file = path.join(dir, name);
  writeFileSync(file, [header, ...rows].map((r) => r.join(',')).join('\n') + '\n');
  return file;
}

// Label depends on all three features, with some blank cells to exercise the imputers.
function classificationRows(count: number, seed: number): (string | number)[][] {
  const random = lcg(seed);
  const plans = ['basic', 'pro', 'team'];
  return Array.from({ length: count }, (_, i) => {
    const tenure = random() * 48;
    const spend = random() * 200;
    const plan = plans[Math.floor(random() * plans.length)];
    const churned = tenure / 48 + spend / 400 + (plan === 'basic' ? 0 : 0.3) < 0.8 ? 'yes' : 'no';
    return [i % 29 === 0 ? '' : tenure.toFixed(2), spend.toFixed(2), i % 31 === 0 ? '' : plan, churned];
  });
}

function regressionRows(count: number, seed: number): (string | number)[][] {
  const random = lcg(seed);
  return Array.from({ length: count }, () => {
    const tenure = random() * 48;
    const spend = random() * 200;
    const plan = random() < 0.5 ? 'basic' : 'pro';
    const value = 3 * tenure + 0.5 * spend + (plan === 'pro' ? 20 : 0) + random() * 5;
    return [tenure.toFixed(2), spend.toFixed(2), plan, value.toFixed(3)];
  });
}

const header = ['tenure', 'spend', 'plan', 'label'];
const classTrain = writeCsv('class-train.csv', header, classificationRows(200, 1));
const classHoldout = writeCsv('class-holdout.csv', header, classificationRows(50, 2));
const regTrain = writeCsv('reg-train.csv', header, regressionRows(120, 3));
const singleClass = writeCsv(
  'single-class.csv',
  header,
  classificationRows(20, 4).map((row) => [...row.slice(0, 3), 'yes']),
);

let requestCount = 0;
function writeRequest(request: object): string {
  const file = path.join(dir, `request-${++requestCount}.json`);
  writeFileSync(file, JSON.stringify(request));
  return file;
}

function trainRequest(overrides: Record<string, unknown> = {}) {
  return {
    contract: 'retrain.train/v1',
    model: 'churn',
    task: 'classification',
    trainPath: classTrain,
    holdoutPath: classHoldout,
    outputDir: path.join(dir, `out-${requestCount + 1}`),
    labelColumn: 'label',
    features,
    params: {},
    seed: 42,
    ...overrides,
  };
}

function predictRequest(modelDir: string, artifacts: Record<string, string>, overrides: Record<string, unknown> = {}) {
  return {
    contract: 'retrain.predict/v1',
    task: 'classification',
    modelDir,
    artifacts,
    inputPath: classHoldout,
    outputPath: path.join(dir, `predictions-${requestCount + 1}.jsonl`),
    features,
    purpose: 'evaluate',
    ...overrides,
  };
}

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

// Like the worker: stdin stays an open pipe for the whole run.
function start(script: string, request: object): ChildProcess {
  return spawn(python, [script, writeRequest(request)], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
}

function finish(child: ChildProcess): Promise<Outcome> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const run = (script: string, request: object) => finish(start(script, request));

// Resolves with the first progress line for which `matches` is true.
function waitForProgress(child: ChildProcess, matches: (line: Record<string, unknown>) => boolean) {
  return new Promise<void>((resolve) => {
    let buffered = '';
    const onData = (chunk: Buffer) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      if (lines.some((line) => line.trim() !== '' && matches(JSON.parse(line)))) {
        child.stdout!.off('data', onData);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
  });
}

function progressLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line));
}

function readJsonLines(file: string): Record<string, unknown>[] {
  return progressLines(readFileSync(file, 'utf8'));
}

describe('training/train.py and predict.py', () => {
  it('trains a classifier and predicts holdout rows with scores', { timeout: SKLEARN_TIMEOUT }, async () => {
    const request = trainRequest({ params: { algorithm: 'random_forest', n_estimators: 20, max_depth: 4 } });
    const trained = await run(trainScript, request);
    expect(trained.code, trained.stderr).toBe(0);
    expect(progressLines(trained.stdout).map((line) => line.stage)).toEqual(expect.arrayContaining(['load', 'fit', 'score', 'save']));

    const result = JSON.parse(readFileSync(path.join(request.outputDir, 'result.json'), 'utf8'));
    expect(result).toMatchObject({
      contract: 'retrain.train/v1',
      artifacts: { model: 'model.joblib' },
      classes: ['no', 'yes'],
      libraryVersions: { 'scikit-learn': expect.any(String), python: expect.any(String) },
    });
    expect(result.metrics.train_accuracy).toBeGreaterThan(0.5);
    expect(result.metrics.holdout_accuracy).toEqual(expect.any(Number));
    expect(existsSync(path.join(request.outputDir, 'model.joblib'))).toBe(true);

    const predict = predictRequest(request.outputDir, result.artifacts);
    const predicted = await run(predictScript, predict);
    expect(predicted.code, predicted.stderr).toBe(0);
    const rows = readJsonLines(predict.outputPath);
    expect(rows).toHaveLength(50);
    for (const row of rows) {
      const scores = row.scores as Record<string, number>;
      expect(Object.keys(scores)).toEqual(['no', 'yes']);
      expect(scores.no + scores.yes).toBeCloseTo(1, 6);
      expect(['no', 'yes']).toContain(row.prediction);
    }
  });

  it('trains the default regression model and predicts numbers', { timeout: SKLEARN_TIMEOUT }, async () => {
    const request = trainRequest({ task: 'regression', trainPath: regTrain, holdoutPath: undefined });
    const trained = await run(trainScript, request);
    expect(trained.code, trained.stderr).toBe(0);
    const result = JSON.parse(readFileSync(path.join(request.outputDir, 'result.json'), 'utf8'));
    expect(result.metrics.train_rmse).toEqual(expect.any(Number));
    expect(result.classes).toBeUndefined();

    const predict = predictRequest(request.outputDir, result.artifacts, { task: 'regression', inputPath: regTrain });
    expect((await run(predictScript, predict)).code).toBe(0);
    const rows = readJsonLines(predict.outputPath);
    expect(rows).toHaveLength(120);
    expect(rows.every((row) => typeof row.prediction === 'number')).toBe(true);
  });

  it('exits 2 for an unknown algorithm', { timeout: SKLEARN_TIMEOUT }, async () => {
    const outcome = await run(trainScript, trainRequest({ params: { algorithm: 'quantum_forest' } }));
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toContain('quantum_forest');
  });

  it('exits 2 for a parameter the estimator rejects', { timeout: SKLEARN_TIMEOUT }, async () => {
    const outcome = await run(trainScript, trainRequest({ params: { algorithm: 'random_forest', n_estimators: -1 } }));
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toContain('n_estimators');
  });

  it('exits 2 when the label has a single class', { timeout: SKLEARN_TIMEOUT }, async () => {
    const request = trainRequest({ trainPath: singleClass });
    const outcome = await run(trainScript, request);
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toContain('single class');
    expect(existsSync(path.join(request.outputDir, 'result.json'))).toBe(false);
  });

  it('exits 3 when its stdin is closed, as when the worker dies', { timeout: SKLEARN_TIMEOUT }, async () => {
    // Closing stdin before the watchdog starts is still EOF, so training can never win the race.
    const request = trainRequest();
    const child = start(trainScript, request);
    const outcome = finish(child);
    child.stdin!.end();
    expect((await outcome).code).toBe(3);
    expect(existsSync(path.join(request.outputDir, 'result.json'))).toBe(false);
  });
});

describe('trivial fixture trainer', () => {
  const trivial = (params: Record<string, unknown>) => trainRequest({ params });

  it('trains and predicts the majority class', async () => {
    const request = trivial({});
    expect((await run(trivialTrainer, request)).code).toBe(0);
    const result = JSON.parse(readFileSync(path.join(request.outputDir, 'result.json'), 'utf8'));
    expect(result).toMatchObject({ artifacts: { model: 'model.json' }, classes: ['no', 'yes'] });

    const predict = predictRequest(request.outputDir, result.artifacts);
    expect((await run(trivialPredict, predict)).code).toBe(0);
    const rows = readJsonLines(predict.outputPath);
    expect(rows).toHaveLength(50);
    expect(new Set(rows.map((row) => row.prediction)).size).toBe(1);
  });

  it('exits 1 after one progress line on crash', async () => {
    const outcome = await run(trivialTrainer, trivial({ behaviour: 'crash' }));
    expect(outcome.code).toBe(1);
    expect(progressLines(outcome.stdout)).toHaveLength(1);
  });

  it('exits 2 on bad_input', async () => {
    const outcome = await run(trivialTrainer, trivial({ behaviour: 'bad_input' }));
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).not.toBe('');
  });

  it('exits 0 without result.json on no_result', async () => {
    const request = trivial({ behaviour: 'no_result' });
    expect((await run(trivialTrainer, request)).code).toBe(0);
    expect(existsSync(path.join(request.outputDir, 'result.json'))).toBe(false);
  });

  it('fails verification, but not evaluation, of a fail_verify model', async () => {
    const request = trivial({ fail_verify: true });
    expect((await run(trivialTrainer, request)).code).toBe(0);
    const artifacts = { model: 'model.json' };
    expect((await run(trivialPredict, predictRequest(request.outputDir, artifacts))).code).toBe(0);
    const verify = await run(trivialPredict, predictRequest(request.outputDir, artifacts, { purpose: 'verify' }));
    expect(verify.code).toBe(1);
  });

  it('exits 3 when stdin closes during a slow run', async () => {
    const pidFile = path.join(dir, 'slow.pid');
    const request = trivial({ behaviour: 'slow', sleep_seconds: 120, pid_file: pidFile });
    const child = start(trivialTrainer, request);
    const outcome = finish(child);
    try {
      // The pid file is written just before the first "sleeping" line.
      await waitForProgress(child, (line) => line.message === 'sleeping');
      expect(readFileSync(pidFile, 'utf8')).toBe(String(child.pid));
      child.stdin!.end();
      expect((await outcome).code).toBe(3);
      expect(existsSync(path.join(request.outputDir, 'result.json'))).toBe(false);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
