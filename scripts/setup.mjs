#!/usr/bin/env node
// One idempotent set-up step for `npm run demo` and `npm test`: npm packages, the Temporal
// CLI, MinIO (for the S3 store tests), the Python venv, the Temporal Python SDK (for the
// tests, in a venv of its own), Chromium (for the console's browser tests: Debian's package,
// installed with apt-get when run as root or with password-less sudo; otherwise a hint).
// Fast when everything is already there.
import { ensureChromium, ensureMinio, ensureNodeModules, ensurePythonEnv, ensurePythonSdk, ensureTemporalCli } from './provision.mjs';

try {
  ensureNodeModules();
  ensureTemporalCli();
  ensureMinio();
  ensurePythonEnv();
  ensurePythonSdk();
  ensureChromium();
} catch (err) {
  process.stderr.write(`[setup] failed: ${err.message}\n`);
  process.exit(1);
}
