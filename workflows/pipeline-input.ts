import { ApplicationFailure } from '@temporalio/workflow';
import { ErrorType } from '../lib/errors';
import { PIPELINE_NAME, pipelineSchema, type Pipeline } from '../lib/pipeline';
import { checkedInput } from './checked-input';

/** Loads a pipeline definition by name on a worker (the `resolvePipeline` activity). */
export type PipelineResolver = (input: { model: string }) => Promise<Pipeline>;

/**
 * The pipeline a workflow runs, from its input: the inline `pipeline`, or the one named by
 * `model`, loaded by an activity so that the definition used is recorded in the history and a
 * replay reads it from there. Which of the two depends on the input only: runs started with an
 * inline pipeline replay as before. Either way the definition is validated here.
 */
export async function inputPipeline(workflow: string, input: unknown, resolve: PipelineResolver): Promise<Pipeline> {
  const expected = `${workflow} takes {"model": "<pipeline name>", …} (a pipeline of the worker's pipelines/ directory) or {"pipeline": {…}, …} (an inline definition)`;
  if (typeof input !== 'object' || input === null || Array.isArray(input)) invalid(`${expected}; got ${describe(input)}`);
  const { model, pipeline } = input as { model?: unknown; pipeline?: unknown };
  if (model !== undefined && pipeline !== undefined) invalid(`${expected}, not both`);
  if (model === undefined && pipeline === undefined) invalid(`${expected}; got neither (input ${describe(input)})`);
  if (pipeline !== undefined) return checkedInput(pipelineSchema, pipeline, 'pipeline definition');
  if (typeof model !== 'string' || !PIPELINE_NAME.test(model)) {
    invalid(
      `${workflow}: "model" must be a pipeline name (lowercase letters, digits and dashes, starting with a letter); got ${describe(model)}`,
    );
  }
  return checkedInput(pipelineSchema, await resolve({ model }), `pipeline definition pipelines/${model}`);
}

function invalid(message: string): never {
  throw ApplicationFailure.nonRetryable(message, ErrorType.INVALID_INPUT);
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const json = JSON.stringify(value);
  return json.length > 80 ? `${json.slice(0, 77)}...` : json;
}
