import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../lib/split';
import { parseTable, toCsv, type Table } from '../lib/table';
import { validateDataset, type ChampionClasses } from '../lib/validate-dataset';
import { validateData } from '../services/datasets';
import { testPipeline } from './helpers/pipelines';

/*
 * Validation straight from a CSV's bytes (lib/validate-csv-cells.ts, what validateSnapshot runs on
 * CSV) must give the report the row reader gives (validateDataset on the parsed table), problems,
 * counts and the rows they name included.
 */

/** A generated dataset for the churn pipeline: every defect validation looks for, some of the time. */
function generated(seed: number, rows: number): Table {
  const random = mulberry32(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
  const chance = (p: number) => random() < p;
  const messy = chance(0.5);
  const columns = ['customer_id', 'tenure_months', 'monthly_spend', 'support_tickets', 'plan', 'churned', 'note'];
  if (chance(0.15)) columns.splice(columns.indexOf(pick(['tenure_months', 'plan', 'churned'])), 1);
  const cell: Record<string, (i: number) => string | null> = {
    customer_id: (i) => (messy && chance(0.02) ? pick([null, ' ', `c${i - 1}`]) : `c${i}`),
    tenure_months: () => (messy && chance(0.05) ? pick([null, 'NaN', 'NA', 'x', ' 3 ', '1e3', '-0']) : String(Math.floor(random() * 72))),
    monthly_spend: () => (messy && chance(0.05) ? pick([null, 'n/a', 'abc', '12,5', '١٢']) : (random() * 200).toFixed(2)),
    support_tickets: () => String(Math.floor(random() * 5)),
    plan: () => (messy && chance(0.05) ? pick([null, 'Pro ', 'pro, annual', 'équipe', '"q"']) : pick(['basic', 'pro', 'team'])),
    churned: () => (messy && chance(0.03) ? pick([null, ' ', 'maybe', '1']) : pick(['yes', 'no'])),
    note: () => pick([null, 'x', 'line\nbreak', '😀']),
  };
  const body = Array.from({ length: rows }, (_, i) => columns.map((c) => cell[c]!(i)));
  // Whole duplicate rows, sometimes.
  if (messy && rows > 2) for (let k = 0; k < 3; k++) body[Math.floor(random() * rows)] = [...body[0]!];
  return { columns, rows: body };
}

describe('validation from CSV bytes', () => {
  it('gives the row reader’s report on 300 generated datasets, with and without an id column and a champion', async () => {
    const codes = new Set<string>();
    for (let seed = 1; seed <= 300; seed++) {
      const table = generated(seed, 1 + (seed % 97));
      const csv = Buffer.from(toCsv(table));
      const withId = seed % 3 !== 0;
      // Sometimes the id is a feature too: one data column checked as two used columns.
      const idAsFeature = withId && seed % 5 === 0;
      const base = testPipeline({ name: 'churn', ...(withId ? {} : { idColumn: undefined }) });
      const pipeline = idAsFeature
        ? { ...base, features: [...base.features, { name: 'customer_id', type: 'categorical' as const }] }
        : base;
      const champion: ChampionClasses | null = seed % 4 === 0 ? { version: 'v1', classes: ['no', 'yes'] } : null;
      // The parsed CSV, not the generated table: empty cells read as missing either way.
      const expected = validateDataset(parseTable(csv, 'csv', 'gen.csv'), pipeline, champion);
      const actual = await validateData(csv, 'csv', 'gen.csv', pipeline, async () => champion);
      expect(actual, `seed ${seed}`).toEqual(expected);
      for (const p of actual.problems) codes.add(p.code);
    }
    // The datasets are not all clean: the comparison covers the problems.
    expect([...codes].sort()).toEqual(
      expect.arrayContaining(['missing_column', 'missing_id', 'missing_label', 'new_label_class', 'too_many_duplicates', 'wrong_type']),
    );
  });

  it('counts distinct values up to its limit, then only what still counts (blank ids), as the row reader does', async () => {
    const rows = 100_010;
    const table: Table = {
      columns: ['customer_id', 'tenure_months', 'monthly_spend', 'support_tickets', 'plan', 'churned'],
      rows: Array.from({ length: rows }, (_, i) => [i === rows - 3 ? ' ' : `c${i}`, '1', '2.5', '0', `p${i}`, i % 2 ? 'yes' : 'no']),
    };
    const csv = Buffer.from(toCsv(table));
    const pipeline = testPipeline({ name: 'churn' });
    const expected = validateDataset(parseTable(csv, 'csv', 'gen.csv'), pipeline);
    const actual = await validateData(csv, 'csv', 'gen.csv', pipeline, async () => null);
    expect(actual).toEqual(expected);
    expect(actual.problems.map((p) => p.code)).toEqual(['missing_id']);
    expect(actual.notes.join(' ')).toMatch(/more than 100000 distinct/);
  });
});
