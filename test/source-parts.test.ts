import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../lib/errors';
import { combineParts, isDataPart } from '../lib/source-parts';

const part = (name: string, text: string) => ({ name, body: Buffer.from(text) });

describe('combineParts', () => {
  it('keeps one header and every row of CSV parts, in the given order', () => {
    const out = combineParts([part('p1', 'a,b\n1,2\n'), part('p2', 'a,b\n3,4'), part('p3', 'a,b\n')], 'csv', {});
    expect(out.toString()).toBe('a,b\n1,2\n3,4\n');
  });

  it('matches headers across a byte order mark and Windows line endings', () => {
    const out = combineParts([part('p1', '\uFEFFa,b\r\n1,2\r\n'), part('p2', 'a,b\r\n3,4\r\n')], 'csv', {});
    expect(out.toString()).toBe('\uFEFFa,b\r\n1,2\r\n3,4\r\n');
  });

  it('rejects parts whose columns differ, naming both parts', () => {
    let err: unknown;
    try {
      combineParts([part('s3://b/p1.csv', 'a,b\n1,2\n'), part('s3://b/p2.csv', 'b,a\n3,4\n')], 'csv', { model: 'churn', step: 'pull' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as InvalidInputError).message).toBe(
      'CSV part s3://b/p2.csv has header "b,a", but s3://b/p1.csv has "a,b": every part of a source needs the same columns in the same order',
    );
    expect((err as InvalidInputError).context).toEqual({ model: 'churn', step: 'pull' });
  });

  it('concatenates JSON lines, adding a missing final newline', () => {
    const out = combineParts([part('p1', '{"a":1}\n'), part('p2', ''), part('p3', '{"a":2}'), part('p4', '{"a":3}\n')], 'jsonl', {});
    expect(out.toString()).toBe('{"a":1}\n{"a":2}\n{"a":3}\n');
  });

  it('returns a single part unchanged (the same bytes as reading the object directly)', () => {
    const only = part('p', 'a,b\n1,2');
    expect(combineParts([only], 'csv', {})).toBe(only.body);
  });
});

describe('isDataPart', () => {
  it('skips directory markers and bookkeeping files', () => {
    expect(isDataPart('exports/part-0001.csv')).toBe(true);
    expect(isDataPart('exports/')).toBe(false);
    expect(isDataPart('exports/_SUCCESS')).toBe(false);
    expect(isDataPart('exports/.part-0001.csv.crc')).toBe(false);
  });
});
