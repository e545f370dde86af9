import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { InvalidInputError } from '../../lib/errors';
import { describeSource, sourceFormat, type Pipeline } from '../../lib/pipeline';
import type { ValidationReport } from '../../lib/validate-dataset';
import type { TableFormat } from '../../lib/table';
import { loadConfig } from '../../services/config';
import type { RowInput } from '../../services/dataset-rows';
import { assertValid, championClasses, validateRows } from '../../services/datasets';
import { loadPipeline } from '../../services/pipelines';
import { sourceFetcher } from '../../services/sources';
import { createStore } from '../../store/index';
import { defineCommand } from '../command';
import { jsonFlag, pipelineArgument } from '../common-args';
import { output } from '../format';

/** Extensions `--data` reads, and the format each one is read as. */
const DATA_EXTENSIONS: Record<string, 'csv' | 'jsonl' | 'parquet'> = { csv: 'csv', jsonl: 'jsonl', ndjson: 'jsonl', parquet: 'parquet' };

/** Checks a dataset against a pipeline's schema and validation rules, as the validate step of a run does; no Temporal server. */
export const validateCommand = defineCommand({
  name: 'validate',
  summary: "check a dataset against a pipeline's schema and rules (no server)",
  details: `Reads the pipeline's own source (local or s3://), or the file given with --data (.csv, or
.jsonl/.ndjson JSON lines), and checks it as the validate step of a run does: readable UTF-8
(or the source's declared encoding), no column named twice, the pipeline's columns and types,
labels on every row, and the pipeline's validation limits (minRows, maxNullShare,
maxDuplicateShare, extraColumns). For classification, label classes are also checked against
the current champion's, read from the store (RETRAIN_STORE) when it has one.

Prints every problem at once. Exit codes: 0 the data is valid, 1 it is not (InvalidDataset),
2 bad arguments, an unknown or invalid pipeline, or a file that cannot be opened.
--data reads a regular file: a pipe or /dev/stdin is refused (no extension to read the
format from, and validation needs the whole file).`,
  positionals: [pipelineArgument],
  flags: {
    data: {
      type: 'string',
      schema: z.string().min(1, 'expected a file: --data FILE (.csv or .jsonl)').optional(),
      placeholder: 'FILE',
      description: 'check this file (.csv, .jsonl or .ndjson) instead of the pipeline source',
      shownDefault: "the pipeline's source",
    },
    json: { ...jsonFlag, description: 'print the validation report as JSON (.ok, .problems, .columns)' },
  },
  examples: ['retrain validate churn', 'retrain validate churn --data new-batch.csv', 'retrain validate churn --json | jq .problems'],
  async run(args) {
    const config = loadConfig();
    const pipeline = await loadPipeline(config.projectDir, args.pipeline);
    const work = await mkdtemp(join(tmpdir(), 'retrain-validate-'));
    let data: DataFile;
    let checked: Awaited<ReturnType<typeof check>>;
    try {
      data = args.data === undefined ? await fetchPipelineSource(config, pipeline, work) : await dataFile(args.data);
      checked = await check(config, pipeline, data);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
    const { report, notes } = checked;
    const what = `${data.label} (pipeline ${pipeline.name})`;
    if (args.json) {
      output(true, { pipeline: pipeline.name, data: data.label, ...report, notes }, () => '');
      return report.ok ? 0 : 1;
    }
    const noteLines = notes.map((n) => `  note: ${n}`);
    if (!report.ok) {
      if (noteLines.length) process.stdout.write(noteLines.join('\n') + '\n');
      assertValid(report, what, { model: pipeline.name, step: 'validate' });
    }
    output(false, null, () => [`${what}: ${report.rows} rows valid`, ...noteLines].join('\n'));
    return 0;
  },
});

/**
 * The validation report of the data, with the champion's label classes when the store has a
 * champion; a store that cannot be read leaves that check out, with a note saying so.
 */
async function check(
  config: ReturnType<typeof loadConfig>,
  pipeline: Pipeline,
  data: DataFile,
): Promise<{ report: ValidationReport; notes: string[] }> {
  const notes: string[] = [];
  // A store that cannot be read leaves the champion check out, with a note.
  const champion = async () => {
    try {
      return await championClasses(createStore(config), pipeline);
    } catch (err) {
      notes.push(`label classes not checked against the champion: ${(err as Error).message.split('\n')[0]}`);
      return null;
    }
  };
  const encoding = pipeline.source.kind !== 'postgres' ? pipeline.source.encoding : undefined;
  const report = await validateRows(data.input, data.format, data.label, pipeline, champion, encoding);
  return { report, notes: [...report.notes, ...notes] };
}

/** The data to check, on disk (validation streams it: a file of any size is read with bounded memory). */
interface DataFile {
  input: RowInput;
  format: TableFormat;
  /** How messages name the data. */
  label: string;
}

async function fetchPipelineSource(config: ReturnType<typeof loadConfig>, pipeline: Pipeline, work: string): Promise<DataFile> {
  const path = join(work, 'source');
  await sourceFetcher(config)(
    pipeline.source,
    `data source of pipeline "${pipeline.name}"`,
    { model: pipeline.name, step: 'validate' },
    path,
    {
      columns: pipeline,
    },
  );
  return { input: { path }, format: sourceFormat(pipeline.source), label: describeSource(pipeline.source) };
}

async function dataFile(path: string): Promise<DataFile> {
  const extension = /\.([^./]+)$/.exec(path)?.[1]?.toLowerCase();
  const format = extension === undefined ? undefined : DATA_EXTENSIONS[extension];
  if (!format) {
    throw new InvalidInputError(
      `--data ${path}: expected a .csv, .jsonl, .ndjson or .parquet file (the format is read from the extension; pipes and /dev/stdin are not read)`,
      { step: 'cli' },
    );
  }
  const full = resolve(path);
  let why: string | null = null;
  try {
    if (!(await stat(full)).isFile()) why = 'is a directory';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    why = code === 'ENOENT' ? 'no such file' : (err as Error).message;
  }
  if (why) throw new InvalidInputError(`--data ${path}: ${why}`, { step: 'cli' });
  return { input: { path: full }, format, label: `--data ${path}` };
}
