/** One retraining run per model at a time: its workflow id is derived from the model. */
export function retrainWorkflowId(model: string): string {
  return `retrain-${model}`;
}

/** The schedule (and the workflow id prefix of its runs) of a model's drift checks. */
export function driftScheduleId(model: string): string {
  return `drift-${model}`;
}
