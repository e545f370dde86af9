import { describe, expect, it } from 'vitest';
import { InvalidInputError, type ErrorContext } from '../lib/errors';
import { isDataPart, joinParts, type SourcePart } from '../lib/source-parts';

const part = (name: string, text: string) => ({ name, body: Buffer.from(text) });

/** The parts joined, each streamed in chunks of three bytes (so headers and line breaks span chunks). */
async function combineParts(parts: SourcePart[], format: 'csv' | 'jsonl' | 'parquet', context: ErrorContext): Promise<Buffer> {
  const streamed = parts.map((p) => ({
    name: p.name,
    size: p.body.length,
    chunks: async function* () {
      for (let i = 0; i < p.body.length; i += 3) yield await Promise.resolve(p.body.subarray(i, i + 3));
    },
  }));
  const out: Uint8Array[] = [];
  for await (const chunk of joinParts(streamed, format, context)) out.push(chunk);
  return Buffer.concat(out);
}

describe('joinParts', () => {
  it('keeps one header and every row of CSV parts, in the given order', async () => {
    const out = await combineParts([part('p1', 'a,b\n1,2\n'), part('p2', 'a,b\n3,4'), part('p3', 'a,b\n')], 'csv', {});
    expect(out.toString()).toBe('a,b\n1,2\n3,4\n');
  });

  it('matches headers across a byte order mark and Windows line endings', async () => {
    const out = await combineParts([part('p1', '\uFEFFa,b\r\n1,2\r\n'), part('p2', 'a,b\r\n3,4\r\n')], 'csv', {});
    expect(out.toString()).toBe('\uFEFFa,b\r\n1,2\r\n3,4\r\n');
  });

  it('rejects parts whose columns differ, naming both parts', async () => {
    let err: unknown;
    try {
      await combineParts([part('s3://b/p1.csv', 'a,b\n1,2\n'), part('s3://b/p2.csv', 'b,a\n3,4\n')], 'csv', {
        model: 'churn',
        step: 'pull',
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as InvalidInputError).message).toBe(
      'CSV part s3://b/p2.csv has header "b,a", but s3://b/p1.csv has "a,b": every part of a source needs the same columns in the same order',
    );
    expect((err as InvalidInputError).context).toEqual({ model: 'churn', step: 'pull' });
  });

  it('concatenates JSON lines, adding a missing final newline', async () => {
    const out = await combineParts([part('p1', '{"a":1}\n'), part('p2', ''), part('p3', '{"a":2}'), part('p4', '{"a":3}\n')], 'jsonl', {});
    expect(out.toString()).toBe('{"a":1}\n{"a":2}\n{"a":3}\n');
  });

  it('returns a single part unchanged (the same bytes as reading the object directly)', async () => {
    const only = part('p', 'a,b\n1,2');
    expect(await combineParts([only], 'csv', {})).toEqual(only.body);
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
