import { access, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RetrainConfig } from '../../lib/config';
import { durationToMs } from '../../lib/duration';
import { TrainingContractError, type ErrorContext } from '../../lib/errors';
import { keys } from '../../lib/keys';
import type { Pipeline } from '../../lib/pipeline';
import { parseTrainingResult, TRAIN_CONTRACT } from '../../lib/training-contract';
import type { DatasetSplit, TrainedModel } from '../../shared/results';
import type { Store } from '../../store/store';
import { failOnExit, runContract, type CommandHooks } from './contract';

/**
 * Runs the pipeline's training command on the split in `dir` (training/CONTRACT.md), validates
 * its result.json and uploads the artefacts under the version's key. Resolves to null when the
 * run was cancelled through `hooks.signal` (the caller decides what cancellation means).
 */
export async function trainVersion(
  deps: { store: Store; config: Pick<RetrainConfig, 'python' | 'projectDir'> },
  input: { pipeline: Pipeline; split: DatasetSplit; version: string; dir: string; hooks: CommandHooks },
): Promise<TrainedModel | null> {
  const { store, config } = deps;
  const { pipeline, split, version, dir } = input;
  const ctx: ErrorContext = { model: pipeline.name, version, step: 'train' };
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
  const timeoutMs = durationToMs(pipeline.training.timeout);
  const { progressTimeout } = pipeline.training;
  const run = await runContract({
    command: pipeline.training.command,
    dir,
    request,
    timeoutMs,
    python: config.python,
    cwd: config.projectDir,
    hooks: input.hooks,
    field: 'training.command',
    context: ctx,
    ...(progressTimeout ? { progressTimeoutMs: durationToMs(progressTimeout) } : {}),
  });
  if (run.killedFor === 'cancelled') return null;
  failOnExit(run, 'training', ctx, { progressTimeout });

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
  return {
    artifacts,
    classes: result.classes ?? null,
    trainMetrics: result.metrics,
    libraryVersions: result.libraryVersions,
    durationMs: Date.now() - started,
  };
}
