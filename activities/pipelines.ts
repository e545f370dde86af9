import type { Pipeline } from '../lib/pipeline';
import { loadPipeline } from '../services/pipelines';
import type { ActivityDeps } from './deps';
import { step } from './step';

/** Pipeline definitions, read from the worker's project: for workflows started by model name. */
export function pipelineActivities({ config }: ActivityDeps) {
  return {
    /**
     * Loads and validates `pipelines/<model>.ts` of the worker's project directory, its paths
     * resolved. An unknown or invalid pipeline is `InvalidInput`, not retried. The result goes
     * into the run's history: a replay uses the definition the run started with.
     */
    async resolvePipeline(input: { model: string }): Promise<Pipeline> {
      return step('resolve-pipeline', { model: input.model }, () => loadPipeline(config.projectDir, input.model));
    },
  };
}
