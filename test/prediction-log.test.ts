import { describe, expect, it } from 'vitest';
import {
  parsePredictionLine,
  partitionsOverlapping,
  predictionLineSchema,
  safeParsePredictionLine,
  servingSummary,
  validatePredictionLine,
} from '../lib/prediction-log';

const valid = {
  id: 'p-1',
  timestamp: '2024-05-01T10:15:02.123Z',
  model: 'churn',
  version: 'v1dba9190025c',
  features: { tenure_months: 3, plan: 'basic', region: null },
  prediction: 'yes',
  score: 0.81,
  scores: { no: 0.19, yes: 0.81 },
  latencyMs: 12.5,
  cost: 0.0002,
};

function errorOf(value: unknown): string {
  const parsed = safeParsePredictionLine(JSON.stringify(value), 'predictions/churn/2024-05-01/10/b.jsonl:7');
  if (parsed.ok) throw new Error('expected an invalid line');
  return parsed.error;
}

describe('prediction line schema', () => {
  it('accepts a full line and one with only the required fields', () => {
    expect(parsePredictionLine(JSON.stringify(valid), 'x')).toEqual(valid);
    const { score: _s, scores: _ss, cost: _c, ...required } = valid;
    expect(
      parsePredictionLine(JSON.stringify({ ...required, timestamp: '2024-05-01T12:15:02+02:00', prediction: 3.5 }), 'x').prediction,
    ).toBe(3.5);
  });

  it('names the file, the line and the field that is wrong', () => {
    const { id: _id, ...noId } = valid;
    expect(errorOf(noId)).toMatch(/^predictions\/churn\/2024-05-01\/10\/b\.jsonl:7: .*\bid: /);
    expect(errorOf({ ...valid, id: '' })).toMatch(/\bid: /);
    expect(errorOf({ ...valid, features: { ...valid.features, age: true } })).toMatch(/features\.age: /);
    expect(errorOf({ ...valid, latencyMs: -1 })).toMatch(/latencyMs: /);
    expect(errorOf({ ...valid, cost: -0.5 })).toMatch(/cost: /);
    expect(errorOf({ ...valid, timestamp: 'yesterday' })).toMatch(/timestamp: /);
    expect(errorOf({ ...valid, timestamp: '2024-05-01T10:15:02' })).toMatch(/timestamp: /); // no zone: ambiguous
    expect(errorOf({ ...valid, scores: { yes: 'high' } })).toMatch(/scores\.yes: /);
    expect(errorOf({ ...valid, prediction: null })).toMatch(/prediction: /);
  });

  it('takes what the product did (action) and a small context, and says what is wrong with them', () => {
    const line = { ...valid, action: 'offered discount 20%', context: { rule: 'churn score > 0.7', arm: 'B' } };
    expect(parsePredictionLine(JSON.stringify(line), 'x')).toEqual(line);
    expect(errorOf({ ...valid, action: '' })).toMatch(/action: /);
    expect(errorOf({ ...valid, action: 'x'.repeat(501) })).toMatch(/action: at most 500 characters/);
    expect(errorOf({ ...valid, context: { blob: 'x'.repeat(3000) } })).toMatch(/context: at most 2048 bytes as JSON/);
    expect(errorOf({ ...valid, context: 'vip' })).toMatch(/context: /);
  });

  it('is strict: an unknown field is an error that names it', () => {
    expect(errorOf({ ...valid, extra: 1 })).toMatch(/extra/);
  });

  it('says when a line is not JSON, and parsePredictionLine throws the same message', () => {
    expect(safeParsePredictionLine('{"id": ', 'f.jsonl:3')).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^f\.jsonl:3: not valid JSON/),
    });
    expect(() => parsePredictionLine('{"id": 1}', 'f.jsonl:4')).toThrow(/f\.jsonl:4: invalid prediction line: .*id: /);
  });
});

describe('prediction line validation without the schema (the common case)', () => {
  // validatePredictionLine skips the schema for lines it can tell are valid: it must accept
  // exactly what the schema accepts, return what the schema returns, and leave every error to it.
  const { features, scores, ...rest } = valid;
  const cases: [string, unknown][] = [
    ['the full line', valid],
    ['only the required fields', { ...rest, score: undefined, scores: undefined, cost: undefined }],
    [
      'a numeric prediction and no optional fields',
      { id: 'x', timestamp: valid.timestamp, model: 'm', version: 'v', features: {}, prediction: 3.5, latencyMs: 0 },
    ],
    ['an offset timestamp', { ...valid, timestamp: '2024-05-01T10:15:02+02:00' }],
    ['a timestamp without seconds', { ...valid, timestamp: '2024-05-01T10:15Z' }],
    ['February 30th', { ...valid, timestamp: '2024-02-30T10:15:02Z' }],
    ['February 29th of a leap year', { ...valid, timestamp: '2024-02-29T10:15:02Z' }],
    ['February 29th of another year', { ...valid, timestamp: '2023-02-29T10:15:02Z' }],
    ['hour 24', { ...valid, timestamp: '2024-05-01T24:00:00Z' }],
    ['a date only', { ...valid, timestamp: '2024-05-01' }],
    ['an empty id', { ...valid, id: '' }],
    ['a numeric id', { ...valid, id: 7 }],
    ['an empty version', { ...valid, version: '' }],
    ['a missing model', { ...valid, model: undefined }],
    ['a negative latency', { ...valid, latencyMs: -1 }],
    ['a text latency', { ...valid, latencyMs: '12' }],
    ['a negative cost', { ...valid, cost: -0.1 }],
    ['a null cost', { ...valid, cost: null }],
    ['a text score', { ...valid, score: '0.8' }],
    ['a text in scores', { ...valid, scores: { ...scores, yes: 'high' } }],
    ['scores as an array', { ...valid, scores: [0.2, 0.8] }],
    ['a null prediction', { ...valid, prediction: null }],
    ['a boolean prediction', { ...valid, prediction: true }],
    ['an object feature', { ...valid, features: { ...features, nested: { a: 1 } } }],
    ['a boolean feature', { ...valid, features: { ...features, flag: true } }],
    ['features as an array', { ...valid, features: [1, 2] }],
    ['null features', { ...valid, features: null }],
    ['an unknown field', { ...valid, extra: 1 }],
    ['an action', { ...valid, action: 'offered discount 20%' }],
    ['an empty action', { ...valid, action: '' }],
    ['an action of 500 characters', { ...valid, action: 'x'.repeat(500) }],
    ['an action of 501 characters', { ...valid, action: 'x'.repeat(501) }],
    ['a numeric action', { ...valid, action: 20 }],
    ['a context', { ...valid, action: 'routed to manual review', context: { rule: 'score>0.8', arm: 'B', limits: [1, 2] } }],
    ['a context too large', { ...valid, context: { blob: 'x'.repeat(3000) } }],
    ['a context that is an array', { ...valid, context: [1] }],
    ['a nested context', { ...valid, context: { rule: { a: 1 } } }],
    ['an array', [valid]],
    ['null', null],
    ['a number', 42],
  ];
  const fromJson = (value: unknown) => JSON.parse(JSON.stringify(value));
  for (const [what, value] of cases) {
    it(`agrees with the schema on ${what}`, () => {
      const line = fromJson(value);
      const ours = validatePredictionLine(line, 'f:1');
      const schema = predictionLineSchema.safeParse(line);
      expect(ours.ok).toBe(schema.success);
      if (ours.ok) expect(ours.line).toEqual(schema.data);
    });
  }
  it('leaves a line that is not a plain object to the schema, and returns what the schema returns', () => {
    const inherited = Object.assign(Object.create({ id: 'p-inherited' }) as object, { ...valid, id: undefined });
    delete (inherited as { id?: string }).id;
    const ours = validatePredictionLine(inherited, 'f:1');
    const schema = predictionLineSchema.safeParse(inherited);
    expect(ours.ok).toBe(schema.success);
    if (ours.ok) expect(JSON.parse(JSON.stringify(ours.line))).toEqual(JSON.parse(JSON.stringify(schema.data)));
  });

  it('agrees with the schema on "__proto__" keys, at the top and in features and scores', () => {
    for (const text of [
      JSON.stringify(valid).replace('{"id"', '{"__proto__":{"x":1},"id"'),
      JSON.stringify(valid).replace('"features":{', '"features":{"__proto__":3,'),
      JSON.stringify(valid).replace('"scores":{', '"scores":{"__proto__":0.5,'),
    ]) {
      const line = JSON.parse(text);
      const ours = validatePredictionLine(line, 'f:1');
      const schema = predictionLineSchema.safeParse(line);
      expect(ours.ok).toBe(schema.success);
      if (ours.ok) expect(JSON.stringify(ours.line)).toBe(JSON.stringify(schema.data));
    }
  });
});

describe('servingSummary', () => {
  it('computes volume, nearest-rank latency percentiles and cost per version', () => {
    const line = (version: string, latencyMs: number, cost?: number) => ({ version, latencyMs, ...(cost === undefined ? {} : { cost }) });
    const summary = servingSummary([line('vA', 30, 2), line('vB', 5), line('vA', 10, 1), line('vA', 40, 3), line('vA', 20)]);
    expect(summary).toEqual([
      // sorted 10 20 30 40: p50 = rank ceil(2) = 20, p95 = rank ceil(3.8) = 40; cost over the 3 lines that had one
      {
        version: 'vA',
        predictions: 4,
        latencyMs: { mean: 25, p50: 20, p95: 40, max: 40 },
        cost: { total: 6, perPrediction: 2, counted: 3 },
      },
      {
        version: 'vB',
        predictions: 1,
        latencyMs: { mean: 5, p50: 5, p95: 5, max: 5 },
        cost: { total: 0, perPrediction: null, counted: 0 },
      },
    ]);
  });

  it('takes the 95th percentile of 1..20 at rank 19 (nearest rank, no interpolation)', () => {
    const lines = Array.from({ length: 20 }, (_, i) => ({ version: 'v', latencyMs: 20 - i }));
    expect(servingSummary(lines)[0].latencyMs).toEqual({ mean: 10.5, p50: 10, p95: 19, max: 20 });
  });

  it('is empty for no lines', () => {
    expect(servingSummary([])).toEqual([]);
  });
});

describe('partitionsOverlapping', () => {
  it('lists the hours at the ragged ends and whole UTC days once', () => {
    expect(partitionsOverlapping(new Date('2024-05-01T22:30:00Z'), new Date('2024-05-03T01:00:00Z'))).toEqual([
      '2024-05-01T22',
      '2024-05-01T23',
      '2024-05-02',
      '2024-05-03T00',
    ]);
    expect(partitionsOverlapping(new Date('2024-05-01T10:00:00Z'), new Date('2024-05-01T10:00:00.001Z'))).toEqual(['2024-05-01T10']);
    expect(partitionsOverlapping(new Date('2024-05-01T10:00:00Z'), new Date('2024-05-01T10:00:00Z'))).toEqual([]);
  });
});
