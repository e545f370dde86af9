import { describe, it, expect } from 'vitest';
import { TrainingContractError } from '../lib/errors';
import { parsePredictions, parseTrainingResult, TRAIN_CONTRACT } from '../lib/training-contract';

const ctx = { model: 'churn', step: 'train' };

function contractError(fn: () => unknown): TrainingContractError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TrainingContractError);
    return err as TrainingContractError;
  }
  throw new Error('expected a TrainingContractError');
}

const result = (over: Record<string, unknown> = {}) =>
  JSON.stringify({
    contract: TRAIN_CONTRACT,
    artifacts: { model: 'model.joblib', 'feature-names': 'sub/features.json' },
    metrics: { train_accuracy: 0.93 },
    classes: ['no', 'yes'],
    libraryVersions: { 'scikit-learn': '1.5.0' },
    ...over,
  });

describe('parseTrainingResult', () => {
  it('accepts a good result', () => {
    expect(parseTrainingResult(result(), ctx)).toEqual({
      contract: TRAIN_CONTRACT,
      artifacts: { model: 'model.joblib', 'feature-names': 'sub/features.json' },
      metrics: { train_accuracy: 0.93 },
      classes: ['no', 'yes'],
      libraryVersions: { 'scikit-learn': '1.5.0' },
    });
  });

  it('fills defaults for a minimal result', () => {
    expect(parseTrainingResult('{"artifacts":{"model":"m.pkl"}}', ctx)).toEqual({
      artifacts: { model: 'm.pkl' },
      metrics: {},
      libraryVersions: {},
    });
  });

  it('rejects invalid JSON as a non-retryable contract violation with the context', () => {
    const err = contractError(() => parseTrainingResult('{"artifacts":', ctx));
    expect(err.message).toMatch(/^result\.json is not valid JSON: /);
    expect(err.type).toBe('TrainingContractViolation');
    expect(err.retryable).toBe(false);
    expect(err.context).toEqual(ctx);
  });

  it('rejects a result without a model artifact', () => {
    expect(contractError(() => parseTrainingResult(result({ artifacts: { weights: 'w.bin' } }), ctx)).message).toContain(
      'must name a "model" artifact',
    );
    expect(contractError(() => parseTrainingResult('{}', ctx)).message).toContain('artifacts');
  });

  it('rejects artifact paths that escape outputDir', () => {
    for (const path of ['../x', '/abs', 'sub/../../x', 'a\\..\\..\\x', '..']) {
      const err = contractError(() => parseTrainingResult(result({ artifacts: { model: path } }), ctx));
      expect(err.message, path).toContain('artifacts.model: must be a path inside outputDir');
    }
  });

  it('accepts paths that merely contain dots', () => {
    expect(parseTrainingResult(result({ artifacts: { model: './model..v2/x.pkl' } }), ctx).artifacts.model).toBe('./model..v2/x.pkl');
  });

  it('rejects artifact names with path characters, naming the key', () => {
    expect(contractError(() => parseTrainingResult(result({ artifacts: { model: 'm.pkl', 'a/b': 'x' } }), ctx)).message).toContain(
      'artifacts.a/b',
    );
  });

  it('rejects a wrong contract version, non-numeric metrics and a single class', () => {
    expect(contractError(() => parseTrainingResult(result({ contract: 'retrain.train/v2' }), ctx)).message).toContain('contract');
    expect(contractError(() => parseTrainingResult(result({ metrics: { acc: 'high' } }), ctx)).message).toContain('metrics.acc');
    expect(contractError(() => parseTrainingResult(result({ classes: ['only'] }), ctx)).message).toContain('classes');
  });
});

describe('parsePredictions', () => {
  const cls = (prediction: string, yes = 0.7) => JSON.stringify({ prediction, scores: { no: 1 - yes, yes } });

  it('accepts one classification line per input row, ignoring blank lines', () => {
    const text = [cls('yes'), '', cls('no', 0.2), ''].join('\n');
    expect(parsePredictions(text, 2, 'classification', ['no', 'yes'], ctx)).toEqual([
      { prediction: 'yes', scores: { no: 1 - 0.7, yes: 0.7 } },
      { prediction: 'no', scores: { no: 1 - 0.2, yes: 0.2 } },
    ]);
  });

  it('accepts numeric class labels that match the classes as text', () => {
    const text = JSON.stringify({ prediction: 1, scores: { '0': 0.1, '1': 0.9 } });
    expect(parsePredictions(text, 1, 'classification', ['0', '1'], ctx)[0].prediction).toBe(1);
  });

  it('accepts finite regression values without scores', () => {
    expect(parsePredictions('{"prediction":1.5}\n{"prediction":-2e3}\n', 2, 'regression', null, ctx)).toEqual([
      { prediction: 1.5 },
      { prediction: -2000 },
    ]);
  });

  it('rejects a count that does not match the input rows', () => {
    expect(contractError(() => parsePredictions(cls('yes'), 2, 'classification', ['no', 'yes'], ctx)).message).toBe(
      'predict wrote 1 predictions for 2 input rows',
    );
    expect(
      contractError(() => parsePredictions([cls('yes'), cls('no'), cls('no')].join('\n'), 2, 'classification', null, ctx)).message,
    ).toContain('wrote 3 predictions for 2');
  });

  it('rejects a class the model does not have, naming the line', () => {
    const text = [cls('yes'), cls('maybe')].join('\n');
    expect(contractError(() => parsePredictions(text, 2, 'classification', ['no', 'yes'], ctx)).message).toBe(
      'prediction line 2: "maybe" is not one of the model\'s classes (no, yes)',
    );
  });

  it('rejects classification output without scores', () => {
    expect(contractError(() => parsePredictions('{"prediction":"yes"}', 1, 'classification', ['no', 'yes'], ctx)).message).toBe(
      'prediction line 1: classification output needs "scores"',
    );
  });

  it('rejects a non-finite or non-numeric regression value', () => {
    // 1e999 parses to Infinity.
    expect(contractError(() => parsePredictions('{"prediction":1e999}', 1, 'regression', null, ctx)).message).toContain(
      'prediction line 1',
    );
    expect(contractError(() => parsePredictions('{"prediction":"NaN"}', 1, 'regression', null, ctx)).message).toBe(
      'prediction line 1: regression prediction must be a finite number',
    );
    expect(contractError(() => parsePredictions('{"prediction":NaN}', 1, 'regression', null, ctx)).message).toBe(
      'prediction line 1 is not valid JSON',
    );
  });

  it('rejects a line that is not JSON or lacks a prediction', () => {
    expect(contractError(() => parsePredictions('{"prediction":1}\nnot json', 2, 'regression', null, ctx)).message).toBe(
      'prediction line 2 is not valid JSON',
    );
    expect(contractError(() => parsePredictions('{"value":1}', 1, 'regression', null, ctx)).message).toContain('prediction line 1');
  });
});
