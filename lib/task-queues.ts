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
