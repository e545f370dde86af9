import { cancelled } from '@temporalio/activity';
import { access, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { durationToMs } from '../lib/duration';
import { TrainingContractError, type ErrorContext } from '../lib/errors';
import { keys } from '../lib/keys';
import type { Pipeline } from '../lib/pipeline';
import { parseTrainingResult, TRAIN_CONTRACT } from '../lib/training-contract';
import { inScratchDir } from '../services/runner/scratch';
import type { DatasetSplit, TrainedModel } from '../shared/results';
import type { ActivityDeps } from './deps';
import { step, writeAudit } from './step';
import { failOnExit, runContract } from '../services/runner/contract';
import { activityHooks, attemptDir } from './attempt';

export function trainingActivities(deps: ActivityDeps) {
  const { store, config } = deps;

  return {
    /**
     * Runs the pipeline's training command on the split (training/CONTRACT.md), validates its
     * result and uploads the artefacts under the version's key. Heartbeats with progress.
     */
    async trainModel(input: { pipeline: Pipeline; split: DatasetSplit; version: string }): Promise<TrainedModel> {
      const { pipeline, split, version } = input;
      const ctx: ErrorContext = { model: pipeline.name, version, step: 'train' };
      const dir = attemptDir(config.workDir, pipeline.name, version, 'train');
      return step('train', { model: pipeline.name, version }, () => inScratchDir(dir, async () => {
        const started = Date.now();
        const outputDir = join(dir, 'out');
        await mkdir(outputDir, { recursive: true });
        const trainPath = join(dir, 'train.csv');
        const holdoutPath = join(dir, 'holdout.csv');
        await store.download(split.trainKey, trainPath);
        await store.download(split.holdoutKey, holdoutPath);
        const request = {
          contract: TRAIN_CONTRACT,
          model: pipeline.name,
          task: pipeline.task,
          trainPath,
          holdoutPath,
          outputDir,
          labelColumn: pipeline.label,
          features: pipeline.features,
          params: pipeline.training.params,
          seed: pipeline.training.seed,
        };
        const hooks = activityHooks(ctx);
        const run = await runContract({ command: pipeline.training.command, dir, request, timeoutMs: durationToMs(pipeline.training.timeout), python: config.python, cwd: config.projectDir, hooks });
        if (run.killedFor === 'cancelled') await cancelled();
        failOnExit(run, 'training', ctx);

        const resultText = await readFile(join(outputDir, 'result.json'), 'utf8').catch(() => {
          throw new TrainingContractError('training exited 0 but wrote no result.json', ctx);
        });
        const result = parseTrainingResult(resultText, ctx);
        if (pipeline.task === 'classification' && !result.classes) {
          throw new TrainingContractError('result.json must list "classes" for a classification model', ctx);
        }
        const artifacts: Record<string, string> = {};
        for (const [name, file] of Object.entries(result.artifacts)) {
          const local = join(outputDir, file);
          await access(local).catch(() => {
            throw new TrainingContractError(`result.json names artifact "${name}" (${file}) but the file does not exist`, ctx);
          });
          artifacts[name] = keys.artifact(pipeline.name, version, file);
          await store.upload(local, artifacts[name]);
        }
        await store.put(keys.artifact(pipeline.name, version, 'result.json'), resultText);
        const trained: TrainedModel = {
          artifacts,
          classes: result.classes ?? null,
          trainMetrics: result.metrics,
          libraryVersions: result.libraryVersions,
          durationMs: Date.now() - started,
        };
        await writeAudit(store, {
          type: 'training',
          model: pipeline.name,
          version,
          outcome: 'ok',
          summary: `trained ${version} in ${(trained.durationMs / 1000).toFixed(1)}s`,
          details: { trainMetrics: trained.trainMetrics, libraryVersions: trained.libraryVersions, params: pipeline.training.params },
        });
        return trained;
      }));
    },
  };
}
