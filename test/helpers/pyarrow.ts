import { execFileSync } from 'node:child_process';
import { findSdkPython } from '../../scripts/provision.mjs';

/**
 * Runs a Python script with pyarrow (from .retrain/venv-sdk, which `node scripts/setup.mjs`
 * installs from test/requirements-sdk.txt) with `args`, and returns what it printed: Parquet
 * files another implementation wrote, for hyparquet to read.
 */
export function runPyarrow(script: string, ...args: string[]): string {
  const python = findSdkPython();
  try {
    return execFileSync(python, ['-c', script, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`${python} failed (pyarrow comes with \`node scripts/setup.mjs\`): ${e.stderr?.trim() || e.message}`);
  }
}
