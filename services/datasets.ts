import { hashOf, sha256 } from '../lib/canonical-json';
import type { RetrainConfig } from '../lib/config';
import { InvalidDatasetError, InvalidInputError } from '../lib/errors';
import { keys } from '../lib/keys';
import { sourceEncoding, sourceFormat, type Pipeline } from '../lib/pipeline';
import { splitIndexes } from '../lib/split';
import { readTable, toCsv, type Table, type TableFormat } from '../lib/table';
import { describeProblems, unreadableReport, validateDataset, type ChampionClasses, type ValidationReport } from '../lib/validate-dataset';
import type { DatasetSnapshot, DatasetSplit } from '../shared/results';
import type { Store } from '../store/store';
import { readPointer, readVersion } from './registry';
import { sourceReader } from './sources';

/** What the dataset steps read and write: the store, and how to reach local and S3 sources. */
export interface DatasetDeps {
  store: Store;
  config: Pick<RetrainConfig, 'projectDir' | 's3'>;
}

/**
 * Reads the pipeline's labelled data and stores it under the hash of its content: the same data
 * is stored once, and a retry or a rerun on it writes nothing new (`created: false`).
 */
export async function snapshotSource({ store, config }: DatasetDeps, pipeline: Pipeline): Promise<DatasetSnapshot> {
  const body = await sourceReader(config)(
    pipeline.source,
    `data source of pipeline "${pipeline.name}"`,
    { model: pipeline.name, step: 'pull' },
    pipeline,
  );
  const format = sourceFormat(pipeline.source);
  const hash = sha256(body);
  const key = keys.snapshot(pipeline.name, hash, format);
  const created = await store.putIfAbsent(key, body);
  return { sha256: hash, key, format, bytes: body.length, created };
}

/** A snapshot parsed as a table. */
export async function loadSnapshot(store: Store, pipeline: Pipeline, snapshot: DatasetSnapshot): Promise<Table> {
  return readTable(
    await readSnapshot(store, snapshot),
    snapshot.format,
    snapshotLabel(pipeline, snapshot),
    sourceEncoding(pipeline.source),
  );
}

/**
 * Checks a snapshot against the pipeline, label classes against the current champion's: the
 * report lists every problem found (see {@link validateData}).
 */
export async function validateSnapshot(store: Store, pipeline: Pipeline, snapshot: DatasetSnapshot): Promise<ValidationReport> {
  const body = await readSnapshot(store, snapshot);
  return validateData(body, snapshot.format, snapshotLabel(pipeline, snapshot), pipeline, () => championClasses(store, pipeline));
}

/**
 * Checks data against the pipeline (the validate step, and `retrain validate`). Data that cannot
 * be read (bytes that are not UTF-8, a column named twice, broken CSV) is a report with one
 * `unreadable` problem, not an error: the step audits it like any other invalid data. The
 * champion's label classes are read only for data that parsed.
 */
export async function validateData(
  body: Buffer,
  format: TableFormat,
  what: string,
  pipeline: Pipeline,
  champion: () => Promise<ChampionClasses | null>,
): Promise<ValidationReport> {
  let table: Table;
  try {
    table = await readTable(body, format, what, sourceEncoding(pipeline.source));
  } catch (err) {
    if (err instanceof InvalidInputError) return unreadableReport(err.message);
    throw err;
  }
  return validateDataset(table, pipeline, await champion());
}

async function readSnapshot(store: Store, snapshot: DatasetSnapshot): Promise<Buffer> {
  const body = await store.get(snapshot.key);
  if (!body) throw new Error(`snapshot ${snapshot.key} is missing from the store (${store.location})`);
  return body;
}

function snapshotLabel(pipeline: Pipeline, snapshot: DatasetSnapshot): string {
  return `snapshot ${snapshot.sha256.slice(0, 12)} of ${pipeline.name}`;
}

/** The label classes of the model's current champion (classification only), or null without one. */
export async function championClasses(store: Store, pipeline: Pipeline): Promise<ChampionClasses | null> {
  if (pipeline.task !== 'classification') return null;
  const { pointer } = await readPointer(store, pipeline.name);
  if (!pointer.champion) return null;
  const version = await readVersion(store, pipeline.name, pointer.champion);
  return { version: version.version, classes: version.classes };
}

/** Fails with `InvalidDataset` (never retried), listing every problem, when the report is not ok. */
export function assertValid(report: ValidationReport, what: string, context: { model: string; step: string }): void {
  if (!report.ok) throw new InvalidDatasetError(`${what} is invalid:\n${describeProblems(report)}`, context, report);
}

/**
 * Writes the deterministic train/holdout split of a snapshot (only the columns training needs):
 * by seeded fraction (stratified for classification), or against the pipeline's holdout source.
 * Same snapshot and settings give the same bytes, so rewriting is harmless.
 */
export async function splitSnapshot({ store, config }: DatasetDeps, pipeline: Pipeline, snapshot: DatasetSnapshot): Promise<DatasetSplit> {
  const table = await loadSnapshot(store, pipeline, snapshot);
  const columns = [...pipeline.features.map((f) => f.name), pipeline.label];
  let train: string;
  let holdout: string;
  let counts: [number, number];
  let holdoutId: unknown;
  if ('fraction' in pipeline.holdout) {
    const labelIndex = table.columns.indexOf(pipeline.label);
    const strata = pipeline.task === 'classification' ? table.rows.map((r) => r[labelIndex]) : undefined;
    const { train: t, holdout: h } = splitIndexes(table.rows.length, pipeline.holdout.fraction, pipeline.holdout.seed, strata);
    train = toCsv(table, columns, t);
    holdout = toCsv(table, columns, h);
    counts = [t.length, h.length];
    holdoutId = pipeline.holdout;
  } else {
    const source = pipeline.holdout.source;
    const body = await sourceReader(config)(source, `holdout source of pipeline "${pipeline.name}"`, {
      model: pipeline.name,
      step: 'split',
    });
    const what = `holdout ${source.path} of ${pipeline.name}`;
    const context = { model: pipeline.name, step: 'split' };
    let holdoutTable: Table;
    try {
      holdoutTable = await readTable(body, sourceFormat(source), `holdout ${source.path}`, source.encoding);
    } catch (err) {
      if (err instanceof InvalidInputError) assertValid(unreadableReport(err.message), what, context);
      throw err;
    }
    const holdoutPipeline = { ...pipeline, validation: { ...pipeline.validation, minRows: 1 } };
    const report = validateDataset(holdoutTable, holdoutPipeline, await championClasses(store, pipeline));
    assertValid(report, what, context);
    train = toCsv(table, columns);
    holdout = toCsv(holdoutTable, columns);
    counts = [table.rows.length, holdoutTable.rows.length];
    holdoutId = { holdoutSha256: sha256(body) };
  }
  // A declared latin1 reads the same bytes as other text: a different split. UTF-8 (the default) adds nothing, so ids stay put.
  const latin1 = [pipeline.source, 'source' in pipeline.holdout ? pipeline.holdout.source : null].map(
    (s) => (s ? sourceEncoding(s) : undefined) === 'latin1',
  );
  const splitId = hashOf({ holdoutId, columns, task: pipeline.task, ...(latin1.some(Boolean) ? { latin1 } : {}) }).slice(0, 12);
  const trainKey = keys.split(pipeline.name, snapshot.sha256, splitId, 'train');
  const holdoutKey = keys.split(pipeline.name, snapshot.sha256, splitId, 'holdout');
  await store.put(trainKey, train);
  await store.put(holdoutKey, holdout);
  return { splitId, trainKey, holdoutKey, trainRows: counts[0], holdoutRows: counts[1] };
}
