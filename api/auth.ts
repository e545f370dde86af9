import type { FastifyReply, FastifyRequest } from 'fastify';
import { allows, authenticate, type Identity, type Scope, type TokensFile } from '../lib/api-tokens';
import { HttpError } from './http-errors';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who called: set by the route's `onRequest` check. */
    identity?: Identity;
  }
}

/**
 * An `onRequest` hook: the bearer token must be known (401) and grant `scope` (403). It runs
 * before the body is read, so an unauthenticated caller cannot make the server parse anything.
 * `scope` may depend on the path (`approve:<model>`).
 */
export function requireScope(tokens: TokensFile, scope: Scope | ((request: FastifyRequest) => Scope)) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const token = bearerToken(request.headers.authorization);
    if (!token) {
      reply.header('www-authenticate', 'Bearer');
      throw new HttpError(401, 'Unauthenticated', 'send a token: Authorization: Bearer <token> (create one with: npx retrain token add)');
    }
    const identity = authenticate(tokens, token);
    if (!identity) {
      reply.header('www-authenticate', 'Bearer error="invalid_token"');
      throw new HttpError(401, 'Unauthenticated', 'the token is not one of this server’s tokens');
    }
    const needed = typeof scope === 'function' ? scope(request) : scope;
    if (!allows(identity, needed)) throw missingScope(identity, needed);
    request.identity = identity;
  };
}

/** The token of an `Authorization: Bearer <token>` header, or null without one. */
export function bearerToken(header: string | undefined): string | null {
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match ? match[1]! : null;
}

/** The 403 of an identity without `needed`, naming the scopes it has. */
export function missingScope(identity: Identity, needed: Scope): HttpError {
  return new HttpError(
    403,
    'Forbidden',
    `the token of ${identity.name} does not have the scope "${needed}" (it has: ${identity.scopes.join(', ')})`,
  );
}

/** The caller's identity (the route's hook set it). */
export function identityOf(request: FastifyRequest): Identity {
  if (!request.identity) throw new Error('route without requireScope');
  return request.identity;
}
