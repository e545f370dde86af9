import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Identity, TokensFile } from '../lib/api-tokens';

/**
 * Console sign-in: a person pastes one of the API's tokens once, and gets a session cookie. The
 * cookie holds a random session id, the token's SHA-256 (never the token) and an expiry, signed
 * by @fastify/cookie with the session secret. Each request looks the hash up in the tokens file
 * again, so removing a token ends its sessions too. Forms carry a CSRF token derived from the
 * session id, so a form posted from another site fails even where SameSite does not hold.
 */

export const SESSION_COOKIE = 'retrain_console';
/** How long a sign-in lasts. */
export const SESSION_HOURS = 12;

/** A signed-in session, as its cookie says. */
export interface Session {
  id: string;
  tokenSha256: string;
  expiresAt: number;
}

/** The cookie value of a new session (signed by the caller's cookie plugin). */
export function newSessionValue(tokenSha256: string, now: number): { value: string; session: Session } {
  const session = { id: randomBytes(16).toString('base64url'), tokenSha256, expiresAt: now + SESSION_HOURS * 3_600_000 };
  return { value: `${session.id}.${session.tokenSha256}.${session.expiresAt}`, session };
}

/** The session of an unsigned cookie value, or null when it is malformed or expired. */
export function parseSessionValue(value: string, now: number): Session | null {
  const m = /^([A-Za-z0-9_-]{22})\.([0-9a-f]{64})\.(\d{13})$/.exec(value);
  if (!m) return null;
  const session = { id: m[1]!, tokenSha256: m[2]!, expiresAt: Number(m[3]) };
  return session.expiresAt > now ? session : null;
}

/** Who a session belongs to, looked up in the tokens file now (null when the token was removed). */
export function sessionIdentity(tokens: TokensFile, session: Session): Identity | null {
  const entry = tokens.tokens.find((t) => t.sha256 === session.tokenSha256);
  return entry ? { name: entry.name, scopes: entry.scopes } : null;
}

/** The CSRF token of a session: what its forms must send back. */
export function csrfToken(secret: Buffer, session: Session): string {
  return createHmac('sha256', secret).update(`csrf:${session.id}`).digest('base64url');
}

/** Whether a form's CSRF token is its session's (compared in constant time). */
export function csrfMatches(secret: Buffer, session: Session, sent: string | undefined): boolean {
  if (!sent) return false;
  const expected = Buffer.from(csrfToken(secret, session));
  const given = Buffer.from(sent);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The key that signs cookies: the configured secret, or a random one for this process. */
export function sessionSecret(configured: string | undefined): Buffer {
  return configured ? Buffer.from(configured, 'utf8') : randomBytes(32);
}
