/**
 * What an application that serves a model imports as `retrain/serving`: which version serves
 * (the registry's champion), how to run its predict command, and the prediction log (the
 * logger, the shutdown hook, the line's schema and type, and a store to write to).
 *
 * @example
 * ```ts
 * import { createPredictionLogger, createStore, flushOnExit, loadConfig, readPointer } from 'retrain/serving';
 *
 * const store = createStore(loadConfig());
 * const { pointer } = await readPointer(store, 'churn');
 * const logger = createPredictionLogger({ store, model: 'churn', version: pointer.champion! });
 * flushOnExit(logger);
 * ```
 */
export {
  BUFFER_FULL,
  createPredictionLogger,
  type PredictionEntry,
  type PredictionLogger,
  type PredictionLoggerOptions,
} from './prediction-logger';
export { flushOnExit } from './flush-on-exit';
export { parsePredictionLine, predictionLineSchema, type PredictionLine } from '../lib/prediction-log';
export { LocalStore } from '../store/local-store';
export { S3Store } from '../store/s3-store';
/** The store RETRAIN_STORE names (a directory or s3://bucket/prefix): `createStore(loadConfig())`. */
export { createStore } from '../store';
export { loadConfig } from '../services/config';
export type { Store } from '../store/store';
/** Which version serves: the champion pointer, and a version's record with its lineage. */
export { readPointer, readVersion } from '../services/registry';
/** Running a registered version's predict command (training/CONTRACT.md) from serving code. */
export { materialiseArtifacts, QUIET_HOOKS, runPredict } from '../services/runner/contract';
/** A pipeline's definition, loaded and validated from pipelines/<name>.ts. */
export { loadPipeline } from '../services/pipelines';
export type { ChampionPointer, ModelVersion } from '../lib/registry';
export type { ModelOutput } from '../lib/training-contract';
export type { Pipeline } from '../lib/pipeline';
