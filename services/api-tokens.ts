import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { hashToken, parseTokensFile, type Scope, type TokensFile } from '../lib/api-tokens';
import type { RetrainConfig } from '../lib/config';
import { InvalidInputError } from '../lib/errors';

/** How to make the first token, for error messages. */
export const ADD_TOKEN_HINT = 'npx retrain token add --name <who> --scopes log,label,read,retrain';

/**
 * The tokens `retrain serve` uses: RETRAIN_API_TOKENS (the JSON itself) when set, else the tokens
 * file; a bad entry is a clear error naming where it came from.
 */
export async function loadTokens(
  config: Partial<Pick<RetrainConfig, 'apiTokens'>> & Pick<RetrainConfig, 'apiTokensFile'>,
): Promise<TokensFile> {
  if (config.apiTokens === undefined) return loadTokensFile(config.apiTokensFile);
  let value: unknown;
  try {
    value = JSON.parse(config.apiTokens);
  } catch (err) {
    throw new InvalidInputError(`RETRAIN_API_TOKENS is not valid JSON: ${(err as Error).message}`, { step: 'api-tokens' });
  }
  return parseTokensFile(value, 'RETRAIN_API_TOKENS');
}

/** Reads and validates the tokens file; a missing file or a bad entry is a clear error naming the file. */
export async function loadTokensFile(path: string): Promise<TokensFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new InvalidInputError(`no API tokens file at ${path}: create a token with ${ADD_TOKEN_HINT} (or set RETRAIN_API_TOKENS_FILE)`, {
        step: 'api-tokens',
      });
    throw err;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InvalidInputError(`${path} is not valid JSON: ${(err as Error).message}`, { step: 'api-tokens' });
  }
  return parseTokensFile(value, path);
}

/**
 * Creates a token for `name` with `scopes`, adds its hash to the tokens file (created with mode
 * 0600 if missing) and returns the token: it is shown once and stored nowhere.
 */
export async function addToken(path: string, name: string, scopes: Scope[]): Promise<string> {
  const file: TokensFile = await loadTokensFile(path).catch((err: unknown) => {
    if (err instanceof InvalidInputError && /no API tokens file/.test(err.message)) return { tokens: [] };
    throw err;
  });
  const token = `rt_${randomBytes(32).toString('base64url')}`;
  const next = parseTokensFile(
    { tokens: [...file.tokens, { name, sha256: hashToken(token), scopes, createdAt: new Date().toISOString() }] },
    'the new token',
  );
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, JSON.stringify(next, null, 2) + '\n', { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
  return token;
}
