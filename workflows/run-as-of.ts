import { ApplicationFailure } from '@temporalio/workflow';
import { z } from 'zod';
import { ErrorType } from '../lib/errors';
import type { Pipeline } from '../lib/pipeline';
import { asOfProblem, asOfSchema, resolveWindow, type ResolvedWindow } from '../lib/time-window';
import { checkedInput } from './checked-input';

/**
 * The time a run reads its data as of (ISO-8601 UTC): the input's `asOf` (a backfill), validated
 * against the run's start (a run cannot read the future), else the run's start. Both come from
 * the history, so a replay, or a rerun of the run, reads the same rows. A null `asOf` (a Python
 * `None`) counts as none. Bad input fails the run at once, without retries.
 */
export function inputAsOf(input: unknown, startTime: Date): { asOf: string; backfill: boolean } {
  const given = typeof input === 'object' && input !== null ? (input as { asOf?: unknown }).asOf : undefined;
  if (given === undefined || given === null) return { asOf: startTime.toISOString(), backfill: false };
  const schema = z.object({ asOf: asOfSchema(() => startTime.getTime()) });
  return { asOf: checkedInput(schema, { asOf: given }, 'retrainPipeline input').asOf, backfill: true };
}

/**
 * The rows of the pipeline's training source the run reads as of `asOf`, or null when the source
 * has no window (every row). A backfill (an asOf given in the input) of a source without a window
 * is refused: it would silently train on today's data.
 */
export function runWindow(pipeline: Pipeline, asOf: string, backfill: boolean): ResolvedWindow | null {
  const { window } = pipeline.source;
  const problem = backfill ? asOfProblem(pipeline.name, window) : null;
  if (problem) throw ApplicationFailure.nonRetryable(`retrainPipeline input is invalid: asOf ${asOf}: ${problem}`, ErrorType.INVALID_INPUT);
  return window ? resolveWindow(window, asOf) : null;
}
