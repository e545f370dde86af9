import type { Pipeline } from '../lib/pipeline';
import { loadPipeline } from '../services/pipelines';
import type { RollbackInput } from '../shared/inputs';
import type { CheckedRetrainInput } from '../shared/results';
import type { ActivityDeps } from './deps';
import { checkedPipelineRef, checkedRetrainInput, checkedRollbackInput, modelOf } from './run-input';
import { step } from './step';

/**
 * Pipeline definitions, read from the worker's project, and the checks of the workflows' inputs
 * (run as local activities when a run starts: see activities/run-input.ts).
 */
export function pipelineActivities({ config }: ActivityDeps) {
  const load = (model: string) => loadPipeline(config.projectDir, model);
  return {
    /**
     * Loads and validates `pipelines/<model>.ts` of the worker's project directory, its paths
     * resolved. An unknown or invalid pipeline is `InvalidInput`, not retried. The result goes
     * into the run's history: a replay uses the definition the run started with. Scheduled by
     * runs started before their input was checked by `checkRetrainInput` and `checkDriftInput`.
     */
    async resolvePipeline(input: { model: string }): Promise<Pipeline> {
      return step('resolve-pipeline', { model: input.model }, () => load(input.model));
    },

    /**
     * Checks a `retrainPipeline` input: its asOf against the run's start (ISO-8601), then its
     * pipeline (inline, or loaded by model name), then the window the run reads. Bad input is
     * `InvalidInput`, not retried, naming each field.
     */
    async checkRetrainInput(input: { input: unknown; startTime: string }): Promise<CheckedRetrainInput> {
      return step('check-input', { model: modelOf(input.input) }, () => checkedRetrainInput(input.input, input.startTime, load));
    },

    /** Checks a `driftCheck` input and returns its pipeline (inline, or loaded by model name). */
    async checkDriftInput(input: { input: unknown }): Promise<Pipeline> {
      return step('check-input', { model: modelOf(input.input) }, () => checkedPipelineRef('driftCheck', input.input, load));
    },

    /** Checks a `rollbackModel` request. */
    async checkRollbackInput(input: { input: unknown }): Promise<RollbackInput> {
      return step('check-input', { model: modelOf(input.input) }, async () => checkedRollbackInput(input.input));
    },
  };
}
