import { describe, expect, it } from 'vitest';
import { durationToMs } from '../lib/duration';
import { parsePipeline } from '../lib/pipeline';
import { testPipeline } from './helpers/pipelines';

describe('durations', () => {
  it('read every unit a pipeline may use', () => {
    const cases: [string, number][] = [
      ['0s', 0],
      ['500ms', 500],
      ['1.5s', 1_500],
      ['90s', 90_000],
      ['15m', 900_000],
      ['0.5h', 1_800_000],
      ['1d', 86_400_000],
    ];
    for (const [text, ms] of cases) expect(durationToMs(text), text).toBe(ms);
  });

  it('refuse anything else, in code and in a pipeline definition', () => {
    for (const d of ['', '2', 'h', '2 h', '2hours', '-1s', '1w', '1.s']) {
      expect(() => durationToMs(d), d).toThrow('not a duration');
      const pipeline = { ...testPipeline({ name: 'churn' }), training: { ...testPipeline({ name: 'churn' }).training, timeout: d } };
      expect(() => parsePipeline(pipeline, 'test'), d).toThrow(/training\.timeout.*expected a duration like/s);
    }
  });
});
