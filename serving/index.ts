/**
 * What an application that serves a model needs to write the prediction log: the logger, the
 * shutdown hook, the line's schema and type, and a store to write to.
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
