import { describeSource, type Pipeline } from '../lib/pipeline';
import { describeWindow } from '../lib/time-window';
import type { ValidationReport } from '../lib/validate-dataset';
import { assertValid, snapshotSource, splitSnapshot, validateSnapshot } from '../services/datasets';
import type { DatasetSnapshot, DatasetSplit } from '../shared/results';
import type { ActivityDeps } from './deps';
import { step, writeAudit } from './step';

/** The dataset steps on the `retrain` queue: pull (snapshot), validate, split. */
export function dataActivities({ store, config }: ActivityDeps) {
  return {
    /**
     * Reads the pipeline's labelled data (the rows of its window as of `asOf`, when the source has
     * one) and stores it under the hash of its content. `asOf` is absent only in activities
     * scheduled by workflow code older than windows.
     */
    async snapshotDataset(input: { pipeline: Pipeline; asOf?: string }): Promise<DatasetSnapshot> {
      const { pipeline, asOf } = input;
      return step('pull', { model: pipeline.name }, async () => {
        const snapshot = await snapshotSource({ store, config }, pipeline, { asOf });
        // The snapshot resolved the window (as of now for activities scheduled without asOf).
        const window = snapshot.window ?? null;
        // What the rows came from, in full: a query is recorded with its bound parameters.
        const source = pipeline.source;
        const query = source.kind === 'postgres' ? { query: source.query, params: source.params ?? [], urlEnv: source.urlEnv } : {};
        await writeAudit(store, {
          type: 'snapshot',
          model: pipeline.name,
          version: null,
          outcome: 'ok',
          summary: `${snapshot.created ? 'snapshotted' : 'reused existing snapshot'} ${snapshot.sha256.slice(0, 12)} (${snapshot.bytes} bytes) from ${describeSource(pipeline.source)}${window ? `, ${describeWindow(window)}` : ''}`,
          details: { ...snapshot, source: describeSource(source), ...query, asOf: snapshot.asOf ?? asOf ?? null, window },
        });
        return snapshot;
      });
    },

    /** Checks the snapshot against the pipeline; a bad dataset fails non-retryably with every problem listed. */
    async validateSnapshot(input: { pipeline: Pipeline; snapshot: DatasetSnapshot }): Promise<ValidationReport> {
      const { pipeline, snapshot } = input;
      return step('validate', { model: pipeline.name }, async () => {
        const report = await validateSnapshot(store, pipeline, snapshot);
        await writeAudit(store, {
          type: 'validation',
          model: pipeline.name,
          version: null,
          outcome: report.ok ? 'ok' : 'failed',
          summary: report.ok
            ? `${report.rows} rows valid`
            : `${report.problems.length} problem(s): ${report.problems.map((p) => p.message).join('; ')}`,
          details: { snapshot: snapshot.sha256, report },
        });
        assertValid(report, `dataset ${snapshot.sha256.slice(0, 12)} of ${pipeline.name}`, { model: pipeline.name, step: 'validate' });
        return report;
      });
    },

    /** Writes the deterministic train/holdout split (only the columns training needs). */
    async splitDataset(input: { pipeline: Pipeline; snapshot: DatasetSnapshot }): Promise<DatasetSplit> {
      return step('split', { model: input.pipeline.name }, () => splitSnapshot({ store, config }, input.pipeline, input.snapshot));
    },
  };
}
