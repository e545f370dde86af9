import { ApplicationFailure } from '@temporalio/activity';
import { z } from 'zod';
import { ErrorType, formatIssues } from '../lib/errors';
import { PIPELINE_NAME, pipelineSchema, type Pipeline } from '../lib/pipeline';
import { asOfProblem, asOfSchema, resolveWindow } from '../lib/time-window';
import { rollbackInputSchema, type RollbackInput } from '../shared/inputs';
import type { CheckedRetrainInput } from '../shared/results';

/*
 * A workflow can be started by anything (the CLI, a schedule, `temporal workflow start`, Python),
 * so its input is checked when the run starts: bad input fails at once, without retries, naming
 * each field. The check runs here, in the worker (a local activity), not in the workflow sandbox,
 * which would load the schema library again for every run.
 */

/** Loads a pipeline definition by name from the worker's project, validated (services/pipelines.ts). */
export type PipelineLoader = (model: string) => Promise<Pipeline>;

/**
 * A retraining run's input checked: the time it reads its data as of (the input's `asOf`, a
 * backfill, validated against the run's start: a run cannot read the future; else the run's
 * start), the pipeline, and the rows of its window. A null `asOf` (a Python `None`) counts as none.
 *
 * @param startTime the run's start (ISO-8601), from the history, so a replay reads the same rows
 */
export async function checkedRetrainInput(input: unknown, startTime: string, load: PipelineLoader): Promise<CheckedRetrainInput> {
  const given = isObject(input) ? input.asOf : undefined;
  const backfill = given !== undefined && given !== null;
  const start = Date.parse(startTime);
  const asOf = backfill
    ? checked(z.object({ asOf: asOfSchema(() => start) }), { asOf: given }, 'retrainPipeline input').asOf
    : new Date(start).toISOString();
  const pipeline = await checkedPipelineRef('retrainPipeline', input, load);
  const { window } = pipeline.source;
  // A backfill of a source without a window would silently train on today's data.
  const problem = backfill ? asOfProblem(pipeline.name, window) : null;
  if (problem) invalid(`retrainPipeline input is invalid: asOf ${asOf}: ${problem}`);
  return { pipeline, asOf, backfill, window: window ? resolveWindow(window, asOf) : null };
}

/**
 * The pipeline a workflow runs, from its input: the inline `pipeline`, validated, or the one
 * named by `model`, loaded from the worker's project (the result of the local activity records
 * the definition used in the history, and a replay reads it from there).
 */
export async function checkedPipelineRef(workflow: string, input: unknown, load: PipelineLoader): Promise<Pipeline> {
  const expected = `${workflow} takes {"model": "<pipeline name>", …} (a pipeline of the worker's pipelines/ directory) or {"pipeline": {…}, …} (an inline definition)`;
  if (!isObject(input)) invalid(`${expected}; got ${describe(input)}`);
  const { model, pipeline } = input;
  if (model !== undefined && pipeline !== undefined) invalid(`${expected}, not both`);
  if (model === undefined && pipeline === undefined) invalid(`${expected}; got neither (input ${describe(input)})`);
  if (pipeline !== undefined) return checked(pipelineSchema, pipeline, 'pipeline definition');
  if (typeof model !== 'string' || !PIPELINE_NAME.test(model)) {
    invalid(
      `${workflow}: "model" must be a pipeline name (lowercase letters, digits and dashes, starting with a letter); got ${describe(model)}`,
    );
  }
  return load(model);
}

/** A `rollbackModel` request checked. */
export function checkedRollbackInput(input: unknown): RollbackInput {
  return checked(rollbackInputSchema, input, 'rollback request');
}

/** The model an unchecked input names, for log lines: `model`, the inline pipeline's name, or "?". */
export function modelOf(input: unknown): string {
  if (!isObject(input)) return '?';
  const name = input.model ?? (isObject(input.pipeline) ? input.pipeline.name : undefined);
  return typeof name === 'string' ? name : '?';
}

/** The schema's output, or a non-retryable InvalidInput failure naming each field (its issues in the details). */
function checked<S extends z.ZodTypeAny>(schema: S, raw: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  throw ApplicationFailure.nonRetryable(formatIssues(what, parsed.error.issues), ErrorType.INVALID_INPUT, { issues: parsed.error.issues });
}

function invalid(message: string): never {
  throw ApplicationFailure.nonRetryable(message, ErrorType.INVALID_INPUT);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const json = JSON.stringify(value);
  return json.length > 80 ? `${json.slice(0, 77)}...` : json;
}
