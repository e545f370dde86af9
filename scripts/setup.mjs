#!/usr/bin/env node
// One idempotent set-up step for `npm run demo` and `npm test`: npm packages, the Temporal
// CLI, MinIO (for the S3 store tests), the Python venv, the Temporal Python SDK (for the
// tests, in a venv of its own). Fast when everything is already there.
import { ensureMinio, ensureNodeModules, ensurePythonEnv, ensurePythonSdk, ensureTemporalCli } from './provision.mjs';

try {
  ensureNodeModules();
  ensureTemporalCli();
  ensureMinio();
  ensurePythonEnv();
  ensurePythonSdk();
} catch (err) {
  process.stderr.write(`[setup] failed: ${err.message}\n`);
  process.exit(1);
}
