import { activityInfo, cancellationSignal, cancelled, heartbeat, log } from '@temporalio/activity';
import { access, mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { durationToMs } from '../lib/duration';
import { TrainingContractError, type ErrorContext } from '../lib/errors';
import { keys } from '../lib/keys';
import type { Pipeline } from '../lib/pipeline';
import type { ModelVersion } from '../lib/registry';
import { parseTrainingResult, TRAIN_CONTRACT, type PredictionLine } from '../lib/training-contract';
import type { DatasetSplit } from './data';
import type { ActivityDeps } from './deps';
import { step, writeAudit } from './step';
import { failOnExit, materialiseArtifacts, runContract, runPredict, type CommandHooks } from './predict';

export interface TrainedModel {
  artifacts: Record<string, string>;
  classes: string[] | null;
  trainMetrics: Record<string, number>;
  libraryVersions: Record<string, string>;
  durationMs: number;
}

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

/**
 * Runs the predict command of a registered version on a local CSV of rows and returns its
 * validated predictions, in input order (heartbeating and cancellable, as an activity).
 */
export async function predictWithVersion(
  deps: ActivityDeps,
  opts: { pipeline: Pipeline; model: ModelVersion; inputPath: string; rows: number; purpose: 'evaluate' | 'verify' | 'serve'; dir: string },
): Promise<PredictionLine[]> {
  const { store, config } = deps;
  const ctx: ErrorContext = { model: opts.model.model, version: opts.model.version, step: opts.purpose };
  const modelDir = join(opts.dir, opts.model.version);
  const artifacts = await materialiseArtifacts(store, opts.model, modelDir);
  const hooks = activityHooks(ctx);
  const predictions = await runPredict({
    command: opts.pipeline.training.predictCommand,
    model: opts.model,
    modelDir,
    artifacts,
    inputPath: opts.inputPath,
    rows: opts.rows,
    purpose: opts.purpose,
    dir: opts.dir,
    timeoutMs: durationToMs(opts.pipeline.training.timeout),
    python: config.python,
    cwd: config.projectDir,
    hooks,
  }).catch(async (err) => {
    if (hooks.signal.aborted) await cancelled();
    throw err;
  });
  return predictions;
}

/**
 * Runs `body` in a fresh scratch directory and removes it afterwards, failed or not: a worker
 * that keeps retrying must not fill its disk with copies of training data (errors already
 * carry the command's stderr tail).
 */
export async function inScratchDir<T>(dir: string, body: () => Promise<T>): Promise<T> {
  await mkdir(dir, { recursive: true });
  try {
    return await body();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A scratch directory unique to this activity attempt, so a retry never sees a half-written one. */
export function attemptDir(workDir: string, model: string, version: string, purpose: string): string {
  const info = activityInfo();
  return join(workDir, model, version, `${purpose}-${info.workflowExecution?.runId ?? 'standalone'}-${info.activityId}-${info.attempt}`);
}

/** Progress becomes heartbeats and log lines; the activity's cancellation ends the process group. */
function activityHooks(ctx: ErrorContext): CommandHooks {
  let last: Record<string, unknown> = {};
  return {
    signal: cancellationSignal(),
    onProgress: (progress) => {
      last = progress;
      heartbeat(progress);
      log.info(`${ctx.step} progress`, { ...ctx, progress });
    },
    onOutput: (line, stream) => log.debug(`${ctx.step} ${stream}: ${line}`, ctx),
    onTick: () => heartbeat(last),
  };
}
