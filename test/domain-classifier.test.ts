// The domain classifier end to end: windows written as CSV, training/domain_classifier.py run by
// the project's Python through the command launcher, its result line validated and judged.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { detectDrift, type Columns } from '../lib/drift/dataset-drift';
import {
  DOMAIN_CLASSIFIER_CONTRACT,
  domainClassifierVerdict,
  parseDomainClassifierOutput,
  type DomainClassifierResult,
} from '../lib/drift/domain-classifier';
import { InvalidInputError, TrainingBadInputError, TrainingContractError } from '../lib/errors';
import type { FeatureKind } from '../lib/feature-kind';
import { mulberry32 } from '../lib/split';
import { loadConfig } from '../services/config';
import { runDomainClassifier, type DomainClassifierInput } from '../services/domain-classifier';
import { failOnExit, QUIET_HOOKS, runContract } from '../services/runner/contract';
import { stopLauncher } from '../services/runner/launcher';

const REPO = resolve(import.meta.dirname, '..');
const config = loadConfig({ RETRAIN_PROJECT_DIR: REPO, RETRAIN_PYTHON: process.env.RETRAIN_PYTHON });
const work = mkdtempSync(join(tmpdir(), 'retrain-domain-classifier-'));
afterAll(async () => {
  await stopLauncher();
  rmSync(work, { recursive: true, force: true });
});

// A few thousand rows a side: quick, and far more than the noise bar needs.
const ROWS = 3000;
let runs = 0;

/** Standard normal draws from a seeded generator (Box–Muller), so every run sees the same data. */
function normals(seed: number): () => number {
  const random = mulberry32(seed);
  return () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** x and y standard normal, with correlation `rho` between them. */
function correlated(rows: number, rho: number, seed: number): Columns {
  const normal = normals(seed);
  const x = new Float64Array(rows);
  const y = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    x[i] = normal();
    y[i] = rho * x[i]! + Math.sqrt(1 - rho * rho) * normal();
  }
  return { x, y };
}

function classify(
  reference: Columns,
  current: Columns,
  features: { name: string; kind: FeatureKind }[],
  options: DomainClassifierInput['options'] = {},
) {
  return runDomainClassifier({ config }, { model: 'churn', reference, current, features, dir: join(work, `run-${++runs}`), options });
}

const numericXY: { name: string; kind: FeatureKind }[] = [
  { name: 'x', kind: 'numeric' },
  { name: 'y', kind: 'numeric' },
];

describe('domain classifier', () => {
  it('finds a flipped correlation that per-feature KS tests miss', async () => {
    const reference = correlated(ROWS, 0.8, 1);
    const current = correlated(ROWS, -0.8, 2);

    const ks = detectDrift({ reference, current, features: numericXY.map((f) => ({ ...f, method: 'ks' as const })) });
    for (const feature of ks.features) {
      console.log(
        `KS ${feature.name}: D = ${feature.statistic?.toFixed(4)}, p = ${feature.pValue?.toFixed(3)}, drifted: ${feature.drifted}`,
      );
      expect(feature.drifted).toBe(false);
    }

    const outcome = (await classify(reference, current, numericXY))!;
    console.log(`flipped correlation: AUC ${outcome.verdict.auc.toFixed(4)}; ${outcome.verdict.note}`);
    expect(outcome.verdict.drifted).toBe(true);
    expect(outcome.verdict.auc).toBeGreaterThan(0.75);
    expect(outcome.verdict.topFeatures.map((f) => f.name).sort()).toEqual(['x', 'y']);
    expect(outcome.result).toMatchObject({ rows: { reference: ROWS, current: ROWS }, folds: 5, seed: 0, threshold: 0.55 });
    expect(outcome.result.foldAucs).toHaveLength(5);
  });

  it('finds no drift between two samples of one distribution', async () => {
    const outcome = (await classify(correlated(ROWS, 0.8, 3), correlated(ROWS, 0.8, 4), numericXY))!;
    console.log(`one distribution: AUC ${outcome.verdict.auc.toFixed(4)}; ${outcome.verdict.note}`);
    expect(outcome.verdict.drifted).toBe(false);
    expect(Math.abs(outcome.verdict.auc - 0.5)).toBeLessThan(0.03);
    expect(outcome.verdict.topFeatures).toEqual([]);
    expect(outcome.result.importances).toBeNull(); // below the threshold: nothing to explain
  });

  it('takes categorical features, missing values and cells that need quoting', async () => {
    // Spend depends on the plan in opposite directions: the marginals of both stay the same.
    const window = (seed: number, proSpendsMore: boolean): Columns => {
      const random = mulberry32(seed);
      const normal = normals(seed + 100);
      const plan: (string | null)[] = [];
      const spend = new Float64Array(ROWS);
      for (let i = 0; i < ROWS; i++) {
        const pro = random() < 0.5;
        plan.push(i % 50 === 0 ? null : pro ? 'pro, "annual"' : 'basic');
        spend[i] = i % 40 === 0 ? NaN : normal() + (pro === proSpendsMore ? 1 : -1) * 1.5;
      }
      return { plan, spend };
    };
    const features: { name: string; kind: FeatureKind }[] = [
      { name: 'plan', kind: 'categorical' },
      { name: 'spend', kind: 'numeric' },
    ];
    const outcome = (await classify(window(5, true), window(6, false), features))!;
    console.log(`plan and spend, dependence reversed: AUC ${outcome.verdict.auc.toFixed(4)}; ${outcome.verdict.note}`);
    expect(outcome.verdict.drifted).toBe(true);
    expect(outcome.verdict.topFeatures.map((f) => f.name).sort()).toEqual(['plan', 'spend']);

    const same = (await classify(window(7, true), window(8, true), features))!;
    console.log(`plan and spend, one distribution: AUC ${same.verdict.auc.toFixed(4)}`);
    expect(same.verdict.drifted).toBe(false);
  });

  it('samples windows larger than maxRows, the same way for the same seed', async () => {
    const reference = correlated(2000, 0.8, 9);
    const current = correlated(2000, -0.8, 10);
    const first = (await classify(reference, current, numericXY, { maxRows: 500, seed: 7 }))!;
    const again = (await classify(reference, current, numericXY, { maxRows: 500, seed: 7 }))!;
    console.log(`500 of 2000 rows a side: AUC ${first.verdict.auc.toFixed(4)}`);
    expect(first.result.rows).toEqual({ reference: 500, current: 500 });
    expect(first.result.windowRows).toEqual({ reference: 2000, current: 2000 });
    expect(again.result.auc).toBe(first.result.auc);
  });
});

describe('domain classifier input and output errors', () => {
  it('names a feature missing from a window before anything runs', async () => {
    const reference = correlated(100, 0, 11);
    const current = { x: correlated(100, 0, 12).x };
    const err = await classify(reference, current, numericXY).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as InvalidInputError).message).toBe("feature 'y' is missing in the current window");
    expect((err as InvalidInputError).context).toMatchObject({ model: 'churn', step: 'domain-classifier', feature: 'y' });
  });

  it('rejects options it cannot use, naming the field', async () => {
    const err = await classify(correlated(100, 0, 13), correlated(100, 0, 14), numericXY, { folds: 5, maxRows: 6 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as Error).message).toContain('maxRows: must be at least 2 × folds');
  });

  it('fails, not retried, when a window has too few rows for the folds', async () => {
    const err = await classify(correlated(100, 0, 15), correlated(6, 0, 16), numericXY).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrainingBadInputError);
    expect((err as TrainingBadInputError).retryable).toBe(false);
    expect((err as Error).message).toContain('the domain classifier rejected its input (exit 2)');
    expect((err as Error).message).toContain('the current window has 6 rows; 5 folds need at least 10 rows per side');
  });

  it('the Python command names a column its CSV lacks', async () => {
    const dir = join(work, 'lacks-column');
    const csv = join(work, 'x-only.csv');
    writeFileSync(csv, 'x\n' + Array.from({ length: 20 }, (_, i) => `${i}\n`).join(''));
    const run = await runContract({
      command: ['$PYTHON', '$RETRAIN_HOME/training/domain_classifier.py'],
      dir,
      request: { contract: DOMAIN_CLASSIFIER_CONTRACT, referencePath: csv, currentPath: csv, features: numericXY },
      timeoutMs: 60_000,
      python: config.python,
      cwd: REPO,
      hooks: QUIET_HOOKS,
    });
    expect(() => failOnExit(run, 'the domain classifier', { model: 'churn' })).toThrow(TrainingBadInputError);
    expect(run.stderrTail).toBe(`bad input: the reference window: ${csv} lacks column(s): y`);
  });

  it('fails on a result line that breaks the schema, naming the field', async () => {
    const script = join(work, 'bad_result.py');
    writeFileSync(script, `import json\nprint(json.dumps({"contract": "${DOMAIN_CLASSIFIER_CONTRACT}", "auc": 1.7}))\n`);
    const err = await classify(correlated(50, 0, 17), correlated(50, 0, 18), numericXY, { command: ['$PYTHON', script] }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TrainingContractError);
    expect((err as TrainingContractError).retryable).toBe(false);
    expect((err as Error).message).toMatch(/^the domain classifier's result line is invalid:\n {2}- auc: .*<=1/);
    expect((err as Error).message).toContain('  - foldAucs:');
  });

  it('says what is wrong with what the classifier printed', () => {
    const ctx = { model: 'churn', step: 'domain-classifier' };
    const parse = (lines: string[]) => () => parseDomainClassifierOutput(lines, ctx);
    expect(parse([])).toThrow('the domain classifier printed no result line on stdout');
    expect(parse(['fitting…', '{}'])).toThrow('printed 2 lines on stdout, expected exactly one JSON result line (the first: fitting…)');
    expect(parse(['auc=0.8'])).toThrow(/^the domain classifier's result line is not valid JSON \(.*\): auc=0\.8$/);
    expect(parse(['{"contract": "retrain.train/v1"}'])).toThrow(/- contract: .*retrain\.domain-classifier\/v1/);
  });
});

describe('domainClassifierVerdict', () => {
  const result = (auc: number, rows: number): DomainClassifierResult => ({
    contract: DOMAIN_CLASSIFIER_CONTRACT,
    auc,
    foldAucs: [auc, auc],
    rows: { reference: rows, current: rows },
    windowRows: { reference: rows, current: rows },
    folds: 2,
    seed: 0,
    threshold: 0.55,
    importances: [
      { name: 'a', importance: 0.05 },
      { name: 'b', importance: 0.001 },
    ],
    libraryVersions: {},
  });

  it('needs an AUC beyond the noise of the rows used, not only above the threshold', () => {
    // SE at AUC 0.5 with 100 + 100 rows is 0.041: 0.56 is well within chance there.
    const small = domainClassifierVerdict(result(0.56, 100));
    expect(small.drifted).toBe(false);
    expect(small.noiseBar).toBeCloseTo(0.5 + 2.326 * Math.sqrt(201 / (12 * 100 * 100)), 6);
    expect(small.note).toContain('too few rows to tell');
    const large = domainClassifierVerdict(result(0.56, 20_000));
    expect(large.drifted).toBe(true);
    expect(large.topFeatures).toEqual([{ name: 'a', importance: 0.05 }]); // b took back under a tenth of the excess
  });

  it('keeps the effect-size floor however many rows there are', () => {
    expect(domainClassifierVerdict(result(0.53, 20_000)).drifted).toBe(false);
    expect(domainClassifierVerdict(result(0.53, 20_000), 0.52).drifted).toBe(true);
    expect(() => domainClassifierVerdict(result(0.53, 20_000), 0.5)).toThrow(InvalidInputError);
  });

  it('reads an AUC far below 0.5 as shared rows, not drift', () => {
    const verdict = domainClassifierVerdict(result(0.3, 3000));
    expect(verdict.drifted).toBe(false);
    expect(verdict.note).toContain('the windows probably share rows');
  });
});
