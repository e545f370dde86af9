import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../lib/audit';
import { keys } from '../lib/keys';
import type { PredictionExplanation } from '../lib/prediction-explanation';
import type { ChampionPointer, ModelVersion } from '../lib/registry';
import { createPredictionLogger } from '../serving/index';
import { LocalStore } from '../store/local-store';
import { REPO } from './helpers/harness';

const exec = promisify(execFile);
const DATASET = 'd41f9c1a7be3e0c2a1f0a6c5b8e9d7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0';
let root: string;

/** Runs the real `retrain` binary against the test store. */
async function retrain(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [join(REPO, 'bin/retrain.mjs'), ...args], {
      cwd: root,
      env: { ...process.env, RETRAIN_PROJECT_DIR: root, RETRAIN_STORE: join(root, 'store') },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function version(v: string, createdAt: string): ModelVersion {
  return {
    model: 'churn',
    version: v,
    createdAt,
    task: 'classification',
    artifacts: { model: keys.artifact('churn', v, 'model.joblib') },
    classes: ['no', 'yes'],
    trainMetrics: { accuracy: 0.91 },
    lineage: {
      datasetSha256: DATASET,
      datasetKey: keys.snapshot('churn', DATASET, 'csv'),
      trainKey: 'datasets/churn/x/split-1/train.csv',
      holdoutKey: 'datasets/churn/x/split-1/holdout.csv',
      rows: { train: 1500, holdout: 500 },
      features: [
        { name: 'tenure_months', type: 'numeric' },
        { name: 'plan', type: 'categorical' },
      ],
      label: 'churned',
      params: { algorithm: 'logistic_regression', C: 1 },
      seed: 7,
      trainingCommand: ['$PYTHON', 'training/train.py'],
      trainingCodeVersion: 'sha256:0123456789abcdef',
      libraryVersions: { 'scikit-learn': '1.5.2', numpy: '2.1.0' },
      workflowId: 'retrain-churn',
      runId: `run-${v}`,
    },
  };
}

function event(e: Pick<AuditEvent, 'type' | 'version' | 'at' | 'summary' | 'details'> & Partial<AuditEvent>): AuditEvent {
  return { id: `${e.type}-${e.version}`, model: 'churn', outcome: 'ok', workflowId: 'retrain-churn', runId: `run-${e.version}`, ...e };
}

let current: string;
let retired: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'retrain-explain-'));
  const store = new LocalStore(join(root, 'store'));
  await store.put(keys.version('churn', 'v0old'), JSON.stringify(version('v0old', '2024-04-01T00:00:00.000Z')));
  await store.put(keys.version('churn', 'v1new'), JSON.stringify(version('v1new', '2024-05-01T09:00:00.000Z')));
  const pointer: ChampionPointer = {
    model: 'churn',
    champion: 'v1new',
    previous: 'v0old',
    updatedAt: '2024-05-01T09:30:00.000Z',
    history: [
      {
        action: 'promote',
        from: null,
        to: 'v0old',
        at: '2024-04-01T01:00:00.000Z',
        reason: 'passed the gate',
        actor: 'retrain-churn',
        eventId: 'e1',
      },
      {
        action: 'promote',
        from: 'v0old',
        to: 'v1new',
        at: '2024-05-01T09:30:00.000Z',
        reason: 'approved by alice@example.com',
        actor: 'retrain-churn',
        eventId: 'e2',
      },
    ],
  };
  await store.put(keys.pointer('churn'), JSON.stringify(pointer));
  const events = [
    event({
      type: 'evaluation',
      version: 'v1new',
      at: '2024-05-01T09:10:00.000Z',
      summary: 'roc_auc…',
      details: { challenger: { roc_auc: 0.88, accuracy: 0.84 }, champion: { roc_auc: 0.85, accuracy: 0.83 }, championVersion: 'v0old' },
    }),
    event({
      type: 'gate',
      version: 'v1new',
      at: '2024-05-01T09:11:00.000Z',
      summary: 'passed 2 checks',
      details: {
        passed: true,
        reason: 'passed 2 checks (champion v0old): roc_auc 0.8800 >= min 0.7000',
        checks: [],
        championVersion: 'v0old',
      },
    }),
    event({
      type: 'approval',
      version: 'v1new',
      at: '2024-05-01T09:29:00.000Z',
      summary: 'approved by alice@example.com',
      details: {
        required: true,
        approvers: ['alice@example.com'],
        decision: 'approved',
        by: 'alice@example.com',
        reason: 'checked the residuals',
        at: '2024-05-01T09:29:00.000Z',
        ignored: [],
      },
    }),
    event({
      type: 'gate',
      version: 'v0old',
      at: '2024-04-01T00:30:00.000Z',
      summary: 'passed',
      details: { passed: true, reason: 'passed 1 check (no champion yet)', checks: [], championVersion: null },
    }),
  ];
  for (const e of events) await store.put(keys.auditEvent('churn', e.id), JSON.stringify(e));

  const logger = createPredictionLogger({ store, model: 'churn', version: 'v1new' });
  logger.logPrediction({
    features: { tenure_months: 2, plan: 'basic' },
    prediction: 'no',
    latencyMs: 1,
    timestamp: '2024-05-01T10:00:00Z',
  });
  current = logger.logPrediction({
    timestamp: '2024-05-01T10:05:00Z',
    features: { tenure_months: 3, plan: 'basic' },
    prediction: 'yes',
    score: 0.81,
    scores: { no: 0.19, yes: 0.81 },
    latencyMs: 12.5,
    cost: 0.0002,
    action: 'offered a 20% retention discount',
    context: { rule: 'churn score >= 0.7', campaign: 'spring-retention' },
  }).id;
  await logger.close();
  // A stale replica still serving the old version after the promotion.
  const stale = createPredictionLogger({ store, model: 'churn', version: 'v0old' });
  retired = stale.logPrediction({
    timestamp: '2024-05-01T11:00:00Z',
    features: { tenure_months: 40, plan: 'pro' },
    prediction: 'no',
    latencyMs: 4,
  }).id;
  await stale.close();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('retrain explain', () => {
  it('explains a prediction as JSON: the line, the version and its lineage, gate, approval, promotion', async () => {
    const result = await retrain(['explain', current, '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const e = JSON.parse(result.stdout) as PredictionExplanation;
    expect(e.prediction).toMatchObject({
      id: current,
      model: 'churn',
      version: 'v1new',
      prediction: 'yes',
      score: 0.81,
      latencyMs: 12.5,
      cost: 0.0002,
      action: 'offered a 20% retention discount',
      context: { rule: 'churn score >= 0.7', campaign: 'spring-retention' },
    });
    expect(e.loggedIn.key).toMatch(/^predictions\/churn\/2024-05-01\/10\/.*\.jsonl$/);
    expect(e.loggedIn.line).toBe(2);
    expect(e.version?.lineage).toMatchObject({
      datasetSha256: DATASET,
      params: { algorithm: 'logistic_regression', C: 1 },
      trainingCodeVersion: 'sha256:0123456789abcdef',
      libraryVersions: { 'scikit-learn': '1.5.2' },
      workflowId: 'retrain-churn',
      runId: 'run-v1new',
    });
    expect(e.evaluation).toMatchObject({ metrics: { roc_auc: 0.88 }, champion: 'v0old' });
    expect(e.gate).toEqual([
      expect.objectContaining({ passed: true, reason: expect.stringMatching(/^passed 2 checks/), championVersion: 'v0old' }),
    ]);
    expect(e.approval).toEqual([
      expect.objectContaining({ decision: 'approved', by: 'alice@example.com', reason: 'checked the residuals' }),
    ]);
    expect(e.champion).toMatchObject({ current: 'v1new', isChampion: true, atPrediction: 'v1new' });
    expect(e.champion.changes.map((c) => c.eventId)).toEqual(['e2']);
  });

  it('says it in words: version, dataset hash, approver, still the champion', async () => {
    const result = await retrain(['explain', current, '--model', 'churn']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Model version v1new');
    expect(result.stdout).toContain('action:     offered a 20% retention discount');
    expect(result.stdout).toContain('context:    {"rule":"churn score >= 0.7","campaign":"spring-retention"}');
    expect(result.stdout).toContain(DATASET);
    expect(result.stdout).toMatch(/approval: .*approved by alice@example\.com: checked the residuals/);
    expect(result.stdout).toMatch(/promotion: 2024-05-01T09:30:00.000Z +promoted by retrain-churn/);
    expect(result.stdout).toMatch(/v1new is still the champion; it was the champion when it made this prediction/);
    expect(result.stdout).toMatch(/Next: npx retrain versions churn/);
  });

  it('tells when the version that served a prediction was no longer the champion', async () => {
    const result = await retrain(['explain', retired]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/v0old is no longer the champion \(now v1new\); the champion then was v1new/);
    expect(result.stdout).toMatch(/replaced: +2024-05-01T09:30:00.000Z +by v1new, promoted by retrain-churn/);
  });

  it('scans only the UTC day or hour given with --at', async () => {
    const hour = await retrain(['explain', current, '--at', '2024-05-01T10', '--json']);
    expect(hour.code).toBe(0);
    expect((JSON.parse(hour.stdout) as PredictionExplanation).prediction.id).toBe(current);
    const day = await retrain(['explain', retired, '--model', 'churn', '--at', '2024-05-01', '--json']);
    expect(day.code).toBe(0);
    // The stale replica's prediction is in hour 11: an --at of hour 10 does not see it.
    const wrongHour = await retrain(['explain', retired, '--model', 'churn', '--at', '2024-05-01T10']);
    expect(wrongHour.code).toBe(1);
    expect(wrongHour.stderr).toMatch(/scanned 1 batch file under predictions\/churn\/ \(2024-05-01T10 only\)/);
    expect(wrongHour.stderr).toMatch(/Leave out --at, or give the day instead of the hour, to scan more/);
    const bad = await retrain(['explain', current, '--at', 'yesterday']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--at.*expected a UTC day YYYY-MM-DD or hour YYYY-MM-DDTHH/);
  });

  it('exits 1 with a clear message for an unknown id; 2 for a missing id', async () => {
    const unknown = await retrain(['explain', 'no-such-prediction']);
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr).toMatch(/no prediction with id "no-such-prediction" found \(scanned 2 batch files under predictions\//);
    const other = await retrain(['explain', current, '--model', 'prices']);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/Leave out --model to scan every model/);
    const missing = await retrain(['explain']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/expected exactly one prediction id/);
  });
});
