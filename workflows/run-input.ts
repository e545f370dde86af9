import { ActivityFailure, ApplicationFailure, patched, proxyLocalActivities } from '@temporalio/workflow';
import type { LightActivities } from '../activities';
import { ErrorType, NON_RETRYABLE } from '../lib/errors';
import type { Pipeline, SourceWindow } from '../lib/pipeline';
import type { ResolvedWindow } from '../lib/time-window';
import type { RollbackInput } from '../shared/inputs';
import type { CheckedRetrainInput } from '../shared/results';
import { durationToMs } from '../lib/duration';

/**
 * A workflow can be started by anything (the CLI, a schedule, `temporal workflow start`, Python),
 * so each run checks its input when it starts, with the same zod schemas as everything else. The
 * check runs in the worker, as a local activity (quick and pure; its result, the definition used,
 * is recorded in the history), not in the workflow sandbox, which would load the schema library
 * again for every run. Runs recorded before the check moved have no marker of this patch and
 * replay as they ran (see `recorded…` below).
 */
export const INPUT_CHECKED_BY_WORKER = 'input-checked-by-worker';

const checks = proxyLocalActivities<LightActivities>({
  startToCloseTimeout: '1m',
  retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 10, nonRetryableErrorTypes: NON_RETRYABLE },
});

/** Loads a pipeline definition by name on a worker (the `resolvePipeline` activity). */
export type PipelineResolver = (input: { model: string }) => Promise<Pipeline>;

/** What a run's input says before it is checked. */
interface UncheckedInput {
  model?: string;
  pipeline?: Pipeline;
  asOf?: string | null;
}

/**
 * A retraining run's pipeline, asOf and window, from its input (see `checkRetrainInput`). Bad
 * input fails the run at once, without retries, naming each field.
 */
export async function retrainInput(input: unknown, startTime: Date, resolve: PipelineResolver): Promise<CheckedRetrainInput> {
  if (patched(INPUT_CHECKED_BY_WORKER)) return asRunFailure(checks.checkRetrainInput({ input, startTime: startTime.toISOString() }));
  return recordedRetrainInput(input as UncheckedInput, startTime, resolve);
}

/** A drift check's pipeline, from its input (see `checkDriftInput`). */
export async function driftInput(input: unknown, resolve: PipelineResolver): Promise<Pipeline> {
  if (patched(INPUT_CHECKED_BY_WORKER)) return asRunFailure(checks.checkDriftInput({ input }));
  const { model, pipeline } = input as UncheckedInput;
  return pipeline ?? (await resolve({ model: model! }));
}

/** A rollback request, checked (see `checkRollbackInput`). */
export async function rollbackInput(input: unknown): Promise<RollbackInput> {
  if (patched(INPUT_CHECKED_BY_WORKER)) return asRunFailure(checks.checkRollbackInput({ input }));
  return input as RollbackInput;
}

/**
 * Bad input fails the run itself, as it did when the workflow checked its input: with the
 * check's own failure (InvalidInput, its message and details), never wrapped in an activity
 * failure (the SDK hands a local activity's failure over bare today; unwrap it should that change).
 */
async function asRunFailure<T>(check: Promise<T>): Promise<T> {
  try {
    return await check;
  } catch (err) {
    const failure = err instanceof ActivityFailure ? err.cause : err;
    if (failure instanceof ApplicationFailure && failure.type === ErrorType.INVALID_INPUT) throw failure;
    throw err;
  }
}

/*
 * Runs recorded before the check moved to the worker replay without a check, with the commands
 * they issued: their input passed the workflow's own check when they started (a run that failed
 * it has ended then), an inline definition as Retrain's clients send it is already complete, and
 * one loaded by name comes from `resolvePipeline`, checked there.
 */
async function recordedRetrainInput(input: UncheckedInput, startTime: Date, resolve: PipelineResolver): Promise<CheckedRetrainInput> {
  const backfill = input.asOf !== undefined && input.asOf !== null;
  // Retrain's clients send asOf normalised already; the snapshot step reads any other form itself.
  const asOfMs = backfill ? Date.parse(input.asOf!) : startTime.getTime();
  const asOf = Number.isNaN(asOfMs) ? input.asOf! : new Date(asOfMs).toISOString();
  const pipeline = input.pipeline ?? (await resolve({ model: input.model! }));
  const { window } = pipeline.source;
  if (backfill && !window) {
    throw ApplicationFailure.nonRetryable(
      `retrainPipeline input is invalid: asOf ${asOf}: pipeline ${pipeline.name} has no source.window`,
      ErrorType.INVALID_INPUT,
    );
  }
  return { pipeline, asOf, backfill, window: window && !Number.isNaN(asOfMs) ? windowAsOf(window, asOfMs) : null };
}

/** lib/time-window.ts's resolveWindow, on an asOf already parsed. */
function windowAsOf(window: SourceWindow, asOfMs: number): ResolvedWindow {
  return {
    column: window.column,
    from: window.last === undefined ? null : new Date(asOfMs - durationToMs(window.last)).toISOString(),
    to: new Date(asOfMs).toISOString(),
  };
}
