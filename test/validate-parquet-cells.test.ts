import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseParquet } from '../lib/parquet-table';
import { validateDataset, type ChampionClasses } from '../lib/validate-dataset';
import { validateData } from '../services/datasets';
import { testPipeline } from './helpers/pipelines';
import { runPyarrow } from './helpers/pyarrow';
import { tempDir } from './helpers/runs';

/*
 * Validation from a Parquet source's decoded columns (lib/validate-parquet-cells.ts, what
 * validateSnapshot runs on Parquet) must give the report the row reader gives (validateDataset on
 * the whole file read as text), on files pyarrow wrote with every kind of value validation meets.
 */

const WRITER = String.raw`
import sys, os, math, random
import pyarrow as pa, pyarrow.parquet as pq
out = sys.argv[1]
for seed in range(12):
    rnd = random.Random(seed)
    n = 50 + seed * 37
    messy = seed % 2 == 1
    def pick(xs): return xs[rnd.randrange(len(xs))]
    ids = [f"c{i}" if not (messy and rnd.random() < 0.03) else pick([None, "", f"c{max(0, i - 1)}"]) for i in range(n)]
    tenure = [None if messy and rnd.random() < 0.05 else rnd.randrange(72) for _ in range(n)]
    spend = [pick([float("nan"), float("inf"), -0.0, 1e21, None]) if messy and rnd.random() < 0.08 else rnd.random() * 200 for _ in range(n)]
    tickets = [rnd.randrange(5) for _ in range(n)]
    plan = [pick([None, "", "Pro ", "équipe"]) if messy and rnd.random() < 0.05 else pick(["basic", "pro", "team"]) for _ in range(n)]
    churned = [pick([None, " ", "maybe"]) if messy and rnd.random() < 0.04 else pick(["yes", "no"]) for _ in range(n)]
    cols = {
        "customer_id": pa.array(ids, type=pa.string()),
        "tenure_months": pa.array(tenure, type=pa.int64()),
        "monthly_spend": pa.array(spend, type=pa.float64()),
        "support_tickets": pa.array(tickets, type=pa.int32()) if seed % 3 else pa.array([str(t) if not (messy and i == 3) else "x" for i, t in enumerate(tickets)], type=pa.string()),
        "plan": pa.array(plan, type=pa.dictionary(pa.int32(), pa.string())) if seed % 4 == 0 else pa.array(plan, type=pa.string()),
        "churned": pa.array(churned, type=pa.string()),
        "flag": pa.array([rnd.random() < 0.5 for _ in range(n)], type=pa.bool_()),
    }
    if seed % 5 == 4:
        del cols["tenure_months"]
    t = pa.table(cols)
    if messy and n > 3:
        t = pa.concat_tables([t, t.slice(0, 2)])
    pq.write_table(t, os.path.join(out, f"data-{seed}.parquet"), row_group_size=max(7, n // 3))
`;

let dir: string;
beforeAll(() => {
  dir = tempDir('validate-parquet');
  runPyarrow(WRITER, dir);
});

describe('validation from Parquet columns', () => {
  it('gives the row reader’s report on generated files, with and without an id column and a champion', async () => {
    const codes = new Set<string>();
    for (let seed = 0; seed < 12; seed++) {
      const body = readFileSync(join(dir, `data-${seed}.parquet`));
      const table = await parseParquet(body, 'gen.parquet');
      for (const withId of [true, false]) {
        const pipeline = testPipeline({ name: 'churn', source: { path: 'gen.parquet' }, ...(withId ? {} : { idColumn: undefined }) });
        const champion: ChampionClasses | null = seed % 3 === 0 ? { version: 'v1', classes: ['no', 'yes'] } : null;
        const expected = validateDataset(table, pipeline, champion);
        const actual = await validateData(body, 'parquet', 'gen.parquet', pipeline, async () => champion);
        expect(actual, `seed ${seed}, ${withId ? 'with' : 'without'} id`).toEqual(expected);
        for (const p of actual.problems) codes.add(p.code);
      }
    }
    expect([...codes]).toEqual(
      expect.arrayContaining(['missing_column', 'missing_id', 'missing_label', 'too_many_duplicates', 'wrong_type']),
    );
  });
});
