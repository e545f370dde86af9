import { describe, expect, it } from 'vitest';
import { parsePredictionLine, partitionsOverlapping, safeParsePredictionLine, servingSummary } from '../lib/prediction-log';

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
