import { join, resolve } from 'node:path';
import { definePipeline, type Pipeline, type PipelineInput } from 'retrain/pipeline';

// No vitest import here: the benchmarks build their pipelines from this module too.

export const REPO = resolve(import.meta.dirname, '../..');
/** The standard-library trainer and predictor: fast, and able to misbehave on request. */
export const TRIVIAL_TRAINER = ['$PYTHON', join(REPO, 'test/fixtures/trainers/trivial_trainer.py')];
export const TRIVIAL_PREDICT = ['$PYTHON', join(REPO, 'test/fixtures/trainers/trivial_predict.py')];

/** A valid pipeline on the churn example with test defaults; `overrides` replace top-level fields. */
export function testPipeline(overrides: Partial<PipelineInput> & { name: string }): Pipeline {
  return definePipeline({
    task: 'classification',
    source: { path: join(REPO, 'examples/data/churn.csv') },
    idColumn: 'customer_id',
    label: 'churned',
    positiveClass: 'yes',
    features: [
      { name: 'tenure_months', type: 'numeric' },
      { name: 'monthly_spend', type: 'numeric' },
      { name: 'support_tickets', type: 'numeric' },
      { name: 'plan', type: 'categorical' },
    ],
    holdout: { fraction: 0.25, seed: 7 },
    metrics: { primary: 'roc_auc', others: ['accuracy'] },
    owners: { monitoring: 'mon@example.com', retraining: 'ml@example.com', inference: 'api@example.com', logging: 'logs@example.com' },
    ...overrides,
  });
}

/**
 * The smallest valid pipeline definition, as a file would write it (no defaults filled in): for
 * tests of the schema and of rules that read one or two fields.
 */
export const MINIMAL_PIPELINE = Object.freeze({
  name: 'm',
  task: 'classification',
  source: { path: 'a.csv' },
  label: 'y',
  features: [{ name: 'x', type: 'numeric' }],
  metrics: { primary: 'accuracy' },
  owners: { monitoring: 'a', retraining: 'b', inference: 'c', logging: 'd' },
} as const satisfies PipelineInput);
