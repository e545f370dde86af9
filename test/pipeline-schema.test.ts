import { describe, it, expect } from 'vitest';
import { InvalidInputError } from '../lib/errors';
import { definePipeline, parsePipeline, sourceFormat, type PipelineInput, pipelineSchema } from '../lib/pipeline';
import { MINIMAL_PIPELINE } from './helpers/pipelines';

const owners = {
  monitoring: 'mon@example.com',
  retraining: 'ml@example.com',
  inference: 'api@example.com',
  logging: 'logs@example.com',
};

function classification(over: Record<string, unknown> = {}): PipelineInput {
  return {
    name: 'churn',
    task: 'classification',
    source: { path: 'data/churn.csv' },
    label: 'churned',
    features: [
      { name: 'tenure', type: 'numeric' },
      { name: 'plan', type: 'categorical' },
    ],
    metrics: { primary: 'roc_auc' },
    owners,
    ...over,
  } as PipelineInput;
}

function regression(over: Record<string, unknown> = {}): PipelineInput {
  return classification({ name: 'prices', task: 'regression', label: 'price', metrics: { primary: 'rmse' }, ...over });
}

/** The InvalidInputError message for an input that must be rejected. */
function errorFor(input: unknown): string {
  try {
    parsePipeline(input, 'pipeline "test"');
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidInputError);
    return (err as Error).message;
  }
  throw new Error('expected the pipeline to be rejected');
}

describe('pipeline schema: defaults', () => {
  it('fills in every default of a minimal pipeline', () => {
    const p = definePipeline(classification());
    expect(p.holdout).toEqual({ fraction: 0.2, seed: 7 });
    expect(p.training).toEqual({
      command: ['$PYTHON', '$RETRAIN_HOME/training/train.py'],
      predictCommand: ['$PYTHON', '$RETRAIN_HOME/training/predict.py'],
      params: {},
      seed: 42,
      timeout: '2h',
      heartbeatTimeout: '60s',
      maxAttempts: 3,
    });
    expect(p.metrics).toEqual({ primary: 'roc_auc', others: [] });
    expect(p.gates).toEqual([]);
    expect(p.approval).toEqual({ mode: 'auto' });
    expect(p.validation).toEqual({ minRows: 50, maxNullShare: 0.05, maxDuplicateShare: 0.05, extraColumns: 'ignore' });
    expect(p.verification).toEqual({ sampleRows: 50 });
    expect(p.drift).toBeUndefined();
    expect(p.schedule).toBeUndefined();
  });

  it('fills defaults inside partially given sections', () => {
    const p = definePipeline(
      classification({
        holdout: { fraction: 0.3 },
        training: { params: { C: 1 }, timeout: '30m' },
        validation: { minRows: 10 },
        approval: { mode: 'manual', approvers: ['alice'] },
        drift: {},
      }),
    );
    expect(p.holdout).toEqual({ fraction: 0.3, seed: 7 });
    expect(p.training.timeout).toBe('30m');
    expect(p.training.maxAttempts).toBe(3);
    expect(p.training.params).toEqual({ C: 1 });
    expect(p.validation).toEqual({ minRows: 10, maxNullShare: 0.05, maxDuplicateShare: 0.05, extraColumns: 'ignore' });
    expect(p.approval).toEqual({ mode: 'manual', approvers: ['alice'], timeout: '24h', onTimeout: 'reject' });
    expect(p.drift).toEqual({
      window: '24h',
      minPredictions: 30,
      maxWindowRows: 1_000_000,
      partitioned: false,
      datasetDriftShare: 0.5,
      features: {},
      prediction: {},
      labelDelay: '0s',
      maxMetricRegression: 0.05,
      onEstimatedDrop: 'report',
      maxInvalidLineShare: 0.01,
      alertAfter: 1,
      cooldown: '0s',
      onDrift: 'alert',
    });
  });

  it('accepts drift.labelDelay as a duration', () => {
    expect(definePipeline(classification({ drift: { labelDelay: '45d' } })).drift!.labelDelay).toBe('45d');
    expect(definePipeline(classification({ drift: { labelDelay: '36h' } })).drift!.labelDelay).toBe('36h');
  });

  it('accepts a holdout given as a separate source', () => {
    const p = definePipeline(classification({ holdout: { source: { path: 'data/holdout.jsonl' } } }));
    expect(p.holdout).toEqual({ source: { path: 'data/holdout.jsonl' } });
  });

  it('accepts s3:// sources (one object or a prefix) and rejects malformed ones with the reason', () => {
    expect(definePipeline(classification({ source: { path: 's3://ml-data/churn/2026-11/' } })).source).toEqual({
      path: 's3://ml-data/churn/2026-11/',
    });
    expect(definePipeline(classification({ source: { path: 's3://ml-data/churn.csv' } })).source).toEqual({
      path: 's3://ml-data/churn.csv',
    });
    expect(() => parsePipeline(classification({ source: { path: 's3://ML_Data/churn.csv' } }), 'pipelines/churn.ts')).toThrow(
      /source\.path: "ML_Data" in s3:\/\/ML_Data\/churn\.csv is not a valid bucket name/,
    );
  });

  it('accepts regression metrics for a regression pipeline', () => {
    const p = definePipeline(regression({ metrics: { primary: 'rmse', others: ['mae', 'r2'] }, gates: [{ metric: 'rmse', max: 10 }] }));
    expect(p.task).toBe('regression');
    expect(p.metrics.others).toEqual(['mae', 'r2']);
  });

  it('infers the source format from the extension unless given', () => {
    expect(sourceFormat({ path: 'a.csv' })).toBe('csv');
    expect(sourceFormat({ path: 'a.jsonl' })).toBe('jsonl');
    expect(sourceFormat({ path: 'a.NDJSON' })).toBe('jsonl');
    expect(sourceFormat({ path: 'a.txt', format: 'jsonl' })).toBe('jsonl');
    expect(sourceFormat({ path: 'a.data' })).toBe('csv');
  });
});

describe('pipeline schema: errors name the field', () => {
  it('definePipeline throws InvalidInputError naming the pipeline', () => {
    let caught: unknown;
    try {
      definePipeline(classification({ metrics: { primary: 'rmse' } }));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InvalidInputError);
    const err = caught as InvalidInputError;
    expect(err.type).toBe('InvalidInput');
    expect(err.retryable).toBe(false);
    expect(err.context.step).toBe('load-pipeline');
    expect(err.message).toContain('pipeline "churn" is invalid');
  });

  it('rejects a classification metric as the primary metric of a regression pipeline, listing the allowed ones', () => {
    const message = errorFor(regression({ metrics: { primary: 'f1' } }));
    expect(message).toContain('metrics.primary');
    expect(message).toContain('"f1" is not a regression metric');
    expect(message).toContain('rmse, mae, r2');
  });

  it('rejects a wrong-task metric in metrics.others and in gates, naming each position', () => {
    const message = errorFor(
      classification({ metrics: { primary: 'roc_auc', others: ['accuracy', 'mae'] }, gates: [{ metric: 'r2', min: 0.5 }] }),
    );
    expect(message).toContain('metrics.others.1');
    expect(message).toContain('gates.0.metric');
    expect(message).toContain('accuracy, precision, recall, f1, roc_auc, log_loss');
  });

  it('rejects a metric name that does not exist', () => {
    expect(errorFor(classification({ metrics: { primary: 'auc' } }))).toContain('metrics.primary');
  });

  it('rejects a duplicate feature', () => {
    const message = errorFor(
      classification({
        features: [
          { name: 'tenure', type: 'numeric' },
          { name: 'tenure', type: 'categorical' },
        ],
      }),
    );
    expect(message).toContain('features.1.name');
    expect(message).toContain('duplicate feature "tenure"');
  });

  it('rejects the label used as a feature', () => {
    const message = errorFor(classification({ features: [{ name: 'churned', type: 'categorical' }] }));
    expect(message).toContain('features.0.name');
    expect(message).toContain('the label cannot also be a feature');
  });

  it('rejects an empty feature list', () => {
    expect(errorFor(classification({ features: [] }))).toMatch(/features: list at least one feature/);
  });

  it('rejects a gate with no rule', () => {
    const message = errorFor(classification({ gates: [{ metric: 'accuracy', min: 0.5 }, { metric: 'roc_auc' }] }));
    expect(message).toContain('gates.1');
    expect(message).toContain('a gate needs at least one of min, max or maxRegression');
  });

  it('rejects a negative maxRegression', () => {
    expect(errorFor(classification({ gates: [{ metric: 'roc_auc', maxRegression: -0.1 }] }))).toContain('gates.0.maxRegression');
  });

  it('rejects manual approval without approvers', () => {
    expect(errorFor(classification({ approval: { mode: 'manual', approvers: [] } }))).toMatch(
      /approval\.approvers: list at least one approver/,
    );
    expect(errorFor(classification({ approval: { mode: 'manual' } }))).toContain('approval.approvers');
  });

  it('rejects a duration written in words', () => {
    const message = errorFor(classification({ training: { timeout: '5 minutes' } }));
    expect(message).toContain('training.timeout');
    expect(message).toContain('expected a duration like');
  });

  it('rejects a drift.labelDelay that is not a duration', () => {
    const message = errorFor(classification({ drift: { labelDelay: '6 weeks' } }));
    expect(message).toContain('drift.labelDelay');
    expect(message).toContain('expected a duration like');
    expect(errorFor(classification({ drift: { labelDelay: -1 } }))).toContain('drift.labelDelay');
  });

  it('rejects an unknown top-level key (strict)', () => {
    const message = errorFor(classification({ lable: 'churned' }));
    expect(message).toContain('lable');
  });

  it('names each missing owner', () => {
    const message = errorFor(classification({ owners: { monitoring: 'a', retraining: 'b' } }));
    expect(message).toContain('owners.inference');
    expect(message).toContain('owners.logging');
    expect(message).not.toContain('owners.monitoring');
  });

  it('rejects an empty owner', () => {
    expect(errorFor(classification({ owners: { ...owners, logging: '' } }))).toContain('owners.logging');
  });

  it('requires owners at all', () => {
    const { owners: _owners, ...rest } = classification() as Record<string, unknown>;
    expect(errorFor(rest)).toContain('owners');
  });

  it('rejects a name that is not lowercase with dashes', () => {
    expect(errorFor(classification({ name: 'Churn_Model' }))).toMatch(/name: expected lowercase letters/);
  });

  it('rejects a holdout fraction outside (0, 1)', () => {
    expect(errorFor(classification({ holdout: { fraction: 1 } }))).toContain('holdout');
    expect(errorFor(classification({ holdout: { fraction: 0 } }))).toContain('holdout');
  });

  it('names the field inside a holdout of the wrong type, and what was expected', () => {
    expect(errorFor(classification({ holdout: { fraction: 'a quarter' } }))).toContain(
      'holdout.fraction: Invalid input: expected number, received string',
    );
    expect(errorFor(classification({ holdout: { source: { path: 5 } } }))).toContain(
      'holdout.source.path: Invalid input: expected string, received number',
    );
    expect(errorFor(classification({ holdout: { seed: 3 } }))).toContain(
      'holdout.fraction: Invalid input: expected number, received undefined',
    );
    // Neither form is closer: each says what it expected.
    expect(errorFor(classification({ holdout: {} }))).toMatch(/holdout: fits none of its forms: \(1\) fraction: .*; \(2\) source: /);
    expect(errorFor(classification({ holdout: 'a quarter' }))).toContain('holdout: Invalid input: expected object, received string');
    expect(errorFor(classification({ holdout: { fraction: 'a quarter' } }))).not.toContain('holdout: Invalid input');
  });

  it('rejects a training command given as a string', () => {
    expect(errorFor(classification({ training: { command: 'python train.py' } }))).toContain('training.command');
  });

  it('reports several problems at once', () => {
    const message = errorFor(classification({ name: 'Bad Name', training: { timeout: '5 minutes' }, owners: {} }));
    expect(message).toContain('name');
    expect(message).toContain('training.timeout');
    expect(message).toContain('owners.monitoring');
  });

  it('rejects input that is not an object', () => {
    expect(errorFor(null)).toContain('(root)');
  });
});

describe('pipeline schema: source windows', () => {
  const postgres = { kind: 'postgres', urlEnv: 'CHURN_DATABASE_URL', query: 'SELECT * FROM churn ORDER BY customer_id' };

  it('accepts a window on a file source and on a PostgreSQL source, with or without `last`', () => {
    const file = definePipeline(classification({ source: { path: 'data/churn.csv', window: { column: 'labelled_at', last: '90d' } } }));
    expect(file.source.window).toEqual({ column: 'labelled_at', last: '90d' });
    const pg = definePipeline(classification({ source: { ...postgres, window: { column: 'labelled_at' } } }));
    expect(pg.source.window).toEqual({ column: 'labelled_at' });
    expect(definePipeline(classification()).source.window).toBeUndefined();
  });

  it('names what is wrong inside a window', () => {
    const error = (window: unknown) => errorFor(classification({ source: { path: 'data/churn.csv', window } }));
    expect(error({})).toContain('source.window.column: name the timestamp column, e.g. column: "labelled_at"');
    expect(error({ column: '' })).toContain('source.window.column: name the timestamp column');
    expect(error({ column: 'labelled_at', last: '3 months' })).toContain('source.window.last: expected a duration like');
    expect(error({ column: 'labelled_at', last: '0d' })).toContain('source.window.last: a window of no time selects no rows');
    expect(error({ column: 'labelled_at', from: '2026-01-01' })).toMatch(/source\.window: Unrecognized key: "from"/);
    expect(error('labelled_at')).toContain('source.window: expected { column: "<timestamp column>", last?: "90d" }');
  });

  it('names what is wrong inside the window of a PostgreSQL source', () => {
    expect(errorFor(classification({ source: { ...postgres, window: { column: 'labelled_at', last: 90 } } }))).toContain(
      'source.window.last: Invalid input: expected string, received number',
    );
  });

  it('refuses the label as the window column', () => {
    expect(errorFor(classification({ source: { path: 'data/churn.csv', window: { column: 'churned' } } }))).toContain(
      'source.window.column: the label "churned" cannot be the window\'s timestamp column',
    );
  });

  it('refuses a window on a holdout source, saying why', () => {
    const message = errorFor(classification({ holdout: { source: { path: 'data/holdout.csv', window: { column: 'labelled_at' } } } }));
    expect(message).toContain('holdout.source.window: a holdout source takes no window: the holdout is fixed data');
  });

  it('refuses a window on drift.labels, saying why', () => {
    const message = errorFor(
      classification({ idColumn: 'id', drift: { labels: { path: 'labels.jsonl', window: { column: 'knownAt' } } } }),
    );
    expect(message).toContain('drift.labels.window: drift.labels takes no window');
  });
});

describe('pipeline schema: segments and budgets', () => {
  const base = { ...MINIMAL_PIPELINE, features: [...MINIMAL_PIPELINE.features, { name: 'plan', type: 'categorical' }] } as const;
  const issues = (input: object) => {
    const r = pipelineSchema.safeParse(input);
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('takes segment columns, a segment gate and budgets, with their defaults', () => {
    const p = pipelineSchema.parse({
      ...base,
      segments: ['plan', 'region'],
      segmentGate: { maxRegression: 0.02 },
      budgets: { maxCostPer1000: 0.5, maxLatencyP95Ms: 80, maxLatencyRatio: 1.5 },
    });
    expect(p.segments).toEqual(['plan', 'region']);
    expect(p.segmentGate).toEqual({ maxRegression: 0.02, minRows: 30 });
    expect(p.budgets).toEqual({ maxCostPer1000: 0.5, maxLatencyP95Ms: 80, maxLatencyRatio: 1.5 });
    expect(pipelineSchema.parse(base).segments).toEqual([]);
  });

  it('names what is wrong with segments and budgets', () => {
    expect(issues({ ...base, segmentGate: { maxRegression: 0.02 } })).toEqual([
      'segmentGate: a segment gate needs segments: name the segment columns, e.g. segments: ["plan"]',
    ]);
    expect(issues({ ...base, segments: ['x'] })).toEqual([
      'segments.0: "x" is a numeric feature: segments are categories (bucket it into a column of its own)',
    ]);
    expect(issues({ ...base, segments: ['y'] })).toEqual(['segments.0: the label cannot be a segment column']);
    expect(issues({ ...base, segments: ['plan', 'plan'] })).toEqual(['segments.1: duplicate segment "plan"']);
    expect(issues({ ...base, budgets: { maxCostPer1000: 0 } })[0]).toMatch(/^budgets\.maxCostPer1000: /);
    expect(issues({ ...base, budgets: { maxLatencyRatio: 0.5 } })[0]).toMatch(/^budgets\.maxLatencyRatio: /);
    expect(issues({ ...base, budgets: { p99: 3 } })[0]).toMatch(/p99/);
  });
});
