import { activityInfo, cancellationSignal, cancelled, heartbeat, log } from '@temporalio/activity';
import { join } from 'node:path';
import { durationToMs } from '../lib/duration';
import type { ErrorContext } from '../lib/errors';
import type { Pipeline } from '../lib/pipeline';
import type { ModelVersion } from '../lib/registry';
import type { ModelOutput } from '../lib/training-contract';
import { materialiseArtifacts, runPredict, type CommandHooks } from '../services/runner/contract';
import { scratchPath } from '../services/runner/scratch';
import type { ActivityDeps } from './deps';

/*
 * What the subprocess activities share: a scratch directory per attempt, hooks that turn a
 * command's progress into heartbeats and the activity's cancellation into a stopped process
 * group, and the predict command of a registered version run under them.
 */

/**
 * Runs the predict command of a registered version on a local CSV of rows and returns its
 * validated predictions, in input order (heartbeating and cancellable, as an activity).
 */
export async function predictWithVersion(
  deps: ActivityDeps,
  opts: { pipeline: Pipeline; model: ModelVersion; inputPath: string; rows: number; purpose: 'evaluate' | 'verify' | 'serve'; dir: string },
): Promise<ModelOutput[]> {
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
 * A scratch directory unique to this activity attempt, so a retry never sees a half-written one;
 * `inScratchDir` removes it, and the model and version folders it leaves empty, when done.
 */
export function attemptDir(workDir: string, model: string, version: string, purpose: string): string {
  const info = activityInfo();
  return scratchPath(
    workDir,
    model,
    version,
    `${purpose}-${info.workflowExecution?.runId ?? 'standalone'}-${info.activityId}-${info.attempt}`,
  );
}

/** Progress becomes heartbeats and log lines; the activity's cancellation ends the process group. */
export function activityHooks(ctx: ErrorContext): CommandHooks {
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
