import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../lib/errors';
import { memoryAsyncBuffer, parquetRowBatches } from '../lib/parquet-table';
import { joinParts } from '../lib/source-parts';
import { mulberry32 } from '../lib/split';
import { parseTable, readTable } from '../lib/table';
import { textRowBatches, type RowBatch } from '../lib/table-stream';
import { rowBatches } from '../services/dataset-rows';
import { runPyarrow } from './helpers/pyarrow';
import { chunksOf, collectBatches, collectRows, outcomeOf } from './helpers/row-batches';
import { tempDir } from './helpers/runs';

const enc = (text: string) => Buffer.from(text);
/** The text in pieces of `size` bytes. */
const pieces = (body: Uint8Array, size: number) => chunksOf(body, () => size);

describe('textRowBatches: JSON lines', () => {
  it('adds a column when a line first gives its key, keeping the positions of the earlier ones', async () => {
    const lines = ['{"a":1,"b":"x"}\n', '{"b":"y","c":true}\n', '{"d":null,"a":2.5,"e":{"n":[1,2]}}\n'];
    const batches = await collectBatches(textRowBatches(lines.map(enc), 'jsonl', 'data.jsonl'));
    expect(batches).toEqual([
      { columns: ['a', 'b'], rows: [['1', 'x']] },
      { columns: ['a', 'b', 'c'], rows: [[null, 'y', 'true']] },
      { columns: ['a', 'b', 'c', 'd', 'e'], rows: [['2.5', null, null, null, '{"n":[1,2]}']] },
    ]);
  });

  it('gives rows as wide as the columns known when they were read: the rest are missing', async () => {
    const text = '{"a":"1"}\n{"a":"2","b":""}\n{"c":3}\n';
    const [batch] = await collectBatches(textRowBatches([enc(text)], 'jsonl', 'data.jsonl'));
    expect(batch).toEqual({ columns: ['a', 'b', 'c'], rows: [['1'], ['2', null], [null, null, '3']] });
    expect(await collectRows(textRowBatches([enc(text)], 'jsonl', 'data.jsonl'))).toEqual(parseTable(text, 'jsonl', 'data.jsonl'));
  });

  it('skips blank lines, strips a byte order mark and reads \\r\\n line ends and a last line without a break', async () => {
    const text = '\uFEFF\n   \n{"a":1}\r\n\r\n\t\n{"a":2}';
    for (const size of [1, 2, 5, 1000]) {
      const table = await collectRows(textRowBatches(pieces(enc(text), size), 'jsonl', 'data.jsonl'));
      expect(table, `pieces of ${size}`).toEqual({ columns: ['a'], rows: [['1'], ['2']] });
    }
    expect(parseTable(text, 'jsonl', 'data.jsonl')).toEqual({ columns: ['a'], rows: [['1'], ['2']] });
  });

  it.each([
    ['not JSON', '{"a":1}\n\n  \n{"a":\n{"a":3}\n', 'data.jsonl: line 4 is not valid JSON'],
    ['not an object', '{"a":1}\n[1,2]\n', 'data.jsonl: line 2 is not a JSON object'],
    ['a bare value', '{"a":1}\r\n\r\n"text"\r\n', 'data.jsonl: line 3 is not a JSON object'],
    ['a key twice', '{"a":1}\n{"a":1,"b":2,"a":3}\n', 'data.jsonl: line 2 gives the key "a" twice: remove one'],
    [
      'nested too deep',
      `{"a":1}\n{"a":${'['.repeat(120)}${']'.repeat(120)}}\n`,
      'data.jsonl: line 2 nests arrays or objects 121 levels deep',
    ],
    ['a bad last line without a break', '{"a":1}\n\n{"a"', 'data.jsonl: line 3 is not valid JSON'],
  ])('names the line of %s, counting blank lines, as parseTable does', async (_what, text, message) => {
    const expected = await outcomeOf(() => parseTable(text, 'jsonl', 'data.jsonl'));
    expect(expected).toMatchObject({ error: { type: 'InvalidInputError', message: expect.stringContaining(message) } });
    for (const size of [1, 3, 7, 10_000]) {
      const actual = await outcomeOf(() => collectRows(textRowBatches(pieces(enc(text), size), 'jsonl', 'data.jsonl')));
      expect(actual, `pieces of ${size}`).toEqual(expected);
    }
  });

  it('reads 500 generated files in chunks of every size as parseTable does', async () => {
    const KEYS = ['id', 'name', 'score', 'tags', 'é', '日本', '2', '10', 'flag'];
    const VALUES: unknown[] = [
      1,
      -2.5,
      1e21,
      0,
      true,
      false,
      null,
      '',
      'x',
      'a, "b"',
      'line\nbreak',
      'tab\there',
      '😀',
      { n: [1, { m: null }] },
      [1, 'two'],
    ];
    for (let seed = 1; seed <= 500; seed++) {
      const rand = mulberry32(seed);
      const int = (n: number) => Math.floor(rand() * n);
      const eol = rand() < 0.5 ? '\n' : '\r\n';
      const lines: string[] = [];
      for (let r = int(30); r > 0; r--) {
        if (rand() < 0.1) lines.push(rand() < 0.5 ? '' : '  ');
        const object: Record<string, unknown> = {};
        for (const key of KEYS) if (rand() < 0.4) object[key] = VALUES[int(VALUES.length)];
        lines.push(JSON.stringify(object, null, rand() < 0.2 ? 0 : undefined));
      }
      const text = (rand() < 0.2 ? '\uFEFF' : '') + lines.join(eol) + (rand() < 0.7 ? eol : '');
      const bytes = enc(text);
      const sizeRand = mulberry32(seed * 31);
      const size = seed % 3 === 0 ? () => 1 : seed % 3 === 1 ? () => 1 + int(9) : () => 1 + Math.floor(sizeRand() * bytes.length);
      const batches = await collectBatches(textRowBatches(chunksOf(bytes, size), 'jsonl', 'gen.jsonl'));
      const about = `seed ${seed}: ${JSON.stringify(text)}`;
      // Batches with no rows only when there is nothing else to give.
      if (batches.length > 1)
        expect(
          batches.every((b) => b.rows.length > 0),
          about,
        ).toBe(true);
      expect(await collectRows(batchesOf(batches)), about).toEqual(parseTable(bytes, 'jsonl', 'gen.jsonl'));
    }
  });
});

/** Batches already read, as a stream again. */
async function* batchesOf(batches: RowBatch[]): AsyncGenerator<RowBatch> {
  for (const b of batches) yield await Promise.resolve(b);
}

describe('textRowBatches: CSV', () => {
  it('gives the header as columns and reads rows in batches as pieces complete them', async () => {
    const batches = await collectBatches(textRowBatches(['a, b \n1,', 'x\n2,y\n3', ',z'].map(enc), 'csv', 'data.csv'));
    expect(batches).toEqual([
      {
        columns: ['a', 'b'],
        rows: [
          ['1', 'x'],
          ['2', 'y'],
        ],
      },
      { columns: ['a', 'b'], rows: [['3', 'z']] },
    ]);
  });

  it('gives a header-only file as one batch of columns and no rows, however it is cut', async () => {
    for (const size of [1, 2, 100]) {
      expect(await collectBatches(textRowBatches(pieces(enc('id,value\r\n'), size), 'csv', 'data.csv'))).toEqual([
        { columns: ['id', 'value'], rows: [] },
      ]);
    }
  });
});

describe('textRowBatches: empty input', () => {
  it.each(['csv', 'jsonl'] as const)('yields one batch with no columns and no rows for empty %s', async (format) => {
    for (const chunks of [
      [],
      [Buffer.alloc(0)],
      [Buffer.alloc(0), Buffer.alloc(0)],
      [Buffer.from([0xef, 0xbb, 0xbf])],
      [enc('\n\n'), enc('\r\n')],
    ]) {
      expect(await collectBatches(textRowBatches(chunks, format, 'empty'))).toEqual([{ columns: [], rows: [] }]);
    }
  });
});

describe('textRowBatches: text encodings', () => {
  /** `text` with one byte 0xFF put in at `at` (a byte that is never UTF-8). */
  const withBadByte = (text: string, at: number) => Buffer.concat([enc(text.slice(0, at)), Buffer.from([0xff]), enc(text.slice(at))]);
  const lineOf = (message: string) => /not valid UTF-8 at line (\d+)/.exec(message)?.[1];

  it.each(['csv', 'jsonl'] as const)('names the line of a byte that is not UTF-8 in %s, in pieces of any size', async (format) => {
    const text =
      format === 'csv'
        ? 'id,name\n1,café\n2,"two\nlines"\n\n3,日本\n4,x\n'
        : '{"id":1,"name":"café"}\n\n{"id":2,"name":"日本"}\n{"id":3,"name":"x"}\n';
    const at = text.lastIndexOf('x');
    const body = withBadByte(text, at);
    const expected = await outcomeOf(() => parseTable(body, format, 'bad'));
    expect(expected).toMatchObject({ error: { type: 'InvalidInputError' } });
    const line = lineOf((expected as { error: { message: string } }).error.message);
    expect(line).toBe(String(text.slice(0, at).split('\n').length));
    for (const size of [1, 2, 3, 5, 8, 13, 10_000]) {
      const actual = await outcomeOf(() => collectRows(textRowBatches(pieces(body, size), format, 'bad')));
      expect(actual, `pieces of ${size}`).toEqual({
        error: {
          type: 'InvalidInputError',
          message: `bad: not valid UTF-8 at line ${line}: byte 0xFF; save the file as UTF-8 (or, in a pipeline's source, declare encoding: 'latin1')`,
        },
      });
    }
  });

  // BUG (lib/table-stream.ts, textDecoder's catch): the bad byte is looked for with
  // firstInvalidUtf8(chunk) from the chunk's first byte. When the chunk starts with the rest of a
  // character the previous chunk cut (its continuation bytes, which the decoder completes), that
  // scan stops at byte 0, so the error names the line the chunk starts on and a byte that is
  // valid, not the line of the bad byte.
  it('names the line of a bad byte when a character before it is cut between pieces', async () => {
    const text = 'a,b\nx,café\n1,2\n3,x\n';
    const body = withBadByte(text, text.lastIndexOf('x'));
    const cut = body.indexOf(0xa9); // the second byte of "é"
    const actual = await outcomeOf(() => collectRows(textRowBatches([body.subarray(0, cut), body.subarray(cut)], 'csv', 'bad')));
    expect(actual).toEqual({
      error: {
        type: 'InvalidInputError',
        message: `bad: not valid UTF-8 at line 4: byte 0xFF; save the file as UTF-8 (or, in a pipeline's source, declare encoding: 'latin1')`,
      },
    });
  });

  it('names the last line for a character cut short by the end of the data', async () => {
    const body = Buffer.concat([enc('a,b\n1,2\n3,caf'), Buffer.from([0xc3])]);
    expect(lineOf(((await outcomeOf(() => parseTable(body, 'csv', 'bad'))) as { error: { message: string } }).error.message)).toBe('3');
    for (const size of [1, 4, 100]) {
      expect(await outcomeOf(() => collectRows(textRowBatches(pieces(body, size), 'csv', 'bad')))).toEqual({
        error: {
          type: 'InvalidInputError',
          message: `bad: not valid UTF-8 at line 3: an unfinished character at the end; save the file as UTF-8 (or, in a pipeline's source, declare encoding: 'latin1')`,
        },
      });
    }
  });

  it('reads latin1 as windows-1252, byte by byte, as parseTable does', async () => {
    // "café", "€5", “quoted”, and 0x81, which windows-1252 leaves undefined (kept as U+0081).
    const csv = Buffer.concat([
      enc('name,price\ncaf'),
      Buffer.from([0xe9]),
      enc(','),
      Buffer.from([0x80]),
      enc('5\n'),
      Buffer.from([0x93]),
      enc('q'),
      Buffer.from([0x94, 0x81]),
      enc(',1\n'),
    ]);
    const expected = {
      columns: ['name', 'price'],
      rows: [
        ['café', '€5'],
        ['“q”\u0081', '1'],
      ],
    };
    expect(parseTable(csv, 'csv', 'latin.csv', 'latin1')).toEqual(expected);
    for (const size of [1, 2, 1000])
      expect(await collectRows(textRowBatches(pieces(csv, size), 'csv', 'latin.csv', 'latin1'))).toEqual(expected);
    const jsonl = Buffer.concat([enc('{"name":"caf'), Buffer.from([0xe9]), enc('"}\n{"name":"'), Buffer.from([0x80]), enc('"}\n')]);
    expect(await collectRows(textRowBatches(pieces(jsonl, 1), 'jsonl', 'latin.jsonl', 'latin1'))).toEqual(
      parseTable(jsonl, 'jsonl', 'latin.jsonl', 'latin1'),
    );
    expect(parseTable(jsonl, 'jsonl', 'latin.jsonl', 'latin1').rows).toEqual([['café'], ['€']]);
  });

  it('reads an async stream of chunks, such as a file stream, as it reads an array of them', async () => {
    const text = 'a,b\n1,"x\ny"\n2,日本\n';
    const stream = Readable.from(pieces(enc(text), 2));
    expect(await collectRows(textRowBatches(stream, 'csv', 'data.csv'))).toEqual(parseTable(text, 'csv', 'data.csv'));
  });

  it('fails with InvalidInputError for broken CSV, as parseTable does', async () => {
    await expect(collectRows(textRowBatches([enc('a,b\n1,2,3\n')], 'csv', 'data.csv'))).rejects.toThrow(InvalidInputError);
  });
});

/** Writes Parquet test files with pyarrow; prints the number of row groups of groups.parquet. */
const WRITER = String.raw`
import sys, os, datetime as dt
import pyarrow as pa, pyarrow.parquet as pq
out, n = sys.argv[1], 200

def row(i):
    return {
        "id": f"r{i:04d}",
        "count": None if i % 13 == 3 else i * 7 - 500,
        "amount": None if i % 17 == 5 else i / 8 - 3.3,
        "plan": None if i % 19 == 4 else ["basic", "pro", "café", "日本"][i % 4],
        "ok": i % 3 == 0,
        "at": None if i % 23 == 7 else dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(hours=i * 5),
        "day": dt.date(2025, 1, 1) + dt.timedelta(days=i),
        "note": "" if i % 11 == 0 else f"note, \"{i}\"\n",
    }

schema = pa.schema([
    ("id", pa.string()),
    ("count", pa.int64()),
    ("amount", pa.float64()),
    ("plan", pa.dictionary(pa.int32(), pa.string())),
    ("ok", pa.bool_()),
    ("at", pa.timestamp("ms", tz="UTC")),
    ("day", pa.date32()),
    ("note", pa.string()),
])

def table(lo, hi):
    rows = [row(i) for i in range(lo, hi)]
    return pa.table({f.name: pa.array([r[f.name] for r in rows], type=f.type) for f in schema}, schema=schema)

pq.write_table(table(0, n), os.path.join(out, "groups.parquet"), row_group_size=37)
# One row group larger than a read slice (65,536 rows), in pages of 8 KiB: slices start mid-group and mid-page.
big = pa.table({f.name: pa.array([row(i)[f.name] for i in range(150_000)], type=f.type) for f in schema}, schema=schema)
pq.write_table(big, os.path.join(out, "big-group.parquet"), row_group_size=150_000, data_page_size=8192)
pq.write_table(table(0, n), os.path.join(out, "one-group.parquet"), compression="zstd")
pq.write_table(table(0, 0), os.path.join(out, "empty.parquet"))
pq.write_table(table(0, 120), os.path.join(out, "part-0.parquet"), row_group_size=50)
pq.write_table(table(120, n), os.path.join(out, "part-1.parquet"), row_group_size=50)
pq.write_table(table(120, n).drop_columns(["note"]), os.path.join(out, "part-narrow.parquet"))
print(pq.ParquetFile(os.path.join(out, "groups.parquet")).metadata.num_row_groups)
`;

describe('parquetRowBatches on files pyarrow wrote', () => {
  let dir: string;
  let rowGroups: number;
  const file = (name: string) => readFileSync(join(dir, name));

  beforeAll(() => {
    dir = tempDir('table-stream');
    rowGroups = Number(runPyarrow(WRITER, dir).trim());
  });

  /** A multi-part source, as the pull step joins it. */
  async function joined(names: string[]): Promise<Buffer> {
    const parts = names.map((name) => ({ name, size: file(name).length, chunks: () => [file(name)] }));
    const out: Uint8Array[] = [];
    for await (const chunk of joinParts(parts, 'parquet', { model: 'pq', step: 'pull' })) out.push(chunk);
    return Buffer.concat(out);
  }

  it('reads a row group larger than a slice, across slice and page boundaries, as readTable does', async () => {
    const body = file('big-group.parquet');
    const whole = await readTable(body, 'parquet', 'big-group.parquet');
    expect(whole.rows).toHaveLength(150_000);
    const batches = await collectBatches(parquetRowBatches(memoryAsyncBuffer(body), 'big-group.parquet'));
    expect(Math.max(...batches.map((b) => b.rows.length))).toBeLessThan(150_000);
    expect(await collectRows(batchesOf(batches))).toEqual(whole);
  });

  it('reads a file of several row groups one group per batch, with the rows readTable gives', async () => {
    const body = file('groups.parquet');
    const whole = await readTable(body, 'parquet', 'groups.parquet');
    expect(whole.columns).toEqual(['id', 'count', 'amount', 'plan', 'ok', 'at', 'day', 'note']);
    expect(whole.rows).toHaveLength(200);
    expect(whole.rows[1]).toEqual([
      'r0001',
      '-493',
      String(1 / 8 - 3.3),
      'pro',
      'false',
      '2026-01-01T05:00:00.000Z',
      '2025-01-02T00:00:00.000Z',
      'note, "1"\n',
    ]);
    expect(whole.rows[3]![1]).toBeNull();
    expect(whole.rows[0]![7]).toBeNull();

    const batches = await collectBatches(parquetRowBatches(memoryAsyncBuffer(body), 'groups.parquet'));
    expect(rowGroups).toBe(6);
    expect(batches.map((b) => b.rows.length)).toEqual([37, 37, 37, 37, 37, 15]);
    expect(batches.every((b) => b.columns.join() === whole.columns.join())).toBe(true);
    expect(await collectRows(batchesOf(batches))).toEqual(whole);
  });

  it('reads a one-group zstd file, and bytes that are a view into a larger buffer', async () => {
    const body = file('one-group.parquet');
    const whole = await readTable(body, 'parquet', 'one-group.parquet');
    expect(await collectRows(parquetRowBatches(memoryAsyncBuffer(body), 'one-group.parquet'))).toEqual(whole);
    const padded = Buffer.concat([Buffer.from('junk before'), body, Buffer.from('junk after')]);
    const view = padded.subarray(11, 11 + body.length);
    expect(await collectRows(parquetRowBatches(memoryAsyncBuffer(view), 'view'))).toEqual(whole);
  });

  it('reads a file on disk and bytes in memory alike through rowBatches', async () => {
    const path = join(dir, 'groups.parquet');
    const whole = await readTable(file('groups.parquet'), 'parquet', 'groups.parquet');
    expect(await collectRows(rowBatches({ path }, 'parquet', 'groups.parquet'))).toEqual(whole);
    expect(await collectRows(rowBatches({ body: file('groups.parquet') }, 'parquet', 'groups.parquet'))).toEqual(whole);
  });

  it('gives a file without rows as one batch with its columns', async () => {
    expect(await collectBatches(parquetRowBatches(memoryAsyncBuffer(file('empty.parquet')), 'empty.parquet'))).toEqual([
      { columns: ['id', 'count', 'amount', 'plan', 'ok', 'at', 'day', 'note'], rows: [] },
    ]);
  });

  it('reads the parts of a multi-part source in order, as readTable does', async () => {
    const body = await joined(['part-0.parquet', 'part-1.parquet']);
    const whole = await readTable(body, 'parquet', 'parts');
    expect(whole).toEqual(await readTable(file('groups.parquet'), 'parquet', 'groups.parquet'));
    const batches = await collectBatches(parquetRowBatches(memoryAsyncBuffer(body), 'parts'));
    expect(batches.map((b) => b.rows.length)).toEqual([50, 50, 20, 50, 30]);
    expect(await collectRows(batchesOf(batches))).toEqual(whole);
  });

  it('fails parts with different columns, naming the part', async () => {
    const body = await joined(['part-0.parquet', 'part-narrow.parquet']);
    const failure = await outcomeOf(() => collectRows(parquetRowBatches(memoryAsyncBuffer(body), 'parts')));
    expect(failure).toMatchObject({
      error: {
        type: 'InvalidInputError',
        message: expect.stringMatching(
          /^parts \(part 2 of 2\): has columns \[.*\], but part 1 has .*: every part of a source needs the same columns/,
        ),
      },
    });
  });

  it('fails bytes that are not Parquet, or are damaged, with InvalidInputError naming the source', async () => {
    const notParquet = await outcomeOf(() => collectRows(parquetRowBatches(memoryAsyncBuffer(enc('a,b\n1,2\n')), 'x.parquet')));
    expect(notParquet).toEqual({
      error: { type: 'InvalidInputError', message: 'x.parquet: not a Parquet file (a Parquet file starts and ends with "PAR1")' },
    });
    const damaged = Buffer.concat([Buffer.from('PAR1'), Buffer.alloc(40, 7), Buffer.from('PAR1')]);
    const read = await outcomeOf(() => collectRows(parquetRowBatches(memoryAsyncBuffer(damaged), 'damaged.parquet')));
    expect(read).toMatchObject({
      error: { type: 'InvalidInputError', message: expect.stringMatching(/^damaged\.parquet: not a readable Parquet file: /) },
    });
    const cut = file('groups.parquet').subarray(0, 500);
    expect(await outcomeOf(() => collectRows(parquetRowBatches(memoryAsyncBuffer(cut), 'cut.parquet')))).toMatchObject({
      error: { type: 'InvalidInputError', message: expect.stringMatching(/^cut\.parquet: not a Parquet file/) },
    });
    writeFileSync(join(dir, 'fake.parquet'), 'id\n1\n');
    await expect(collectRows(rowBatches({ path: join(dir, 'fake.parquet') }, 'parquet', 'fake.parquet'))).rejects.toThrow(
      InvalidInputError,
    );
  });
});
