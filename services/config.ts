import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { parseConfig, type RetrainConfig } from '../lib/config';

/**
 * Reads and validates Retrain's environment variables on this machine (the schema is
 * lib/config.ts); a bad value names the variable.
 * @param env the variables to read. @default process.env
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): RetrainConfig {
  return parseConfig(env, { cwd: process.cwd(), exists: existsSync, tmpdir: tmpdir() });
}
