import { z } from 'zod';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { ErrorType, RetrainError } from '../lib/errors';
import { NoWorkerPollingError } from '../client/pollers';

/** Every error answer: a stable code to branch on, a sentence for people, and the fields at fault. */
export const errorBodySchema = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
      requestId: z.string().optional(),
    }),
  })
  .meta({ id: 'Error' });
export type ErrorBody = z.infer<typeof errorBodySchema>;

/** Seconds a client should wait before retrying a 503. */
export const RETRY_AFTER_SECONDS = 2;

/** An answer the API chose on purpose (4xx or 503) with its code and message. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues?: { path: string; message: string }[],
  ) {
    super(message);
  }
}

/** The error body for an answer. */
export function errorBody(code: string, message: string, issues?: { path: string; message: string }[]): ErrorBody {
  return { error: { code, message, ...(issues?.length ? { issues } : {}) } };
}

/**
 * Turns any error into an answer: chosen errors keep their status, bad input is a 4xx naming the
 * field, an unavailable store or Temporal is a 503 with Retry-After, and anything else is a 500
 * that says only "internal error" and the request id (the stack goes to the server's log).
 */
export function describeError(err: FastifyError | Error, request: FastifyRequest): ErrorAnswer {
  const send = (status: number, body: ErrorBody, retryAfter?: number): ErrorAnswer => ({
    status,
    body,
    ...(retryAfter ? { retryAfter } : {}),
  });
  if (err instanceof HttpError) {
    return send(err.status, errorBody(err.code, err.message, err.issues), err.status === 503 ? RETRY_AFTER_SECONDS : undefined);
  }
  if (hasZodFastifySchemaValidationErrors(err)) {
    const where = (err as FastifyError).validationContext ?? 'request';
    const issues = err.validation.map((v) => ({
      path: `${where}${v.instancePath.replace(/\//g, '.').replace(/\.$/, '')}`,
      message: v.message ?? 'invalid',
    }));
    return send(400, errorBody('InvalidInput', `invalid ${where}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues));
  }
  const fastifyCode = (err as FastifyError).code;
  const status = (err as FastifyError).statusCode;
  if (typeof fastifyCode === 'string' && fastifyCode.startsWith('FST_') && status && status >= 400 && status < 500) {
    // Fastify's own refusals: malformed JSON, a body over the limit, an unsupported content type.
    if (status === 415)
      return send(
        415,
        errorBody(
          'UnsupportedMediaType',
          `content type ${request.headers['content-type'] ?? '(none)'} is not taken here: send application/json (or application/x-ndjson for batches)`,
        ),
      );
    return send(status, errorBody(status === 413 ? 'PayloadTooLarge' : 'InvalidInput', err.message));
  }
  if (err instanceof NoWorkerPollingError) {
    return send(503, errorBody('NoWorker', err.message), RETRY_AFTER_SECONDS * 15);
  }
  if (err instanceof RetrainError) {
    if (err.type === ErrorType.INVALID_INPUT) return send(400, errorBody(err.type, err.message));
    if (err.type === ErrorType.NOT_FOUND) return send(404, errorBody(err.type, err.message));
    if (err.type === ErrorType.RUN_CONFLICT) return send(409, errorBody(err.type, err.message));
    if (err.retryable || err.type === ErrorType.SERVER_UNREACHABLE || err.type === ErrorType.STORE_MISCONFIGURED) {
      return send(503, errorBody(err.type, err.message), RETRY_AFTER_SECONDS);
    }
  }
  request.log.error({ err }, 'internal error');
  return send(500, { error: { code: 'InternalError', message: 'internal error; the server log has the details', requestId: request.id } });
}

/** Answers an error as JSON (see {@link describeError}). */
export function replyWithError(err: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const { status, body, retryAfter } = describeError(err, request);
  if (retryAfter) reply.header('retry-after', String(retryAfter));
  return reply.status(status).send(body);
}

/** What an error answers: its status, its body, and when to retry (503). */
export interface ErrorAnswer {
  status: number;
  body: ErrorBody;
  retryAfter?: number;
}
