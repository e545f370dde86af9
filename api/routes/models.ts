import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import { storeKeyLocation } from '../../lib/config';
import { readPointer, readVersion } from '../../services/registry';
import { modelSummary, modelSummarySchema } from '../../services/model-summary';
import { requireScope } from '../auth';
import type { ApiContext } from '../context';
import { errorBodySchema, HttpError } from '../http-errors';

/** A model name in a path: what pipelines/<model>.ts is called; anything else is unknown (404). */
export const modelParams = z.object({ model: z.string().min(1).max(200) });

/** What a serving app loads: the champion version and where its files are. */
export const championSchema = z
  .object({
    model: z.string(),
    version: z.string(),
    task: z.enum(['classification', 'regression']),
    classes: z.array(z.string()).nullable(),
    features: z.array(z.object({ name: z.string(), type: z.string() })),
    /** Since when it serves (the last promotion or rollback). */
    since: z.string().nullable(),
    /** Each artefact's store key and location (a file path or an s3:// URL). */
    artifacts: z.record(z.string(), z.object({ key: z.string(), location: z.string() })),
  })
  .meta({ id: 'Champion' });

/** `GET /v1/models`, `GET /v1/models/{model}` and `GET /v1/models/{model}/champion`. */
export function modelRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const read = requireScope(ctx.tokens, 'read');
  const errors = { 401: errorBodySchema, 403: errorBodySchema, 404: errorBodySchema, 503: errorBodySchema };

  app.get('/v1/models', {
    onRequest: read,
    schema: {
      summary: 'List models',
      description: 'Every pipeline of the project: champion, previous, owners, last drift verdict, latency and cost per prediction.',
      tags: ['models'],
      response: { 200: z.object({ models: z.array(modelSummarySchema) }), ...errors },
    },
    handler: async () => {
      const pipelines = await Promise.all(ctx.models.list().map((m) => ctx.models.pipeline(m)));
      return { models: await Promise.all(pipelines.map((p) => modelSummary(ctx.store, p))) };
    },
  });

  app.get('/v1/models/:model', {
    onRequest: read,
    schema: { summary: 'One model', tags: ['models'], params: modelParams, response: { 200: modelSummarySchema, ...errors } },
    handler: async (request) => {
      const { model } = request.params as z.infer<typeof modelParams>;
      return modelSummary(ctx.store, await ctx.models.pipeline(model));
    },
  });

  app.get('/v1/models/:model/champion', {
    onRequest: read,
    schema: {
      summary: 'The champion to serve',
      description:
        'The version a serving app should load and where its artefacts are. Send the ETag back as If-None-Match: the answer is 304 until a promotion or rollback.',
      tags: ['models'],
      params: modelParams,
      response: { 200: championSchema, 304: z.null(), ...errors },
    },
    handler: async (request, reply) => {
      const { model } = request.params as z.infer<typeof modelParams>;
      ctx.models.require(model);
      const { pointer } = await readPointer(ctx.store, model);
      if (!pointer.champion)
        throw new HttpError(404, 'NoChampion', `${model} has no champion yet: run a retrain and promote a version first`);
      const v = await readVersion(ctx.store, model, pointer.champion);
      const body: z.infer<typeof championSchema> = {
        model,
        version: v.version,
        task: v.task,
        classes: v.classes,
        features: v.lineage.features,
        since: pointer.updatedAt,
        artifacts: Object.fromEntries(
          Object.entries(v.artifacts).map(([name, key]) => [name, { key, location: storeKeyLocation(ctx.config.store, key) }]),
        ),
      };
      const etag = `"${createHash('sha256').update(JSON.stringify(body)).digest('hex').slice(0, 32)}"`;
      reply.header('etag', etag).header('cache-control', 'no-cache');
      const ifNoneMatch = request.headers['if-none-match'];
      if (ifNoneMatch && ifNoneMatch.split(',').some((t) => t.trim() === etag || t.trim() === '*')) return reply.status(304).send();
      return body;
    },
  });
}
