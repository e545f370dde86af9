import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import type { CategoricalColumn, Columns, FeatureSpec } from '../../lib/drift/dataset-drift';
import { buildDriftReport, type DriftCheckReport } from '../../lib/drift/report';
import { STATTEST_KINDS, STATTEST_NAMES, type StattestName } from '../../lib/drift/stattests';
import { InvalidInputError } from '../../lib/errors';
import { isMissingMarker, numericValue, parseTable, type Table } from '../../lib/table';
import { formatNumber, renderDriftReportHtml } from '../../reports/html-report';
import { parseCommandArgs } from '../args';
import { output } from '../format';

export const usage = () => `drift-report --reference A.csv --current B.csv [--json] [--html out.html] [--method NAME] [--columns a,b,c] [--drift-share 0.5]

Compares two data files (.csv, or .jsonl/.ndjson JSON lines) column by column; no Temporal server needed.

  --reference FILE   the data the model was trained on (or any baseline)
  --current FILE     the data to check
  --json             print the full report as JSON (.features and .datasetDrift at the top level)
  --html FILE        also write a self-contained HTML report with a plot per feature
  --method NAME      one drift test for every column: ${STATTEST_NAMES.join(', ')}
                     (ks and wasserstein take numeric columns only); default: chosen per column
  --columns a,b,c    test only these columns (default: every column in both files)
  --drift-share X    dataset drift when at least this share of columns drifted (default 0.5)

Column kinds: a column is numeric when every non-empty reference cell is a finite number
(NaN, NA, null and empty cells count as missing) and the reference has more than 2 distinct
values; otherwise it is categorical. A text column whose reference values are all distinct
(an id) is skipped unless --columns names it.`;

const schema = z.object({
  positionals: z.array(z.string()).max(0, 'takes no positional arguments: use --reference FILE --current FILE'),
  reference: z.string({ error: 'required: --reference FILE (.csv or .jsonl)' }).min(1),
  current: z.string({ error: 'required: --current FILE (.csv or .jsonl)' }).min(1),
  json: z.boolean().default(false),
  html: z.string().min(1).optional(),
  method: z.enum(STATTEST_NAMES, { error: `unknown drift test; use one of ${STATTEST_NAMES.join(', ')}` }).optional(),
  columns: z
    .string()
    .transform((s) => s.split(',').map((c) => c.trim()).filter(Boolean))
    .pipe(z.array(z.string()).min(1, 'name at least one column, e.g. --columns age,plan'))
    .optional(),
  'drift-share': z.coerce.number().min(0, 'a share between 0 and 1').max(1, 'a share between 0 and 1').default(0.5),
});

const FLAGS = {
  reference: { type: 'string' },
  current: { type: 'string' },
  json: { type: 'boolean' },
  html: { type: 'string' },
  method: { type: 'string' },
  columns: { type: 'string' },
  'drift-share': { type: 'string' },
} as const;

/** Reference values of a text column all distinct, on at least this many rows: an id, not a feature. */
const ID_MIN_ROWS = 20;

interface LoadedFile {
  path: string;
  table: Table;
  sha256: string;
}

async function loadFile(which: 'reference' | 'current', path: string): Promise<LoadedFile> {
  let body: Buffer;
  try {
    body = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
    throw new InvalidInputError(`--${which} ${path}: ${why}`, { step: 'cli' });
  }
  const format = /\.(jsonl|ndjson)$/i.test(path) ? 'jsonl' : 'csv';
  const table = parseTable(body, format, `--${which} ${path}`);
  if (table.columns.length === 0) throw new InvalidInputError(`--${which} ${path} is empty: expected a header row and data`, { step: 'cli' });
  if (table.rows.length === 0) throw new InvalidInputError(`--${which} ${path} has a header but no rows`, { step: 'cli' });
  return { path, table, sha256: createHash('sha256').update(body).digest('hex') };
}

function cellsOf(table: Table, column: string): (string | null)[] {
  const i = table.columns.indexOf(column);
  return table.rows.map((r) => r[i] ?? null);
}

/** The documented rule: every non-missing reference cell numeric, and more than 2 distinct values. */
function inferKind(reference: (string | null)[]): 'numeric' | 'categorical' {
  const distinct = new Set<number>();
  for (const cell of reference) {
    if (isMissingMarker(cell)) continue;
    const n = numericValue(cell);
    if (n === null) return 'categorical';
    distinct.add(n);
  }
  return distinct.size > 2 ? 'numeric' : 'categorical';
}

function looksLikeId(reference: (string | null)[]): boolean {
  const values = reference.filter((c): c is string => c !== null);
  return values.length >= ID_MIN_ROWS && new Set(values).size === values.length;
}

/** Numeric column: missing markers become NaN; anything else unparseable is counted so we can warn. */
function numericColumn(cells: (string | null)[]): { column: Float64Array; invalid: string[] } {
  const column = new Float64Array(cells.length);
  const invalid: string[] = [];
  cells.forEach((cell, i) => {
    const n = isMissingMarker(cell) ? null : numericValue(cell);
    if (n === null && !isMissingMarker(cell)) invalid.push(cell as string);
    column[i] = n ?? NaN;
  });
  return { column, invalid };
}

interface Plan {
  features: FeatureSpec[];
  reference: Record<string, Float64Array | CategoricalColumn>;
  current: Record<string, Float64Array | CategoricalColumn>;
  skipped: { name: string; reason: string }[];
  onlyInReference: string[];
  onlyInCurrent: string[];
  warnings: string[];
}

/** Which columns to test, of which kind, with which test; the columns as detectDrift takes them. */
function planColumns(ref: LoadedFile, cur: LoadedFile, args: z.infer<typeof schema>): Plan {
  const curSet = new Set(cur.table.columns);
  const refSet = new Set(ref.table.columns);
  const common = ref.table.columns.filter((c) => curSet.has(c));
  const plan: Plan = {
    features: [],
    reference: {},
    current: {},
    skipped: [],
    onlyInReference: ref.table.columns.filter((c) => !curSet.has(c)),
    onlyInCurrent: cur.table.columns.filter((c) => !refSet.has(c)),
    warnings: [],
  };
  if (common.length === 0) {
    throw new InvalidInputError(
      `${ref.path} and ${cur.path} have no column in common (reference: ${ref.table.columns.slice(0, 8).join(', ')}; current: ${cur.table.columns.slice(0, 8).join(', ')})`,
      { step: 'cli' },
    );
  }
  let chosen = common;
  if (args.columns) {
    const missing = args.columns.filter((c) => !refSet.has(c) || !curSet.has(c));
    if (missing.length) {
      throw new InvalidInputError(`--columns: ${missing.join(', ')} not in both files; columns in both: ${common.join(', ')}`, { step: 'cli' });
    }
    chosen = [...new Set(args.columns)];
  }
  for (const name of chosen) {
    const refCells = cellsOf(ref.table, name);
    const curCells = cellsOf(cur.table, name);
    const kind = inferKind(refCells);
    if (kind === 'categorical' && !args.columns && looksLikeId(refCells)) {
      plan.skipped.push({ name, reason: 'every reference value is distinct (an id?); name it in --columns to test it' });
      continue;
    }
    if (kind === 'numeric') {
      plan.reference[name] = numericColumn(refCells).column;
      const { column, invalid } = numericColumn(curCells);
      plan.current[name] = column;
      if (invalid.length) {
        plan.warnings.push(`${name}: ${invalid.length} non-numeric cell(s) in ${cur.path} (e.g. ${JSON.stringify(invalid[0])}) counted as missing`);
      }
    } else {
      plan.reference[name] = refCells;
      plan.current[name] = curCells;
    }
    plan.features.push({ name, kind, ...(args.method ? { method: args.method } : {}) });
  }
  if (plan.features.length === 0) {
    throw new InvalidInputError(`no columns left to test (skipped: ${plan.skipped.map((s) => s.name).join(', ')}); name them with --columns`, { step: 'cli' });
  }
  if (args.method) checkMethodFits(args.method, plan.features);
  return plan;
}

function checkMethodFits(method: StattestName, features: FeatureSpec[]): void {
  const misfits = features.filter((f) => !STATTEST_KINDS[method].includes(f.kind));
  if (misfits.length === 0) return;
  const kinds = [...new Set(misfits.map((f) => f.kind))];
  const fitting = STATTEST_NAMES.filter((m) => kinds.every((k) => STATTEST_KINDS[m].includes(k)));
  throw new InvalidInputError(
    `--method ${method} takes ${STATTEST_KINDS[method].join(' or ')} columns only, but ${misfits.map((f) => f.name).join(', ')} ${misfits.length === 1 ? 'is' : 'are'} ${kinds.join('/')}: ` +
      `leave them out with --columns, or use one of ${fitting.join(', ')}`,
    { step: 'cli' },
  );
}

/** Writes to a temporary file beside the target, then renames: a reader never sees half a page. */
async function writeAtomically(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  try {
    await writeFile(tmp, text);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

function humanReport(r: DriftCheckReport, plan: Plan, args: z.infer<typeof schema>, htmlPath: string | null): string {
  const rows = r.dataDrift.features.map((f) => [f.name, f.kind, f.method, formatNumber(f.statistic), formatNumber(f.pValue), formatNumber(f.threshold), f.drifted ? 'DRIFTED' : 'ok']);
  const head = ['feature', 'kind', 'method', 'statistic', 'p-value', 'threshold', 'drifted'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => '  ' + cells.map((c, i) => (i >= 3 && i <= 5 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  const d = r.dataDrift.datasetDrift;
  const out = [
    `Drift: reference ${r.reference.label} (${r.reference.rows} rows) vs current ${r.current.label} (${r.current.rows} rows)`,
    '',
    line(head),
    ...rows.map(line),
    '',
    `Dataset drift: ${d.drifted ? 'YES' : 'no'} (${d.driftedCount} of ${d.featureCount} columns drifted, ${Math.round(d.share * 100)}%; threshold ${Math.round(d.threshold * 100)}%)`,
    r.summary,
  ];
  for (const f of r.dataDrift.features) if (f.note) out.push(`  note: ${f.name}: ${f.note}`);
  for (const w of plan.warnings) out.push(`  warning: ${w}`);
  for (const s of plan.skipped) out.push(`  skipped ${s.name}: ${s.reason}`);
  if (plan.onlyInReference.length) out.push(`  only in the reference (not tested): ${plan.onlyInReference.join(', ')}`);
  if (plan.onlyInCurrent.length) out.push(`  only in the current file (not tested): ${plan.onlyInCurrent.join(', ')}`);
  out.push('');
  if (htmlPath) out.push(`HTML report: ${htmlPath} (open it in a browser; it works offline)`);
  else out.push(`Next: npx retrain drift-report --reference ${args.reference} --current ${args.current} --html drift-report.html   (a plot per column)`);
  return out.join('\n');
}

/** Drift between two data files: a JSON or text report, and optionally a self-contained HTML page. */
export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs('drift-report', argv, FLAGS, schema);
  const [ref, cur] = await Promise.all([loadFile('reference', args.reference), loadFile('current', args.current)]);
  const plan = planColumns(ref, cur, args);
  const report = buildDriftReport({
    model: null,
    version: null,
    // The same two files always get the same id.
    checkId: `files-${createHash('sha256').update(`${ref.sha256}:${cur.sha256}`).digest('hex').slice(0, 12)}`,
    createdAt: new Date().toISOString(),
    reference: { label: ref.path, columns: plan.reference as Columns, rows: ref.table.rows.length },
    current: { label: cur.path, columns: plan.current as Columns, rows: cur.table.rows.length },
    features: plan.features,
    datasetDriftShare: args['drift-share'],
  });
  const htmlPath = args.html ? resolve(args.html) : null;
  if (htmlPath) {
    await writeAtomically(htmlPath, renderDriftReportHtml(report));
    // stdout stays pure JSON under --json; the location goes to stderr.
    if (args.json) process.stderr.write(`HTML report: ${htmlPath}\n`);
  }
  const data = {
    ...report,
    // Aliases of dataDrift.features / dataDrift.datasetDrift, so `jq .features` works.
    features: report.dataDrift.features,
    datasetDrift: report.dataDrift.datasetDrift,
    columns: {
      tested: plan.features.map((f) => ({ name: f.name, kind: f.kind })),
      skipped: plan.skipped,
      onlyInReference: plan.onlyInReference,
      onlyInCurrent: plan.onlyInCurrent,
    },
    warnings: plan.warnings,
    html: htmlPath,
  };
  output(args.json, data, () => humanReport(report, plan, args, htmlPath));
  return 0;
}
