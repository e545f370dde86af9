import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { RetrainConfig } from '../lib/config';
import type { Columns } from '../lib/drift/dataset-drift';
import type { MultivariateDrift } from '../lib/drift/report';
import { minDomainClassifierRows } from '../lib/drift/domain-classifier';
import { requireDrift, type Pipeline } from '../lib/pipeline';
import { seedOf } from '../lib/seed';
import type { Store } from '../store/store';
import { runDomainClassifier } from './domain-classifier';
import { readVersion } from './registry';
import { inScratchDir, scratchPath } from './runner/scratch';

/**
 * Multivariate drift of a check (drift.multivariate): a classifier trained to tell the champion's
 * training rows from the window's rows (training/domain_classifier.py). It sees the features
 * together, so it catches a change in how they go together (a correlation that flipped) that
 * every per-feature test misses. Null when the pipeline does not ask for it.
 */
export async function measureMultivariateDrift(
  deps: { store: Store; config: Pick<RetrainConfig, 'python' | 'projectDir' | 'workDir'> },
  input: { pipeline: Pipeline; version: string; checkId: string; current: Columns; currentRows: number },
): Promise<MultivariateDrift | null> {
  const { pipeline, version } = input;
  const settings = requireDrift(pipeline).multivariate;
  if (!settings) return null;
  const folds = settings.folds;
  const model = await readVersion(deps.store, pipeline.name, version);
  const features = pipeline.features.map((f) => ({ name: f.name, kind: f.type }));
  // Too few rows for the folds: no verdict from this test, said in the report, not an error.
  if (input.currentRows < minDomainClassifierRows(folds) || model.lineage.rows.train < minDomainClassifierRows(folds))
    return {
      method: 'domain-classifier',
      drifted: false,
      auc: null,
      threshold: settings.threshold,
      noiseBar: null,
      topFeatures: [],
      rows: null,
      note: `not tested: ${folds} folds need at least ${minDomainClassifierRows(folds)} rows in each window`,
    };
  const dir = scratchPath(deps.config.workDir, pipeline.name, version, `domain-${randomUUID()}`);
  return inScratchDir(dir, async () => {
    const referencePath = join(dir, 'train.csv');
    await deps.store.download(model.lineage.trainKey, referencePath);
    const outcome = await runDomainClassifier(deps, {
      model: pipeline.name,
      version,
      reference: { path: referencePath },
      current: input.current,
      features,
      dir,
      options: { threshold: settings.threshold, maxRows: settings.maxRows, folds, seed: seedOf(input.checkId) },
    });
    if (!outcome) throw new Error('the domain classifier was cancelled');
    const { verdict, result } = outcome;
    return {
      method: 'domain-classifier',
      drifted: verdict.drifted,
      auc: verdict.auc,
      threshold: verdict.threshold,
      noiseBar: verdict.noiseBar,
      topFeatures: verdict.topFeatures,
      rows: result.rows,
      note: verdict.note,
    };
  });
}
