import { existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { parseConfig, type ConfigHost, type RetrainConfig } from '../lib/config';

/**
 * Reads and validates Retrain's environment variables on this machine (the schema is
 * lib/config.ts); a bad value names the variable.
 * @param env the variables to read. @default process.env
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): RetrainConfig {
  return parseConfig(env, { cwd: process.cwd(), exists: existsSync, kind: pathKind, tmpdir: tmpdir() });
}

/**
 * What is at a path. Only "nothing there" counts as missing: a path that cannot be looked at
 * (permissions) is left to whatever reads it, which says so with the real reason.
 */
function pathKind(path: string): ReturnType<ConfigHost['kind']> {
  try {
    return statSync(path).isDirectory() ? 'dir' : 'file';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? 'missing' : 'dir';
  }
}
