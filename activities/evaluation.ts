import type { Pipeline } from '../lib/pipeline';
import { evaluateCandidate, verifyChampion, type Predictor } from '../services/evaluation';
import { inScratchDir } from '../services/runner/scratch';
import type { DatasetSplit, Evaluation } from '../shared/results';
import { attemptDir, predictWithVersion } from './attempt';
import type { ActivityDeps } from './deps';
import { step, writeAudit } from './step';

/** Scoring on the `training` queue (predict subprocesses): evaluate the candidate, verify the champion. */
export function evaluationActivities(deps: ActivityDeps) {
  const { store, config } = deps;
  // Predictions heartbeat through this activity and stop when it is cancelled.
  const predictorFor =
    (pipeline: Pipeline, dir: string): Predictor =>
    (opts) =>
      predictWithVersion(deps, { pipeline, dir, ...opts });

  return {
    /**
     * Scores the challenger and the current champion on the same holdout with the same code
     * (lib/evaluate.ts), and stores the result beside the registry.
     */
    async evaluateCandidate(input: { pipeline: Pipeline; version: string; split: DatasetSplit }): Promise<Evaluation> {
      const { pipeline, version } = input;
      const dir = attemptDir(config.workDir, pipeline.name, version, 'evaluate');
      return step('evaluate', { model: pipeline.name, version }, () =>
        inScratchDir(dir, async () => {
          const evaluation = await evaluateCandidate(store, { ...input, dir, predict: predictorFor(pipeline, dir) });
          const { challenger, champion, championVersion } = evaluation;
          const primary = pipeline.metrics.primary;
          await writeAudit(store, {
            type: 'evaluation',
            model: pipeline.name,
            version,
            outcome: 'ok',
            summary: `${primary}: challenger ${fmt(challenger[primary])}, champion ${championVersion ? `${championVersion} ${fmt(champion?.[primary])}` : 'none'} on ${evaluation.holdoutRows} holdout rows`,
            details: { challenger, champion, championVersion, holdoutKey: input.split.holdoutKey },
          });
          return evaluation;
        }),
      );
    },

    /**
     * After promotion: loads the champion from the registry and predicts a sample of the
     * holdout. Any failure here makes the workflow roll back.
     */
    async verifyChampion(input: { pipeline: Pipeline; version: string; split: DatasetSplit }): Promise<{ rows: number }> {
      const { pipeline, version } = input;
      const dir = attemptDir(config.workDir, pipeline.name, version, 'verify');
      return step('verify', { model: pipeline.name, version }, () =>
        inScratchDir(dir, async () => {
          const { rows } = await verifyChampion(store, { ...input, dir, predict: predictorFor(pipeline, dir) });
          await writeAudit(store, {
            type: 'verification',
            model: pipeline.name,
            version,
            outcome: 'ok',
            summary: `champion ${version} loaded from the registry and predicted ${rows} rows`,
          });
          return { rows };
        }),
      );
    },
  };
}

function fmt(value: number | null | undefined): string {
  return value === null || value === undefined ? 'n/a' : value.toFixed(4);
}
