import { describe, expect, it } from 'vitest';
import { allows, authenticate, hashToken, parseTokensFile } from '../lib/api-tokens';
import { loadTokens } from '../services/api-tokens';

const file = parseTokensFile(
  {
    tokens: [
      { name: 'rails-app', sha256: hashToken('t-app'), scopes: ['log', 'read'] },
      { name: 'alice@example.com', sha256: hashToken('t-alice'), scopes: ['approve:churn'] },
      { name: 'ops', sha256: hashToken('t-ops'), scopes: ['approve:*'] },
    ],
  },
  'tokens.json',
);

describe('API tokens', () => {
  it('finds the identity of a token by its hash, and nothing for another token', () => {
    expect(authenticate(file, 't-app')).toEqual({ name: 'rails-app', scopes: ['log', 'read'] });
    expect(authenticate(file, 't-ap')).toBeNull();
    expect(authenticate(file, '')).toBeNull();
  });

  it('grants approve:<model> by that scope or approve:*, and nothing more', () => {
    const alice = authenticate(file, 't-alice')!;
    const ops = authenticate(file, 't-ops')!;
    expect(allows(alice, 'approve:churn')).toBe(true);
    expect(allows(alice, 'approve:house-prices')).toBe(false);
    expect(allows(alice, 'read')).toBe(false);
    expect(allows(ops, 'approve:house-prices')).toBe(true);
    expect(allows(ops, 'log')).toBe(false);
  });

  it.each([
    [{ tokens: [{ name: 'x', sha256: 'abc', scopes: ['log'] }] }, /tokens\.0\.sha256.*64 lowercase hex/],
    [{ tokens: [{ name: 'x', sha256: hashToken('a'), scopes: ['admin'] }] }, /tokens\.0\.scopes\.0.*approve:<model>/],
    [{ tokens: [{ name: 'x', sha256: hashToken('a'), scopes: [] }] }, /at least one scope/],
    [
      {
        tokens: [
          { name: 'x', sha256: hashToken('a'), scopes: ['log'] },
          { name: 'y', sha256: hashToken('a'), scopes: ['read'] },
        ],
      },
      /listed twice/,
    ],
    [{ tokens: [{ name: 'x', sha256: hashToken('a'), scopes: ['log'], token: 'plain' }] }, /token/],
  ])('refuses a bad tokens file, naming the field (%#)', (value, message) => {
    expect(() => parseTokensFile(value, 'tokens.json')).toThrow(message);
  });

  it('reads RETRAIN_API_TOKENS instead of the file when it is set, naming it in errors', async () => {
    const json = JSON.stringify({ tokens: [{ name: 'k8s-app', sha256: hashToken('t'), scopes: ['log'] }] });
    const tokens = await loadTokens({ apiTokens: json, apiTokensFile: '/nonexistent/tokens.json' });
    expect(authenticate(tokens, 't')).toEqual({ name: 'k8s-app', scopes: ['log'] });
    await expect(loadTokens({ apiTokens: '{', apiTokensFile: '/x' })).rejects.toThrow(/RETRAIN_API_TOKENS is not valid JSON/);
    await expect(loadTokens({ apiTokens: '{"tokens":[{"name":"x"}]}', apiTokensFile: '/x' })).rejects.toThrow(
      /RETRAIN_API_TOKENS is invalid/,
    );
    await expect(loadTokens({ apiTokensFile: '/nonexistent/tokens.json' })).rejects.toThrow(
      /no API tokens file at \/nonexistent\/tokens\.json: create a token with npx retrain token add/,
    );
  });
});
