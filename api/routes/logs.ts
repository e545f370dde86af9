import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import { isoHour, predictionLineSchema, type PredictionLine } from '../../lib/prediction-log';
import { labelEntrySchema, labelKey, labelLine, type LabelEntry } from '../../lib/label-log';
import type { Scope } from '../../lib/api-tokens';
import type { IdempotentLog } from '../../services/idempotent-log';
import { requireScope } from '../auth';
import type { ApiContext } from '../context';
import { errorBodySchema } from '../http-errors';
import { ingest, ingestResultSchema, NDJSON, type EntryKind } from '../ingest';

/** A prediction id: what the serving app returns to its caller and `explain` looks up. */
const predictionId = z
  .string()
  .min(1)
  .max(200)
  .refine((id) => !hasControlCharacter(id), 'must not contain control characters');

/** Whether a string has a C0 control character or DEL (a loop: no array of characters per id). */
function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/**
 * The UTC hour of a validated timestamp. A timestamp in UTC ('…Z', the usual case) already
 * starts with its hour; only one with an offset goes through Date.
 */
function hourOf(timestamp: string): string {
  return timestamp.endsWith('Z') ? timestamp.slice(0, 13) : isoHour(timestamp);
}

/** A prediction-log line as the API takes it: the library's schema, with a bounded id. */
export const apiPredictionSchema = predictionLineSchema.extend({ id: predictionId }).meta({ id: 'PredictionLine' });
const apiLabelSchema = labelEntrySchema.extend({ id: predictionId }).meta({ id: 'Label' });

const predictionKind: EntryKind<PredictionLine> = {
  schema: apiPredictionSchema,
  dedupeKey: (p) => p.id,
  record: (p) => ({ id: p.id, hour: hourOf(p.timestamp), text: JSON.stringify(p) }),
};

const labelKind: EntryKind<LabelEntry> = {
  schema: apiLabelSchema,
  dedupeKey: (l) => labelKey(l),
  record: (l, receivedAt) => ({ id: labelKey(l), hour: isoHour(l.knownAt), text: JSON.stringify(labelLine(l, receivedAt)) }),
};

/** Documented body of a batch; each entry is validated on its own by the handler, not here. */
const batchBody = (entry: z.ZodType) => z.union([z.array(entry), entry]);
const passThrough = () => (data: unknown) => ({ value: data });

/** `POST /v1/predictions` and `POST /v1/labels`. */
export function logRoutes(app: FastifyInstance, ctx: ApiContext): void {
  batchRoute(app, ctx, '/v1/predictions', 'log', predictionKind, ctx.predictionLog, {
    summary: 'Log predictions',
    description:
      `A batch of prediction-log lines: a JSON array, or ${NDJSON} with one line per prediction, at most ${ctx.limits.entries} per request. ` +
      'Answered only after the accepted lines are in the store. Idempotent by prediction id: resending a batch stores nothing twice. ' +
      '503 with Retry-After when the store cannot take them now: resend the same batch.',
  });
  batchRoute(app, ctx, '/v1/labels', 'label', labelKind, ctx.labelLog, {
    summary: 'Post ground-truth labels',
    description:
      'Labels that became known after the prediction, by prediction id (the pipeline’s id column), with the time they became known. ' +
      'Concept drift joins them to the predictions of the same version. Idempotent by id and knownAt; a later knownAt corrects a label.',
  });
}

/** A POST of a batch of entries of one kind, appended to `log` (see api/ingest.ts). */
function batchRoute<T extends { model: string }>(
  app: FastifyInstance,
  ctx: ApiContext,
  path: string,
  scope: Scope,
  kind: EntryKind<T>,
  log: IdempotentLog,
  doc: { summary: string; description: string },
): void {
  const errors = { 400: errorBodySchema, 401: errorBodySchema, 403: errorBodySchema, 413: errorBodySchema, 503: errorBodySchema };
  app.post(path, {
    onRequest: requireScope(ctx.tokens, scope),
    bodyLimit: ctx.limits.bodyBytes,
    validatorCompiler: passThrough,
    schema: {
      ...doc,
      tags: ['logging'],
      body: batchBody(kind.schema),
      response: { 200: ingestResultSchema, 422: ingestResultSchema, ...errors },
    },
    handler: async (request, reply) => {
      const { status, result } = await ingest(request, kind, log, ctx.models, ctx.limits.entries);
      return reply.status(status).send(result);
    },
  });
}
