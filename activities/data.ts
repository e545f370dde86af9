import { hashOf, sha256 } from '../lib/canonical-json';
import { InvalidDatasetError } from '../lib/errors';
import { keys } from '../lib/keys';
import { sourceFormat, type Pipeline } from '../lib/pipeline';
import { splitIndexes } from '../lib/split';
import { parseTable, toCsv, type Table } from '../lib/table';
import { describeProblems, validateDataset, type ValidationReport } from '../lib/validate-dataset';
import type { DatasetSnapshot, DatasetSplit } from '../shared/results';
import type { ActivityDeps } from './deps';
import { sourceReader } from '../services/sources';
import { step, writeAudit } from './step';

export function dataActivities({ store, config }: ActivityDeps) {
  const readSource = sourceReader(config);

  async function loadSnapshot(pipeline: Pipeline, snapshot: DatasetSnapshot): Promise<Table> {
    const body = await store.get(snapshot.key);
    if (!body) throw new Error(`snapshot ${snapshot.key} is missing from the store (${store.location})`);
    return parseTable(body, snapshot.format, `snapshot ${snapshot.sha256.slice(0, 12)} of ${pipeline.name}`);
  }

  return {
    /** Reads the pipeline's labelled data and stores it under the hash of its content. */
    async snapshotDataset(input: { pipeline: Pipeline }): Promise<DatasetSnapshot> {
      const { pipeline } = input;
      return step('pull', { model: pipeline.name }, async () => {
        const body = await readSource(pipeline.source, `data source of pipeline "${pipeline.name}"`, { model: pipeline.name, step: 'pull' });
        const format = sourceFormat(pipeline.source);
        const hash = sha256(body);
        const key = keys.snapshot(pipeline.name, hash, format);
        const created = await store.putIfAbsent(key, body);
        const snapshot = { sha256: hash, key, format, bytes: body.length, created };
        await writeAudit(store, {
          type: 'snapshot',
          model: pipeline.name,
          version: null,
          outcome: 'ok',
          summary: `${created ? 'snapshotted' : 'reused existing snapshot'} ${hash.slice(0, 12)} (${body.length} bytes) from ${pipeline.source.path}`,
          details: { ...snapshot, source: pipeline.source.path },
        });
        return snapshot;
      });
    },

    /** Checks the snapshot against the pipeline; a bad dataset fails non-retryably with every problem listed. */
    async validateSnapshot(input: { pipeline: Pipeline; snapshot: DatasetSnapshot }): Promise<ValidationReport> {
      const { pipeline, snapshot } = input;
      return step('validate', { model: pipeline.name }, async () => {
        const report = validateDataset(await loadSnapshot(pipeline, snapshot), pipeline);
        await writeAudit(store, {
          type: 'validation',
          model: pipeline.name,
          version: null,
          outcome: report.ok ? 'ok' : 'failed',
          summary: report.ok ? `${report.rows} rows valid` : `${report.problems.length} problem(s): ${report.problems.map((p) => p.message).join('; ')}`,
          details: { snapshot: snapshot.sha256, report },
        });
        if (!report.ok) {
          throw new InvalidDatasetError(
            `dataset ${snapshot.sha256.slice(0, 12)} of ${pipeline.name} is invalid:\n${describeProblems(report)}`,
            { model: pipeline.name, step: 'validate' },
            report,
          );
        }
        return report;
      });
    },

    /** Writes the deterministic train/holdout split (only the columns training needs). */
    async splitDataset(input: { pipeline: Pipeline; snapshot: DatasetSnapshot }): Promise<DatasetSplit> {
      const { pipeline, snapshot } = input;
      return step('split', { model: pipeline.name }, async () => {
        const table = await loadSnapshot(pipeline, snapshot);
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
          const body = await readSource(pipeline.holdout.source, `holdout source of pipeline "${pipeline.name}"`, { model: pipeline.name, step: 'split' });
          const holdoutTable = parseTable(body, sourceFormat(pipeline.holdout.source), `holdout ${pipeline.holdout.source.path}`);
          const report = validateDataset(holdoutTable, { ...pipeline, validation: { ...pipeline.validation, minRows: 1 } });
          if (!report.ok) {
            throw new InvalidDatasetError(`holdout ${pipeline.holdout.source.path} of ${pipeline.name} is invalid:\n${describeProblems(report)}`, { model: pipeline.name, step: 'split' }, report);
          }
          train = toCsv(table, columns);
          holdout = toCsv(holdoutTable, columns);
          counts = [table.rows.length, holdoutTable.rows.length];
          holdoutId = { holdoutSha256: sha256(body) };
        }
        const splitId = hashOf({ holdoutId, columns, task: pipeline.task }).slice(0, 12);
        const trainKey = keys.split(pipeline.name, snapshot.sha256, splitId, 'train');
        const holdoutKey = keys.split(pipeline.name, snapshot.sha256, splitId, 'holdout');
        // Same snapshot and settings give the same bytes, so rewriting is harmless.
        await store.put(trainKey, train);
        await store.put(holdoutKey, holdout);
        return { splitId, trainKey, holdoutKey, trainRows: counts[0], holdoutRows: counts[1] };
      });
    },
  };
}
