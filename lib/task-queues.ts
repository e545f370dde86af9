/**
 * Default task queue names (RETRAIN_TASK_QUEUE and RETRAIN_TRAINING_TASK_QUEUE override them):
 * `retrain` runs workflows and light activities, `training` runs training and predict
 * subprocesses and is scaled out separately.
 */
export const TaskQueue = {
  RETRAIN: 'retrain',
  TRAINING: 'training',
} as const;
export type TaskQueue = (typeof TaskQueue)[keyof typeof TaskQueue];

/**
 * The queue of a partitioned drift check's hour summaries, next to the workflow's own queue:
 * every worker of that queue polls it too, with its own concurrency limit
 * (RETRAIN_MAX_CONCURRENT_PARTITIONS), so a check spreads evenly over the workers.
 */
export function partitionQueueOf(taskQueue: string): string {
  return `${taskQueue}-partitions`;
}
