import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RegistryConflictError, TrainingContractError } from '../lib/errors';
import { scorePredictions } from '../lib/evaluate';
import type { Metrics } from '../lib/gate';
import { outputKind } from '../lib/feature-kind';
import { keys } from '../lib/keys';
import { MetricInputError } from '../lib/metrics';
import type { Pipeline } from '../lib/pipeline';
import { parseTable, toCsv, type Table } from '../lib/table';
import type { ModelOutput } from '../lib/training-contract';
import type { DatasetSplit, Evaluation } from '../shared/results';
import type { ActivityDeps } from './deps';
import { saveReferenceProfile } from '../services/reference-profiles';
import { readPointer, readVersion } from '../services/registry';
import { step, writeAudit } from './step';
import { inScratchDir } from '../services/runner/scratch';
import { attemptDir, predictWithVersion } from './attempt';

/** Scoring on the `training` queue (predict subprocesses): evaluate the candidate, verify the champion. */
export function evaluationActivities(deps: ActivityDeps) {
  const { store, config } = deps;

  async function loadHoldout(split: DatasetSplit, dir: string): Promise<{ path: string; table: Table }> {
    const path = join(dir, 'holdout.csv');
    await store.download(split.holdoutKey, path);
    return { path, table: parseTable(await readFile(path), 'csv', 'holdout') };
  }

  /** The challenger's holdout predictions: the reference that prediction drift is measured against. */
  async function savePredictionReference(pipeline: Pipeline, version: string, predictions: ModelOutput[]): Promise<void> {
    await saveReferenceProfile(store, {
      model: pipeline.name,
      version,
      name: 'prediction',
      table: { columns: ['prediction'], rows: predictions.map((p) => [String(p.prediction)]) },
      columns: [{ name: 'prediction', kind: outputKind(pipeline.task) }],
    });
  }

  return {
    /**
     * Scores the challenger and the current champion on the same holdout with the same code
     * (lib/evaluate.ts), and stores the result beside the registry.
     */
    async evaluateCandidate(input: { pipeline: Pipeline; version: string; split: DatasetSplit }): Promise<Evaluation> {
      const { pipeline, version, split } = input;
      const dir = attemptDir(config.workDir, pipeline.name, version, 'evaluate');
      return step('evaluate', { model: pipeline.name, version }, () => inScratchDir(dir, async () => {
        const holdout = await loadHoldout(split, dir);
        const labelIndex = holdout.table.columns.indexOf(pipeline.label);
        const labels = holdout.table.rows.map((r) => r[labelIndex] ?? '');
        const { pointer } = await readPointer(store, pipeline.name);
        const championVersion = pointer.champion && pointer.champion !== version ? pointer.champion : null;

        const score = async (v: string): Promise<Metrics> => {
          const model = await readVersion(store, pipeline.name, v);
          const predictions = await predictWithVersion(deps, { pipeline, model, inputPath: holdout.path, rows: labels.length, purpose: 'evaluate', dir });
          if (v === version) await savePredictionReference(pipeline, v, predictions);
          try {
            return scorePredictions({ task: pipeline.task, labels, predictions, classes: model.classes, positiveClass: pipeline.positiveClass });
          } catch (err) {
            if (err instanceof MetricInputError) throw new TrainingContractError(`cannot score ${v} on the holdout: ${err.message}`, { model: pipeline.name, version: v, step: 'evaluate' });
            throw err;
          }
        };
        const challenger = await score(version);
        const champion = championVersion ? await score(championVersion) : null;
        const key = keys.evaluation(pipeline.name, version, championVersion);
        const evaluation = { challenger, champion, championVersion, holdoutRows: labels.length, key };
        await store.put(key, JSON.stringify({ model: pipeline.name, version, holdoutKey: split.holdoutKey, ...evaluation }, null, 2));
        await writeAudit(store, {
          type: 'evaluation',
          model: pipeline.name,
          version,
          outcome: 'ok',
          summary: `${pipeline.metrics.primary}: challenger ${fmt(challenger[pipeline.metrics.primary])}, champion ${championVersion ? `${championVersion} ${fmt(champion![pipeline.metrics.primary])}` : 'none'} on ${labels.length} holdout rows`,
          details: { challenger, champion, championVersion, holdoutKey: split.holdoutKey },
        });
        return evaluation;
      }));
    },

    /**
     * After promotion: loads the champion from the registry and predicts a sample of the
     * holdout. Any failure here makes the workflow roll back.
     */
    async verifyChampion(input: { pipeline: Pipeline; version: string; split: DatasetSplit }): Promise<{ rows: number }> {
      const { pipeline, version, split } = input;
      const dir = attemptDir(config.workDir, pipeline.name, version, 'verify');
      return step('verify', { model: pipeline.name, version }, () => inScratchDir(dir, async () => {
        const { pointer } = await readPointer(store, pipeline.name);
        if (pointer.champion !== version) {
          throw new RegistryConflictError(`expected ${version} to be champion of ${pipeline.name}, found ${pointer.champion ?? 'none'}: someone else promoted or rolled back since`, { model: pipeline.name, version, step: 'verify' });
        }
        const { table } = await loadHoldout(split, dir);
        const rows = Math.min(pipeline.verification.sampleRows, table.rows.length);
        const samplePath = join(dir, 'sample.csv');
        await writeFile(samplePath, toCsv({ columns: table.columns, rows: table.rows.slice(0, rows) }));
        const model = await readVersion(store, pipeline.name, version);
        await predictWithVersion(deps, { pipeline, model, inputPath: samplePath, rows, purpose: 'verify', dir });
        await writeAudit(store, {
          type: 'verification',
          model: pipeline.name,
          version,
          outcome: 'ok',
          summary: `champion ${version} loaded from the registry and predicted ${rows} rows`,
        });
        return { rows };
      }));
    },
  };
}

function fmt(value: number | null | undefined): string {
  return value === null || value === undefined ? 'n/a' : value.toFixed(4);
}
