import { activityInfo, cancellationSignal, cancelled, heartbeat, log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { access, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { durationToMs } from '../lib/duration';
import { TrainingContractError, type ErrorContext } from '../lib/errors';
import { keys } from '../lib/keys';
import type { Pipeline } from '../lib/pipeline';
import type { ModelVersion } from '../lib/registry';
import { parsePredictions, parseTrainingResult, PREDICT_CONTRACT, TRAIN_CONTRACT, type PredictionLine } from '../lib/training-contract';
import type { DatasetSplit } from './data';
import type { ActivityDeps } from './deps';
import { step, writeAudit } from './step';
import { runContractCommand, type ContractRun } from './subprocess';

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
        const run = await runCommand(pipeline.training.command, dir, request, durationToMs(pipeline.training.timeout), config.python, config.projectDir, ctx);
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
 * validated predictions, in input order.
 */
export async function predictWithVersion(
  deps: ActivityDeps,
  opts: { pipeline: Pipeline; model: ModelVersion; inputPath: string; rows: number; purpose: 'evaluate' | 'verify' | 'serve'; dir: string },
): Promise<PredictionLine[]> {
  const { store, config } = deps;
  const ctx: ErrorContext = { model: opts.model.model, version: opts.model.version, step: opts.purpose };
  const modelDir = join(opts.dir, opts.model.version);
  const artifacts: Record<string, string> = {};
  for (const [name, key] of Object.entries(opts.model.artifacts)) {
    const file = key.slice(keys.artifact(opts.model.model, opts.model.version, '').length);
    await store.download(key, join(modelDir, file));
    artifacts[name] = file;
  }
  const outputPath = join(opts.dir, `${opts.model.version}-${opts.purpose}.jsonl`);
  const request = {
    contract: PREDICT_CONTRACT,
    task: opts.model.task,
    modelDir,
    artifacts,
    inputPath: opts.inputPath,
    outputPath,
    features: opts.model.lineage.features,
    purpose: opts.purpose,
  };
  const run = await runCommand(opts.pipeline.training.predictCommand, join(opts.dir, `${opts.model.version}-${opts.purpose}`), request, durationToMs(opts.pipeline.training.timeout), config.python, config.projectDir, ctx);
  failOnExit(run, 'predict', ctx);
  const text = await readFile(outputPath, 'utf8').catch(() => {
    throw new TrainingContractError('predict exited 0 but wrote no output file', ctx);
  });
  return parsePredictions(text, opts.rows, opts.model.task, opts.model.classes, ctx);
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

async function runCommand(
  command: string[],
  dir: string,
  request: object,
  timeoutMs: number,
  python: string,
  cwd: string,
  ctx: ErrorContext,
): Promise<ContractRun> {
  await mkdir(dir, { recursive: true });
  const requestPath = join(dir, 'request.json');
  await writeFile(requestPath, JSON.stringify(request, null, 2));
  let last: Record<string, unknown> = {};
  const run = await runContractCommand({
    command,
    requestPath,
    cwd,
    python,
    timeoutMs,
    signal: cancellationSignal(),
    onProgress: (progress) => {
      last = progress;
      heartbeat(progress);
      log.info(`${ctx.step} progress`, { ...ctx, progress });
    },
    onOutput: (line, stream) => log.debug(`${ctx.step} ${stream}: ${line}`, ctx),
    onTick: () => heartbeat(last),
  });
  if (run.killedFor === 'cancelled') await cancelled();
  return run;
}

function failOnExit(run: ContractRun, what: string, ctx: ErrorContext): void {
  if (run.exitCode === 0) return;
  const tail = run.stderrTail ? `\n${run.stderrTail}` : '';
  if (run.killedFor === 'timeout') throw new Error(`${what} timed out and was stopped${tail}`);
  if (run.exitCode === 2) {
    throw ApplicationFailure.nonRetryable(`${what} rejected its input (exit 2)${tail}`, 'TrainingBadInput', { context: ctx });
  }
  const how = run.signal ? `was killed by ${run.signal}` : `exited with code ${run.exitCode}`;
  throw new Error(`${what} ${how} (will be retried)${tail}`);
}
