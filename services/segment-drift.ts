import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { ColumnSample, type SampledColumns } from '../lib/column-sample';
import type { RetrainConfig } from '../lib/config';
import type { Columns, FeatureSpec } from '../lib/drift/dataset-drift';
import type { TestedSegments } from '../lib/drift/report';
import { segmentsNotTested, testSegments } from '../lib/drift/segments';
import type { FeatureKind } from '../lib/feature-kind';
import { requireDrift, type Pipeline } from '../lib/pipeline';
import type { PredictionColumn } from '../lib/prediction-columns';
import { seedOf } from '../lib/seed';
import type { Store } from '../store/store';
import { readCsvCells } from './dataset-rows';
import { readVersion } from './registry';
import { inScratchDir, scratchPath } from './runner/scratch';

/**
 * Most training rows a check reads for its segments: a seeded uniform sample beyond, as the
 * reference profile keeps at most 200,000 values per column.
 */
export const MAX_SEGMENT_REFERENCE_ROWS = 200_000;

/** The segment columns a pipeline names; a pipeline recorded before segments existed has none. */
export function segmentColumnsOf(pipeline: Pipeline): string[] {
  return pipeline.segments ?? [];
}

/** What a check's segments are cut from: the window's columns and the features tested. */
export interface SegmentDriftRequest {
  pipeline: Pipeline;
  version: string;
  checkId: string;
  features: readonly FeatureSpec[];
  /** The window's feature columns, as the whole window is tested on them. */
  current: Columns;
  /** Every logged feature column of the window (segment columns need not be model features). */
  logged: Readonly<Record<string, PredictionColumn>>;
  rows: number;
}

/**
 * Drift per segment of an exact check (lib/drift/segments.ts): the champion's training split,
 * the rows of which the reference profile only keeps summaries of, is read again (the features
 * and segment columns only; at most {@link MAX_SEGMENT_REFERENCE_ROWS} rows, a sample seeded by
 * the check id beyond) and each segment value's rows are tested against the window's. Null when
 * the pipeline names no segments.
 */
export async function measureSegmentDrift(
  deps: { store: Store; config: Pick<RetrainConfig, 'workDir'> },
  input: SegmentDriftRequest,
): Promise<TestedSegments | null> {
  const { pipeline, version } = input;
  const columns = segmentColumnsOf(pipeline);
  if (columns.length === 0) return null;
  const drift = requireDrift(pipeline);
  const minRows = { reference: drift.minPredictions, current: drift.minPredictions };
  const model = await readVersion(deps.store, pipeline.name, version);
  const wanted = [
    ...input.features.map((f) => ({ name: f.name, kind: f.kind })),
    ...columns.map((name) => ({ name, kind: 'categorical' as FeatureKind })),
  ];
  const reference = await readTrainingSample(deps, {
    model: pipeline.name,
    version,
    key: model.lineage.trainKey,
    wanted,
    seed: seedOf(input.checkId),
  });
  if (reference.rows === 0) return segmentsNotTested({ columns, minRows }, `the training split of ${version} has no rows`);
  const present = new Set(reference.present);
  return testSegments({
    columns,
    reference: {
      columns: reference.columns,
      segments: Object.fromEntries(columns.filter((c) => present.has(c)).map((c) => [c, reference.columns[c]!])),
      rows: reference.rows,
      seen: reference.seen,
    },
    current: {
      columns: input.current,
      segments: Object.fromEntries(columns.filter((c) => Object.hasOwn(input.logged, c)).map((c) => [c, input.logged[c]!])),
      rows: input.rows,
    },
    features: input.features,
    datasetDriftShare: drift.datasetDriftShare,
    minRows,
    // A split keeps the columns its pipeline used then: segment columns that are not features only since segments exist.
    referenceLabel: `the training split of ${version} (a version trained before the column was a segment does not keep it: retrain)`,
  });
}

/** The wanted columns of a stored training split, sampled while read: the split is never held whole. */
async function readTrainingSample(
  deps: { store: Store; config: Pick<RetrainConfig, 'workDir'> },
  input: { model: string; version: string; key: string; wanted: { name: string; kind: FeatureKind }[]; seed: number },
): Promise<SampledColumns> {
  const sample = new ColumnSample({ columns: input.wanted, maxRows: MAX_SEGMENT_REFERENCE_ROWS, seed: input.seed });
  const read = (path: string) => readCsvCells({ path }, input.key, (header) => sample.sinkFor(header));
  const inPlace = deps.store.localFile ? await deps.store.localFile(input.key) : null;
  if (inPlace) await read(inPlace);
  else {
    const dir = scratchPath(deps.config.workDir, input.model, input.version, `segments-${randomUUID()}`);
    await inScratchDir(dir, async () => {
      const path = join(dir, 'train.csv');
      await deps.store.download(input.key, path);
      await read(path);
    });
  }
  return sample.build();
}
