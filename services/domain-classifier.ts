import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { RetrainConfig } from '../lib/config';
import type { CategoricalColumn, Columns, NumericColumn } from '../lib/drift/dataset-drift';
import {
  DOMAIN_CLASSIFIER_CONTRACT,
  domainClassifierRequestSchema,
  domainClassifierVerdict,
  parseDomainClassifierOutput,
  type DomainClassifierResult,
  type DomainClassifierVerdict,
} from '../lib/drift/domain-classifier';
import { formatIssues, InvalidInputError, type ErrorContext } from '../lib/errors';
import type { FeatureKind } from '../lib/feature-kind';
import { quote } from '../lib/table';
import { failOnExit, runCollectingStdout, type CommandHooks } from './runner/contract';
import { TextFileWriter } from './text-file-writer';

/** The command that trains the domain classifier; the runner appends the request path. */
export const DOMAIN_CLASSIFIER_COMMAND: readonly string[] = ['$PYTHON', '$RETRAIN_HOME/training/domain_classifier.py'];
/** How long the classifier may run: 5 folds on 20,000 rows a side take seconds, so this only stops a hung one. */
const DEFAULT_TIMEOUT_MS = 10 * 60_000;
/** Rows written per chunk: bounded memory for a window of any size. */
const CSV_CHUNK_ROWS = 10_000;

/** How the domain classifier runs; every field has a default. */
export interface DomainClassifierOptions {
  /**
   * Seeds sampling, folds, trees and shuffles.
   * @default 0
   */
  seed?: number;
  /**
   * Rows per window the classifier uses at most (a uniform, seeded sample of a larger window).
   * @default 20_000
   */
  maxRows?: number;
  /** @default 5 */
  folds?: number;
  /**
   * The AUC from which a difference counts as drift (see DEFAULT_DOMAIN_CLASSIFIER_THRESHOLD).
   * @default 0.55
   */
  threshold?: number;
  /**
   * Milliseconds before the command is stopped (its whole process group).
   * @default 600_000 (10 minutes)
   */
  timeoutMs?: number;
  /**
   * The command to run, as an array without a shell; `$PYTHON` is the configured Python.
   * @default DOMAIN_CLASSIFIER_COMMAND
   */
  command?: readonly string[];
}

/** The two windows to compare and where to work. */
export interface DomainClassifierInput {
  /** The model the windows belong to, for error messages. */
  model: string;
  version?: string;
  /** The reference rows: columns, or a CSV file with (at least) the features' columns, such as a training split. */
  reference: Columns | { path: string };
  current: Columns;
  features: readonly { name: string; kind: FeatureKind }[];
  /** Scratch directory for the CSVs and the request; the caller removes it (`inScratchDir`). */
  dir: string;
  /** Cancellation, liveness ticks and stderr lines. @default QUIET_HOOKS */
  hooks?: CommandHooks;
  options?: DomainClassifierOptions;
}

/** The verdict, and the validated result it was drawn from (fold AUCs, rows used, importances). */
export interface DomainClassifierOutcome {
  verdict: DomainClassifierVerdict;
  result: DomainClassifierResult;
}

/**
 * Trains a classifier to tell the current window's rows from the reference window's
 * (training/domain_classifier.py, run by the project's Python through the command launcher) and
 * judges its cross-validated AUC. Resolves to null when the run was cancelled through
 * `hooks.signal` (the caller decides what cancellation means).
 * @throws InvalidInputError for a feature missing from a window, a column of the wrong type or
 *   length, or bad options; TrainingBadInputError when the classifier rejects its input (too few
 *   rows); TrainingContractError for a malformed result line; TransientError for a crash or timeout.
 */
export async function runDomainClassifier(
  deps: { config: Pick<RetrainConfig, 'python' | 'projectDir'> },
  input: DomainClassifierInput,
): Promise<DomainClassifierOutcome | null> {
  const ctx: ErrorContext = { model: input.model, ...(input.version ? { version: input.version } : {}), step: 'domain-classifier' };
  const options = input.options ?? {};
  const referencePath =
    'path' in input.reference && typeof input.reference.path === 'string' ? input.reference.path : join(input.dir, 'reference.csv');
  const currentPath = join(input.dir, 'current.csv');
  const parsed = domainClassifierRequestSchema.safeParse({
    contract: DOMAIN_CLASSIFIER_CONTRACT,
    referencePath,
    currentPath,
    features: input.features.map(({ name, kind }) => ({ name, kind })),
    seed: options.seed,
    maxRows: options.maxRows,
    folds: options.folds,
    threshold: options.threshold,
  });
  if (!parsed.success) throw new InvalidInputError(formatIssues('domain classifier options', parsed.error.issues), ctx);
  const request = parsed.data;

  const current = windowColumns(input.current, input.features, 'current', ctx);
  await mkdir(input.dir, { recursive: true });
  if (referencePath !== input.reference.path)
    await writeCsv(referencePath, input.features, windowColumns(input.reference as Columns, input.features, 'reference', ctx));
  await writeCsv(currentPath, input.features, current);

  // The result is the one line on stdout; the classifier writes its progress to stderr.
  const { run, stdout } = await runCollectingStdout({
    command: [...(options.command ?? DOMAIN_CLASSIFIER_COMMAND)],
    dir: input.dir,
    request,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    python: deps.config.python,
    cwd: deps.config.projectDir,
    ...(input.hooks ? { hooks: input.hooks } : {}),
    field: 'the domain classifier command',
    context: ctx,
  });
  if (run.killedFor === 'cancelled') return null;
  failOnExit(run, 'the domain classifier', ctx);
  const result = parseDomainClassifierOutput(stdout, ctx);
  return { verdict: domainClassifierVerdict(result, request.threshold), result };
}

type WindowColumn = { kind: 'numeric'; values: NumericColumn } | { kind: 'categorical'; values: CategoricalColumn };

/** The features' columns of one window, checked: present, of their kind, all of one length. */
function windowColumns(
  columns: Columns,
  features: DomainClassifierInput['features'],
  where: 'reference' | 'current',
  ctx: ErrorContext,
): WindowColumn[] {
  let rows: number | null = null;
  return features.map(({ name, kind }) => {
    const fail = (problem: string): never => {
      throw new InvalidInputError(`feature '${name}' ${problem} in the ${where} window`, { ...ctx, feature: name });
    };
    if (!Object.hasOwn(columns, name)) fail('is missing');
    const values = columns[name]!;
    if (kind === 'numeric' && !(values instanceof Float64Array)) fail('is numeric but not a Float64Array');
    if (kind === 'categorical' && !Array.isArray(values)) fail('is categorical but not an array of string | null');
    if (rows !== null && values.length !== rows) fail(`has ${values.length} rows where the other features have ${rows}`);
    rows = values.length;
    return kind === 'numeric' ? { kind, values: values as NumericColumn } : { kind, values: values as CategoricalColumn };
  });
}

/**
 * One window as CSV with the features as header, as the contract's scripts read it: an empty cell
 * is a missing value (NaN and +-Infinity in a numeric column, null in a categorical one). A row of
 * one empty cell is written `""`, since a reader skips an empty line.
 */
async function writeCsv(path: string, features: DomainClassifierInput['features'], columns: WindowColumn[]): Promise<void> {
  const writer = new TextFileWriter(path);
  try {
    await writer.write(features.map((f) => quote(f.name)).join(',') + '\n');
    const rows = columns[0]?.values.length ?? 0;
    for (let start = 0; start < rows; start += CSV_CHUNK_ROWS) {
      let text = '';
      for (let i = start; i < Math.min(rows, start + CSV_CHUNK_ROWS); i++) {
        const line = columns.map((c) => cell(c, i)).join(',');
        text += (line === '' ? '""' : line) + '\n';
      }
      await writer.write(text);
    }
    await writer.close();
  } catch (err) {
    writer.destroy();
    throw err;
  }
}

function cell(column: WindowColumn, i: number): string {
  if (column.kind === 'numeric') {
    const v = column.values[i]!;
    return Number.isFinite(v) ? String(v) : '';
  }
  const v = column.values[i];
  return v === null || v === undefined ? '' : quote(v);
}
