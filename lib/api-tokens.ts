import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { formatIssues, InvalidInputError } from './errors';

/**
 * Bearer tokens of the HTTP API: who a caller is and what it may do. The file keeps only each
 * token's SHA-256 (tokens are 32 random bytes, so a fast hash is enough: there is nothing to
 * guess), and a presented token is compared against every entry in constant time.
 */

/** What a token may do; `approve:<model>` (or `approve:*`) approves and rejects that model's candidates. */
export const SCOPES = ['log', 'label', 'read', 'retrain'] as const;
export type Scope = (typeof SCOPES)[number] | `approve:${string}`;

const APPROVE_SCOPE = /^approve:([A-Za-z0-9][A-Za-z0-9_-]*|\*)$/;

/** One scope, checked as a whole so the error lists what is allowed. */
export const scopeSchema = z
  .string()
  .refine((s) => (SCOPES as readonly string[]).includes(s) || APPROVE_SCOPE.test(s), {
    error: (issue) => `"${String(issue.input)}" is not a scope: expected one of ${SCOPES.join(', ')}, approve:<model> or approve:*`,
  })
  .transform((s) => s as Scope);

const tokenEntrySchema = z.strictObject({
  /** The identity: what the audit log records, and what a pipeline's approvers list names. */
  name: z.string().min(1).max(200),
  /** Hex SHA-256 of the token. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'expected the token’s SHA-256 as 64 lowercase hex digits'),
  scopes: z.array(scopeSchema).min(1, 'give the token at least one scope'),
  createdAt: z.string().optional(),
});

/** The tokens file (`RETRAIN_API_TOKENS_FILE`). */
export const tokensFileSchema = z.strictObject({ tokens: z.array(tokenEntrySchema) }).superRefine((file, ctx) => {
  const seen = new Set<string>();
  file.tokens.forEach((t, i) => {
    if (seen.has(t.sha256)) ctx.addIssue({ code: 'custom', path: ['tokens', i, 'sha256'], message: 'the same token is listed twice' });
    seen.add(t.sha256);
  });
});
export type TokensFile = z.infer<typeof tokensFileSchema>;
export type TokenEntry = z.infer<typeof tokenEntrySchema>;

/** Who called: the token's name and scopes. */
export interface Identity {
  name: string;
  scopes: readonly Scope[];
}

/** Parses the tokens file's JSON; the error names the file and the field. */
export function parseTokensFile(value: unknown, where: string): TokensFile {
  const parsed = tokensFileSchema.safeParse(value);
  if (!parsed.success) throw new InvalidInputError(formatIssues(where, parsed.error.issues), { step: 'api-tokens' });
  return parsed.data;
}

/** The hex SHA-256 of a token, as the file stores it. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * The identity a presented token belongs to, or null. Every entry is compared, each in constant
 * time, so the answer's timing says nothing about which entries came close.
 */
export function authenticate(file: TokensFile, token: string): Identity | null {
  const presented = Buffer.from(hashToken(token), 'hex');
  let found: TokenEntry | null = null;
  for (const entry of file.tokens) {
    if (timingSafeEqual(presented, Buffer.from(entry.sha256, 'hex')) && !found) found = entry;
  }
  return found && { name: found.name, scopes: found.scopes as Scope[] };
}

/** Whether `identity` may do `needed` (`approve:churn` is granted by `approve:churn` or `approve:*`). */
export function allows(identity: Identity, needed: Scope): boolean {
  if (identity.scopes.includes(needed)) return true;
  return needed.startsWith('approve:') && identity.scopes.includes('approve:*');
}
