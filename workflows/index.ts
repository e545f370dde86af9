// Everything the worker's workflow bundle exports.
export { retrainPipeline } from './retrain-pipeline';
export { rollbackModel } from './rollback-model';
export { driftCheck } from './drift-check';
