// A tiny "serving application" for the flushOnExit tests: logs `count` predictions, then either
// waits to be signalled (mode "wait") or lets the event loop empty (mode "end").
import { createPredictionLogger, flushOnExit, LocalStore } from '../../serving/index';

const [storeDir, count, mode] = process.argv.slice(2);
const logger = createPredictionLogger({
  store: new LocalStore(storeDir),
  model: 'child',
  version: 'v1',
  maxBatch: 500,
  flushIntervalMs: 600_000,
});
flushOnExit(logger);
for (let i = 0; i < Number(count); i++) {
  logger.logPrediction({ id: `line-${i}`, features: { x: i }, prediction: i % 2, latencyMs: 1 });
}
if (mode === 'wait') {
  setInterval(() => undefined, 1_000); // a server would keep the process alive like this
  process.stdout.write('logged\n');
}
