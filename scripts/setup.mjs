#!/usr/bin/env node
// One idempotent set-up step for `npm run demo` and `npm test`: npm packages, the Temporal
// CLI, the Python venv. Fast when everything is already there.
import { ensureNodeModules, ensurePythonEnv, ensureTemporalCli } from './provision.mjs';

try {
  ensureNodeModules();
  ensureTemporalCli();
  ensurePythonEnv();
} catch (err) {
  process.stderr.write(`[setup] failed: ${err.message}\n`);
  process.exit(1);
}
