import { dataActivities } from './data';
import { driftActivities } from './drift';
import type { ActivityDeps } from './deps';
import { evaluationActivities } from './evaluation';
import { pipelineActivities } from './pipelines';
import { registryActivities } from './registry';
import { trainingActivities } from './training';

/** Light activities: run on the `retrain` task queue beside the workflows. */
export function createActivities(deps: ActivityDeps) {
  return { ...pipelineActivities(deps), ...dataActivities(deps), ...registryActivities(deps), ...driftActivities(deps) };
}

/** Heavy activities (subprocesses): run on the `training` task queue, scaled separately. */
export function createTrainingActivities(deps: ActivityDeps) {
  return { ...trainingActivities(deps), ...evaluationActivities(deps) };
}

/** What workflows proxy on the `retrain` queue (type-only imports keep activity code out of the workflow bundle). */
export type LightActivities = ReturnType<typeof createActivities>;
/** What workflows proxy on the `training` queue. */
export type TrainingActivities = ReturnType<typeof createTrainingActivities>;
