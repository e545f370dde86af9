import { cancelled } from '@temporalio/activity';
import type { Pipeline } from '../lib/pipeline';
import { inScratchDir } from '../services/runner/scratch';
import { trainVersion } from '../services/runner/train';
import type { DatasetSplit, TrainedModel } from '../shared/results';
import { activityHooks, attemptDir } from './attempt';
import type { ActivityDeps } from './deps';
import { step, writeAudit } from './step';

/** Training on the `training` queue: the training subprocess, scaled out separately. */
export function trainingActivities({ store, config }: ActivityDeps) {
  return {
    /**
     * Runs the pipeline's training command on the split (training/CONTRACT.md), validates its
     * result and uploads the artefacts under the version's key. Heartbeats with progress.
     */
    async trainModel(input: { pipeline: Pipeline; split: DatasetSplit; version: string }): Promise<TrainedModel> {
      const { pipeline, split, version } = input;
      const dir = attemptDir(config.workDir, pipeline.name, version, 'train');
      return step('train', { model: pipeline.name, version }, () =>
        inScratchDir(dir, async () => {
          const hooks = activityHooks({ model: pipeline.name, version, step: 'train' });
          const trained = await trainVersion({ store, config }, { pipeline, split, version, dir, hooks });
          if (!trained) return cancelled();
          await writeAudit(store, {
            type: 'training',
            model: pipeline.name,
            version,
            outcome: 'ok',
            summary: `trained ${version} in ${(trained.durationMs / 1000).toFixed(1)}s`,
            details: { trainMetrics: trained.trainMetrics, libraryVersions: trained.libraryVersions, params: pipeline.training.params },
          });
          return trained;
        }),
      );
    },
  };
}
