import { createHash } from 'node:crypto';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { memoryStorage, type ColumnStorage } from '../../lib/column-storage';
import { driftColumn, inferKind, looksLikeId, numericColumn } from '../../lib/drift/column-kinds';
import { prepareCounted, type DriftColumn, type FeatureSpec } from '../../lib/drift/dataset-drift';
import { buildDriftReportOf, testFeature, type DriftCheckReport, type TestedFeature } from '../../lib/drift/report';
import { STATTEST_KINDS, STATTEST_NAMES, type StattestName } from '../../lib/drift/stattest-names';
import { InvalidInputError } from '../../lib/errors';
import type { FeatureKind } from '../../lib/feature-kind';
import { shellQuote } from '../../lib/shell-quote';
import { ColumnFiles } from '../../services/column-files';
import { readCells, readFileColumns, type FileColumns } from '../../services/file-columns';
import { formatNumber, renderDriftReportHtml } from '../../reports/html-report';
import { defineCommand, type Args, type Flags } from '../command';
import { jsonFlag } from '../common-args';
import { output } from '../format';

const flags = {
  reference: {
    type: 'string',
    schema: z.string({ error: 'required: --reference FILE (.csv or .jsonl)' }).min(1),
    placeholder: 'FILE',
    description: 'the data the model was trained on, or any baseline',
  },
  current: {
    type: 'string',
    schema: z.string({ error: 'required: --current FILE (.csv or .jsonl)' }).min(1),
    placeholder: 'FILE',
    description: 'the data to check',
  },
  json: { ...jsonFlag, description: 'print the full report as JSON (.features and .datasetDrift at the top level)' },
  html: {
    type: 'string',
    schema: z.string().min(1).optional(),
    placeholder: 'FILE',
    description: 'also write a self-contained HTML report with a plot per feature',
  },
  method: {
    type: 'string',
    schema: z.enum(STATTEST_NAMES, { error: `unknown drift test; use one of ${STATTEST_NAMES.join(', ')}` }).optional(),
    placeholder: 'NAME',
    description: `one drift test for every column: ${STATTEST_NAMES.join(', ')}\n(${numericOnlyTests().join(' and ')} take numeric columns only)`,
    shownDefault: 'chosen per column',
  },
  columns: {
    type: 'string',
    schema: z
      .string()
      .transform((s) =>
        s
          .split(',')
          .map((c) => c.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.string()).min(1, 'name at least one column, e.g. --columns age,plan'))
      .optional(),
    placeholder: 'a,b,c',
    description: 'test only these columns',
    shownDefault: 'every column in both files',
  },
  'min-effect': {
    type: 'string',
    schema: z.coerce.number().min(0, 'an effect size of 0 or more').optional(),
    placeholder: 'X',
    description:
      "for ks, chisquare and z: the smallest effect that counts as drift however small the p-value\n(KS statistic, Cohen's w, Cohen's h; 0 turns the floor off)",
    shownDefault: 'ks 0.1, chisquare 0.1, z 0.2',
  },
  'drift-share': {
    type: 'string',
    schema: z.coerce.number().min(0, 'a share between 0 and 1').max(1, 'a share between 0 and 1'),
    placeholder: 'X',
    default: 0.5,
    description: 'dataset drift when at least this share of columns drifted',
  },
  'min-rows': {
    type: 'string',
    schema: z.coerce.number().int('a whole number of rows').min(1, 'at least 1 row'),
    placeholder: 'N',
    default: 30,
    description: 'fewest rows each file needs for a verdict; with fewer, the report says "not enough data" and tests nothing',
  },
} satisfies Flags;

/** Drift between two data files: a JSON or text report, and optionally a self-contained HTML page. */
export const driftReportCommand = defineCommand({
  name: 'drift-report',
  summary: 'drift between two data files (no server)',
  details: `Compares two data files (.csv, or .jsonl/.ndjson JSON lines) column by column; no Temporal server needed.

Column kinds: a column is numeric when every non-empty reference cell is a finite number
(NaN, NA, null and empty cells count as missing) and it is not a flag or a constant (at most 2
distinct values on 3 or more cells); otherwise it is categorical. One or two values never make
numbers categorical. A text column whose reference values are all distinct (an id) is skipped
unless --columns names it.

Not enough data: when either file has fewer rows than --min-rows (30 by default), no test
runs and the verdict is "not enough data" (JSON: "verdict": "not enough data", "drifted":
null), never drift or no drift; the exit code is 0.`,
  flags,
  examples: [
    'retrain drift-report --reference train.csv --current last-week.jsonl',
    'retrain drift-report --reference train.csv --current today.csv --html drift.html --columns age,plan',
    'retrain drift-report --reference a.csv --current b.csv --json --method psi | jq .datasetDrift',
  ],
  run: driftReport,
});

function numericOnlyTests(): StattestName[] {
  return STATTEST_NAMES.filter((m) => STATTEST_KINDS[m].length === 1 && STATTEST_KINDS[m][0] === 'numeric');
}

/** The reference columns' kinds, for reading the current file (id-like columns left out unless named). */
function referenceKinds(ref: FileColumns, named: string[] | undefined): Map<string, FeatureKind> {
  const kinds = new Map<string, FeatureKind>();
  for (const [name, collector] of ref.collectors) {
    if (named && !named.includes(name)) continue;
    const kind = collector.inferredKind();
    if (!named && kind === 'categorical' && collector.looksLikeId()) continue;
    kinds.set(name, kind);
  }
  return kinds;
}

/** A column to test: its spec, and its cells when they had to be read again (see ColumnCollector.needsCells). */
interface PlannedFeature {
  spec: FeatureSpec;
  cells: { reference: (string | null)[]; current: (string | null)[] } | null;
}

interface Plan {
  features: PlannedFeature[];
  skipped: { name: string; reason: string }[];
  onlyInReference: string[];
  onlyInCurrent: string[];
  warnings: string[];
}

/** What the user chose: only these columns, one test for all. */
interface ColumnChoice {
  columns?: string[];
  method?: StattestName;
  minEffect?: number;
}

/** Which columns to test, of which kind, with which test. */
async function planColumns(ref: FileColumns, cur: FileColumns, args: ColumnChoice): Promise<Plan> {
  const curSet = new Set(cur.columns);
  const refSet = new Set(ref.columns);
  const common = ref.columns.filter((c) => curSet.has(c));
  const plan: Plan = {
    features: [],
    skipped: [],
    onlyInReference: ref.columns.filter((c) => !curSet.has(c)),
    onlyInCurrent: cur.columns.filter((c) => !refSet.has(c)),
    warnings: [],
  };
  if (common.length === 0) {
    throw new InvalidInputError(
      `${ref.path} and ${cur.path} have no column in common (reference: ${ref.columns.slice(0, 8).join(', ')}; current: ${cur.columns.slice(0, 8).join(', ')})`,
      { step: 'cli' },
    );
  }
  let chosen = common;
  if (args.columns) {
    const missing = args.columns.filter((c) => !refSet.has(c) || !curSet.has(c));
    if (missing.length) {
      throw new InvalidInputError(`--columns: ${missing.join(', ')} not in both files; columns in both: ${common.join(', ')}`, {
        step: 'cli',
      });
    }
    chosen = [...new Set(args.columns)];
  }
  // Reference columns that must be read again as cells (see ColumnCollector.needsCells).
  const reread = chosen.filter((name) => ref.collectors.get(name)!.needsCells);
  const refCells = reread.length ? await readCells(ref, reread) : new Map<string, (string | null)[]>();
  const curCells = reread.length ? await readCells(cur, reread) : new Map<string, (string | null)[]>();
  for (const name of chosen) {
    const collector = ref.collectors.get(name)!;
    const cells = refCells.get(name);
    const kind = cells ? inferKind(cells) : collector.inferredKind();
    if (kind === 'categorical' && !args.columns && (cells ? looksLikeId(cells) : collector.looksLikeId())) {
      plan.skipped.push({ name, reason: 'every reference value is distinct (an id?); name it in --columns to test it' });
      collector.release();
      cur.collectors.get(name)?.release();
      continue;
    }
    const spec: FeatureSpec = {
      name,
      kind,
      ...(args.method ? { method: args.method } : {}),
      ...(args.minEffect !== undefined ? { minEffect: args.minEffect } : {}),
    };
    const both = cells ? { reference: cells, current: curCells.get(name)! } : null;
    if (kind === 'numeric') {
      const invalid = both ? numericColumn(both.current).invalid : null;
      const { count, examples } = invalid ? { count: invalid.length, examples: invalid } : cur.collectors.get(name)!.invalidCells();
      if (count) {
        plan.warnings.push(`${name}: ${count} non-numeric cell(s) in ${cur.path} (e.g. ${JSON.stringify(examples[0])}) counted as missing`);
      }
    }
    plan.features.push({ spec, cells: both });
  }
  if (plan.features.length === 0) {
    throw new InvalidInputError(
      `no columns left to test (skipped: ${plan.skipped.map((s) => s.name).join(', ')}); name them with --columns`,
      { step: 'cli' },
    );
  }
  if (args.method)
    checkMethodFits(
      args.method,
      plan.features.map((f) => f.spec),
    );
  return plan;
}

/**
 * Tests the planned features one at a time: each column of both files is loaded, tested and
 * released before the next, so memory holds one column per file beyond what the files' storage keeps.
 */
function testColumns(ref: FileColumns, cur: FileColumns, plan: Plan): TestedFeature[] {
  return plan.features.map(({ spec, cells }) => {
    const refCollector = ref.collectors.get(spec.name)!;
    const curCollector = cur.collectors.get(spec.name)!;
    let reference: DriftColumn;
    let current: DriftColumn;
    if (cells) {
      reference = driftColumn(spec.kind, cells.reference).column;
      current = driftColumn(spec.kind, cells.current).column;
    } else if (spec.kind === 'numeric') {
      reference = refCollector.numeric().column;
      current = curCollector.numeric().column;
    } else {
      reference = prepareCounted(refCollector.categoryCounts());
      current = prepareCounted(curCollector.categoryCounts());
    }
    const tested = testFeature(reference, current, spec);
    refCollector.release();
    curCollector.release();
    return tested;
  });
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

/** The verdict of a drift report on two files: no verdict either way on too few rows. */
type Verdict = 'drift' | 'no drift' | 'not enough data';

/** The sentence that replaces a verdict when a file has fewer rows than `minRows`; null when both have enough. */
function notEnoughData(ref: FileColumns, cur: FileColumns, minRows: number): string | null {
  const short = [
    { name: 'reference', rows: ref.rows },
    { name: 'current', rows: cur.rows },
  ].filter((f) => f.rows < minRows);
  if (short.length === 0) return null;
  const files = short.map((f) => `the ${f.name} file has ${f.rows} row${f.rows === 1 ? '' : 's'}`).join(' and ');
  return `Not enough data: ${files}, fewer than the ${minRows} per file a verdict needs (--min-rows); no column was tested, so there is no verdict.`;
}

function humanReport(r: DriftCheckReport, plan: Plan, files: { reference: string; current: string }, htmlPath: string | null): string {
  const rows = r.dataDrift.features.map((f) => [
    f.name,
    f.kind,
    f.method,
    formatNumber(f.statistic),
    formatNumber(f.pValue),
    formatNumber(f.threshold),
    f.drifted ? 'DRIFTED' : 'ok',
  ]);
  const head = ['feature', 'kind', 'method', 'statistic', 'p-value', 'threshold', 'drifted'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    '  ' +
    cells
      .map((c, i) => (i >= 3 && i <= 5 ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
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
  out.push(...planNotes(plan));
  out.push('');
  if (htmlPath) out.push(`HTML report: ${htmlPath} (open it in a browser; it works offline)`);
  else
    out.push(
      `Next: npx retrain drift-report --reference ${shellQuote(files.reference)} --current ${shellQuote(files.current)} --html drift-report.html   (a plot per column)`,
    );
  return out.join('\n');
}

/** The text report when a file has too few rows: what would be tested, and no verdict. */
function humanNotEnoughData(r: DriftCheckReport, plan: Plan, htmlSkipped: boolean): string {
  const out = [
    `Drift: reference ${r.reference.label} (${r.reference.rows} rows) vs current ${r.current.label} (${r.current.rows} rows)`,
    '',
    r.summary,
    `  columns to test with more rows: ${plan.features.map(({ spec }) => `${spec.name} (${spec.kind})`).join(', ')}`,
    ...planNotes(plan),
  ];
  if (htmlSkipped) out.push('', 'HTML report not written: there is no verdict to show.');
  return out.join('\n');
}

function planNotes(plan: Plan): string[] {
  const out: string[] = [];
  for (const w of plan.warnings) out.push(`  warning: ${w}`);
  for (const s of plan.skipped) out.push(`  skipped ${s.name}: ${s.reason}`);
  if (plan.onlyInReference.length) out.push(`  only in the reference (not tested): ${plan.onlyInReference.join(', ')}`);
  if (plan.onlyInCurrent.length) out.push(`  only in the current file (not tested): ${plan.onlyInCurrent.join(', ')}`);
  return out;
}

async function driftReport(args: Args<[], typeof flags>): Promise<number> {
  const storage = await storageFor([args.reference, args.current]);
  try {
    return await driftReportWith(args, storage);
  } finally {
    if (storage instanceof ColumnFiles) storage.remove();
  }
}

/** Column data kept on disk when both files together pass this size; memory for smaller ones. */
const FILE_STORAGE_FROM = 64 << 20;

/** File storage for large files (memory for one column per file at a time), memory for small ones. */
async function storageFor(paths: string[]): Promise<ColumnStorage> {
  const sizes = await Promise.all(
    paths.map((p) =>
      stat(p).then(
        (s) => s.size,
        () => 0,
      ),
    ),
  );
  return sizes.reduce((a, b) => a + b, 0) > FILE_STORAGE_FROM ? new ColumnFiles() : memoryStorage;
}

async function driftReportWith(args: Args<[], typeof flags>, storage: ColumnStorage): Promise<number> {
  const progress = progressLine();
  // The reference first: its columns' kinds say how to read the current file.
  const ref = await readFileColumns(args.reference, {
    what: `--reference ${args.reference}`,
    kinds: null,
    storage,
    onProgress: (read, size) => progress(`reading ${args.reference}: ${percent(read, size)}`),
  });
  const cur = await readFileColumns(args.current, {
    what: `--current ${args.current}`,
    kinds: referenceKinds(ref, args.columns),
    storage,
    onProgress: (read, size) => progress(`reading ${args.current}: ${percent(read, size)}`),
  });
  const plan = await planColumns(ref, cur, { columns: args.columns, method: args.method, minEffect: args['min-effect'] });
  // Too few rows in either file: test nothing and give no verdict (a one-row file "drifts" on every column).
  const tooFew = notEnoughData(ref, cur, args['min-rows']);
  if (!tooFew) progress(`testing ${plan.features.length} columns`);
  const tested = tooFew ? [] : testColumns(ref, cur, plan);
  progress(null);
  const report = buildDriftReportOf({
    model: null,
    version: null,
    // The same two files always get the same id.
    checkId: `files-${createHash('sha256').update(`${ref.sha256}:${cur.sha256}`).digest('hex').slice(0, 12)}`,
    createdAt: new Date().toISOString(),
    reference: { label: ref.path, rows: ref.rows },
    current: { label: cur.path, rows: cur.rows },
    tested,
    datasetDriftShare: args['drift-share'],
  });
  if (tooFew) {
    report.summary = tooFew;
    if (args.html && args.json) process.stderr.write('HTML report not written: there is no verdict to show.\n');
    output(args.json, notEnoughDataJson(report, plan, args['min-rows']), () => humanNotEnoughData(report, plan, Boolean(args.html)));
    return 0;
  }
  const htmlPath = args.html ? resolve(args.html) : null;
  if (htmlPath) {
    await writeAtomically(htmlPath, renderDriftReportHtml(report));
    // stdout stays pure JSON under --json; the location goes to stderr.
    if (args.json) process.stderr.write(`HTML report: ${htmlPath}\n`);
  }
  const verdict: Verdict = report.drifted ? 'drift' : 'no drift';
  const data = {
    ...report,
    verdict,
    minRows: args['min-rows'],
    // Aliases of dataDrift.features / dataDrift.datasetDrift, so `jq .features` works.
    features: report.dataDrift.features,
    datasetDrift: report.dataDrift.datasetDrift,
    columns: {
      tested: plan.features.map(({ spec }) => ({ name: spec.name, kind: spec.kind })),
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

/** The JSON report without a verdict: every drift claim is null, and `verdict` says why. */
function notEnoughDataJson(report: DriftCheckReport, plan: Plan, minRows: number) {
  const verdict: Verdict = 'not enough data';
  return {
    ...report,
    verdict,
    minRows,
    drifted: null,
    dataDrift: { ...report.dataDrift, datasetDrift: null },
    features: [],
    datasetDrift: null,
    columns: {
      tested: [],
      untested: plan.features.map(({ spec }) => ({ name: spec.name, kind: spec.kind })),
      skipped: plan.skipped,
      onlyInReference: plan.onlyInReference,
      onlyInCurrent: plan.onlyInCurrent,
    },
    warnings: plan.warnings,
    html: null,
  };
}

/** Whole percent of `read` in `size`. */
function percent(read: number, size: number): string {
  return size > 0 ? `${Math.floor((read / size) * 100)}%` : '';
}

/**
 * A progress line on stderr, rewritten in place, shown only to a person at a terminal (never in
 * pipes or tests) and at most every 200 ms; null clears it.
 */
function progressLine(): (text: string | null) => void {
  const tty = process.stderr.isTTY;
  let last = 0;
  let shown = false;
  return (text) => {
    if (!tty) return;
    if (text === null) {
      if (shown) process.stderr.write('\r\x1b[K');
      shown = false;
      return;
    }
    const now = Date.now();
    if (now - last < 200) return;
    last = now;
    shown = true;
    process.stderr.write(`\r\x1b[K${text}`);
  };
}
