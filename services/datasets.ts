import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline as pipe } from 'node:stream/promises';
import { hashOf, sha256 } from '../lib/canonical-json';
import type { RetrainConfig } from '../lib/config';
import { InvalidDatasetError, InvalidInputError } from '../lib/errors';
import { keys } from '../lib/keys';
import { sourceEncoding, sourceFormat, type Pipeline } from '../lib/pipeline';
import { splitPoint, SplitTally } from '../lib/split';
import { csvLine, quote, readTable, toCsv, type Table, type TableFormat } from '../lib/table';
import type { RowBatch } from '../lib/table-stream';
import { resolveWindow } from '../lib/time-window';
import {
  DatasetValidator,
  describeProblems,
  unreadableReport,
  validateDataset,
  type ChampionClasses,
  type ValidationReport,
} from '../lib/validate-dataset';
import { splitCellSink, type SplitCellSink } from '../lib/split-csv-cells';
import { validationSink } from '../lib/validate-csv-cells';
import { validateParquetSlice } from '../lib/validate-parquet-cells';
import type { DatasetSnapshot, DatasetSplit } from '../shared/results';
import type { Store } from '../store/store';
import { parquetSlicesOf, readCsvCells, rowBatches, withSnapshotFile, type RowInput } from './dataset-rows';
import { DuplicateCounter } from './duplicate-counter';
import { readPointer, readVersion } from './registry';
import { sourceFetcher, sourceReader } from './sources';
import { writeWindowRows } from './source-window';
import { TextFileWriter } from './text-file-writer';

/** What the dataset steps read and write: the store, and how to reach local and S3 sources. */
export interface DatasetDeps {
  store: Store;
  config: Pick<RetrainConfig, 'projectDir' | 's3'>;
}

/**
 * Reads the pipeline's labelled data and stores it under the hash of its content: the same data
 * is stored once, and a retry or a rerun on it writes nothing new (`created: false`). With a
 * source window, only the rows of the window as of `asOf` (default: now) are kept. The data
 * streams through a local file, so memory does not grow with its size, and the upload to the
 * store is multipart when it is large.
 */
export async function snapshotSource(
  { store, config }: DatasetDeps,
  pipeline: Pipeline,
  options: { asOf?: string } = {},
): Promise<DatasetSnapshot> {
  const source = pipeline.source;
  const what = `data source of pipeline "${pipeline.name}"`;
  const context = { model: pipeline.name, step: 'pull' };
  const window = source.window ? resolveWindow(source.window, options.asOf ?? new Date().toISOString()) : undefined;
  const work = await mkdtemp(join(tmpdir(), 'retrain-pull-'));
  try {
    let path = join(work, 'source');
    let format: TableFormat = sourceFormat(source);
    // A PostgreSQL source filters in the server; files are filtered here, row by row.
    await sourceFetcher(config)(source, what, context, path, {
      columns: pipeline,
      window: source.kind === 'postgres' ? window : undefined,
    });
    if (window && source.kind !== 'postgres') {
      const windowed = join(work, 'window');
      format = await writeWindowRows(path, format, sourceEncoding(source), window, windowed, what, context);
      path = windowed;
    }
    const hash = await sha256File(path);
    const key = keys.snapshot(pipeline.name, hash, format);
    const created = !(await store.exists(key));
    if (created) await store.upload(path, key);
    const bytes = (await stat(path)).size;
    return { sha256: hash, key, format, bytes, created, ...(window ? { window, asOf: window.to } : {}) };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The sha256 of a file's bytes, read as a stream. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipe(createReadStream(path, { highWaterMark: 1 << 20 }), hash);
  return hash.digest('hex');
}

/** A snapshot parsed as a table (whole, in memory: for small data and tests). */
export async function loadSnapshot(store: Store, pipeline: Pipeline, snapshot: DatasetSnapshot): Promise<Table> {
  const body = await store.get(snapshot.key);
  if (!body) throw new Error(`snapshot ${snapshot.key} is missing from the store (${store.location})`);
  return readTable(body, snapshot.format, snapshotLabel(pipeline, snapshot), encodingOf(pipeline, snapshot));
}

/**
 * Checks a snapshot against the pipeline, label classes against the current champion's, in one
 * streaming pass: the report lists every problem found (see {@link validateRows}).
 */
export async function validateSnapshot(store: Store, pipeline: Pipeline, snapshot: DatasetSnapshot): Promise<ValidationReport> {
  return withSnapshotFile(store, snapshot, (path) =>
    validateRows(
      { path },
      snapshot.format,
      snapshotLabel(pipeline, snapshot),
      pipeline,
      () => championClasses(store, pipeline),
      encodingOf(pipeline, snapshot),
    ),
  );
}

/**
 * Checks data in memory against the pipeline (`retrain validate`); see {@link validateRows}.
 */
export function validateData(
  body: Buffer,
  format: TableFormat,
  what: string,
  pipeline: Pipeline,
  champion: () => Promise<ChampionClasses | null>,
): Promise<ValidationReport> {
  return validateRows({ body }, format, what, pipeline, champion, sourceEncoding(pipeline.source));
}

/**
 * Checks data against the pipeline in one pass, holding counts, not rows. Data that cannot be
 * read (bytes that are not UTF-8, a column named twice, broken CSV) is a report with one
 * `unreadable` problem, not an error: the step audits it like any other invalid data.
 */
export async function validateRows(
  input: RowInput,
  format: TableFormat,
  what: string,
  pipeline: Pipeline,
  champion: () => Promise<ChampionClasses | null>,
  encoding?: 'utf-8' | 'latin1',
): Promise<ValidationReport> {
  const duplicates = new DuplicateCounter();
  try {
    const validator = new DatasetValidator(pipeline, await champion(), duplicates);
    const classification = pipeline.task === 'classification';
    if (format === 'csv' && (encoding ?? 'utf-8') === 'utf-8') {
      // Straight from bytes: no row arrays, no text for plain numbers (lib/validate-csv-cells.ts).
      await readCsvCells(input, what, (columns) => validationSink(validator, columns, classification));
    } else if (format === 'parquet') {
      // From the decoded columns: no row arrays, no text for numbers (lib/validate-parquet-cells.ts).
      for await (const slice of parquetSlicesOf(input, what)) validateParquetSlice(validator, slice, classification);
    } else for await (const batch of rowBatches(input, format, what, encoding)) validator.add(batch);
    return validator.finish(duplicates.count());
  } catch (err) {
    if (err instanceof InvalidInputError) return unreadableReport(err.message);
    throw err;
  } finally {
    duplicates.dispose();
  }
}

function snapshotLabel(pipeline: Pipeline, snapshot: DatasetSnapshot): string {
  return `snapshot ${snapshot.sha256.slice(0, 12)} of ${pipeline.name}`;
}

/** How a snapshot's bytes are read: as the source declares, except a window's rewrite, which is UTF-8. */
function encodingOf(pipeline: Pipeline, snapshot: DatasetSnapshot): 'utf-8' | 'latin1' | undefined {
  return snapshot.window ? undefined : sourceEncoding(pipeline.source);
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
 * Writes the deterministic train/holdout split of a snapshot (only the columns training needs),
 * streaming: by a seeded hash of each row (see lib/split.ts), or against the pipeline's holdout
 * source. Same snapshot and settings give the same bytes, so rewriting is harmless.
 */
export async function splitSnapshot({ store, config }: DatasetDeps, pipeline: Pipeline, snapshot: DatasetSnapshot): Promise<DatasetSplit> {
  // Segment columns that are not features go along, for the segment gate and drift per segment.
  const used = [...pipeline.features.map((f) => f.name), pipeline.label];
  const columns = [...used, ...(pipeline.segments ?? []).filter((s) => !used.includes(s))];
  const work = await mkdtemp(join(tmpdir(), 'retrain-split-'));
  try {
    const trainPath = join(work, 'train.csv');
    const holdoutPath = join(work, 'holdout.csv');
    let counts: [number, number];
    let holdoutId: unknown;
    const rows = (path: string) => rowBatches({ path }, snapshot.format, snapshotLabel(pipeline, snapshot), encodingOf(pipeline, snapshot));
    if ('fraction' in pipeline.holdout) {
      const { fraction, seed } = pipeline.holdout;
      const bytes = snapshot.format === 'csv' && (encodingOf(pipeline, snapshot) ?? 'utf-8') === 'utf-8';
      counts = await withSnapshotFile(store, snapshot, (path) =>
        hashSplit(fraction, (holdout) =>
          bytes
            ? // Straight from bytes (lib/split-csv-cells.ts): the same files, without rows of strings.
              writeSplitCells(path, snapshotLabel(pipeline, snapshot), pipeline, columns, seed, trainPath, holdoutPath, holdout)
            : writeSplit(rows(path), pipeline, columns, seed, trainPath, holdoutPath, holdout),
        ),
      );
      // The row hash, by id or by row, replaced a shuffle: its split ids differ from the shuffle's.
      holdoutId = { fraction, seed, assign: pipeline.idColumn ? { hash: pipeline.idColumn } : 'hash' };
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
      const train = await withSnapshotFile(store, snapshot, (path) => writeRows(() => rows(path), columns, trainPath));
      const holdout = new TextFileWriter(holdoutPath);
      await holdout.write(toCsv(holdoutTable, columns));
      await holdout.close();
      counts = [train, holdoutTable.rows.length];
      holdoutId = { holdoutSha256: sha256(body) };
    }
    // A declared latin1 reads the same bytes as other text: a different split. UTF-8 (the default) adds nothing, so ids stay put.
    const latin1 = [pipeline.source, 'source' in pipeline.holdout ? pipeline.holdout.source : null].map(
      (s) => (s && s.kind !== 'postgres' ? s.encoding : undefined) === 'latin1',
    );
    const splitId = hashOf({ holdoutId, columns, task: pipeline.task, ...(latin1.some(Boolean) ? { latin1 } : {}) }).slice(0, 12);
    const trainKey = keys.split(pipeline.name, snapshot.sha256, splitId, 'train');
    const holdoutKey = keys.split(pipeline.name, snapshot.sha256, splitId, 'holdout');
    await store.upload(trainPath, trainKey);
    await store.upload(holdoutPath, holdoutKey);
    return { splitId, trainKey, holdoutKey, trainRows: counts[0], holdoutRows: counts[1] };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * The hash split: one pass writes each row to its side; when a class breaks the split's
 * guarantees (see {@link SplitTally}), a second pass writes both files again with its corrections.
 */
async function hashSplit(
  fraction: number,
  pass: (holdout: (group: string, point: number) => boolean) => Promise<[number, number]>,
): Promise<[number, number]> {
  const tally = new SplitTally(fraction);
  const first = await pass((group, point) => tally.assign(group, point));
  const rules = tally.corrections();
  if (!rules) return first;
  return pass((group, point) => (rules.get(group) ?? ((p: number) => p < fraction))(point));
}

/** Opens the train and holdout files with their header, lets `write` fill them and closes them (destroyed on a failure). */
async function withSplitFiles(
  columns: string[],
  trainPath: string,
  holdoutPath: string,
  write: (train: TextFileWriter, holdout: TextFileWriter) => Promise<void>,
): Promise<void> {
  const train = new TextFileWriter(trainPath);
  const held = new TextFileWriter(holdoutPath);
  const header = columns.map(quote).join(',') + '\n';
  try {
    await train.write(header);
    await held.write(header);
    await write(train, held);
    await train.close();
    await held.close();
  } catch (err) {
    train.destroy();
    held.destroy();
    throw err;
  }
}

/** {@link writeSplit} of a UTF-8 CSV file, read cell by cell from its bytes. */
async function writeSplitCells(
  path: string,
  what: string,
  pipeline: Pipeline,
  columns: string[],
  seed: number,
  trainPath: string,
  holdoutPath: string,
  holdout: (group: string, point: number) => boolean,
): Promise<[number, number]> {
  let sink: SplitCellSink | null = null;
  const options = { columns, idColumn: pipeline.idColumn ?? null, classification: pipeline.task === 'classification', seed, holdout };
  await withSplitFiles(columns, trainPath, holdoutPath, (train, held) =>
    readCsvCells({ path }, what, (names) => (sink = splitCellSink(names, options)), {
      afterChunk: async () => {
        if (!sink) return;
        const out = sink.take();
        await train.write(out.train);
        await held.write(out.holdout);
      },
    }).then(() => undefined),
  );
  const done = sink as SplitCellSink | null;
  return [done?.trainRows ?? 0, done?.holdoutRows ?? 0];
}

/** Writes rows to the train or holdout CSV as `holdout(group, point)` says; returns the two counts. */
async function writeSplit(
  batches: AsyncIterable<RowBatch>,
  pipeline: Pipeline,
  columns: string[],
  seed: number,
  trainPath: string,
  holdoutPath: string,
  holdout: (group: string, point: number) => boolean,
): Promise<[number, number]> {
  let trainRows = 0;
  let holdoutRows = 0;
  const classification = pipeline.task === 'classification';
  await withSplitFiles(columns, trainPath, holdoutPath, async (train, held) => {
    for await (const batch of batches) {
      const at = columnIndexes(batch.columns, columns);
      const idAt = pipeline.idColumn ? batch.columns.indexOf(pipeline.idColumn) : -1;
      const labelAt = at[at.length - 1]!;
      let trainText = '';
      let holdoutText = '';
      for (const row of batch.rows) {
        const point = splitPoint(row, idAt >= 0 ? [idAt] : at, seed);
        const line = csvLine(row, at);
        if (holdout(classification ? String(row[labelAt] ?? null) : '', point)) {
          holdoutText += line;
          holdoutRows++;
        } else {
          trainText += line;
          trainRows++;
        }
      }
      await train.write(trainText);
      await held.write(holdoutText);
    }
  });
  return [trainRows, holdoutRows];
}

/** Writes every row (the chosen columns) as CSV; returns the count. */
async function writeRows(rows: () => AsyncIterable<RowBatch>, columns: string[], path: string): Promise<number> {
  const out = new TextFileWriter(path);
  let count = 0;
  try {
    await out.write(columns.map(quote).join(',') + '\n');
    for await (const batch of rows()) {
      const at = columnIndexes(batch.columns, columns);
      let text = '';
      for (const row of batch.rows) text += csvLine(row, at);
      count += batch.rows.length;
      await out.write(text);
    }
    await out.close();
  } catch (err) {
    out.destroy();
    throw err;
  }
  return count;
}

/**
 * Positions of `columns` in a batch; -1 for one not there yet (JSON lines add a column when a line
 * first gives its key), whose cells read as missing. Validation has checked every column is there.
 */
function columnIndexes(present: readonly string[], columns: string[]): number[] {
  return columns.map((c) => present.indexOf(c));
}
