import Fastify, { LogController, type FastifyInstance } from 'fastify';
import fastifySwagger from '@fastify/swagger';
import { jsonSchemaTransform, jsonSchemaTransformObject, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { ApiContext } from './context';
import { replyWithError } from './http-errors';
import { NDJSON } from './ingest';
import { explainRoutes } from './routes/explain';
import { healthRoutes } from './routes/health';
import { logRoutes } from './routes/logs';
import { modelRoutes } from './routes/models';
import { runRoutes } from './routes/runs';

/** Routes served beside the API on the same app and context, registered before it is ready. */
export type ApiExtension = (app: FastifyInstance, ctx: ApiContext) => Promise<void>;

/** The API's version, in its paths (/v1/…) and its OpenAPI document. */
export const API_VERSION = '1.0.0';

/**
 * The HTTP API of `retrain serve`: prediction logging, labels, models and champions, retrains,
 * approvals and explanations, for any language. Built, not started (tests use `inject` or
 * `listen`). Every request and answer body is a zod schema, which also gives `/openapi.json`.
 */
export async function buildApi(
  ctx: ApiContext,
  opts: { logLevel?: string; extensions?: readonly ApiExtension[] } = {},
): Promise<FastifyInstance> {
  const app = Fastify({
    logger: { level: opts.logLevel ?? ctx.config.logLevel },
    // One line per answer instead (the onResponse hook below), with the caller's identity.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
    // Slow clients must not hold connections for ever.
    requestTimeout: 60_000,
    connectionTimeout: 60_000,
    keepAliveTimeout: 65_000,
    return503OnClosing: true,
    routerOptions: { maxParamLength: 500 },
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler((err, request, reply) => replyWithError(err as Error, request, reply));
  app.setNotFoundHandler((request, reply) =>
    reply
      .status(404)
      .send({ error: { code: 'NotFound', message: `no route ${request.method} ${request.url.split('?')[0]}; see /openapi.json` } }),
  );
  // NDJSON bodies reach the handler as text; each line is parsed and validated on its own.
  app.addContentTypeParser(NDJSON, { parseAs: 'string' }, (_request, body, done) => done(null, body));
  app.addHook('onResponse', (request, reply, done) => {
    const line = {
      method: request.method,
      url: request.url,
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime),
      by: request.identity?.name,
    };
    if (reply.statusCode >= 500) request.log.error(line, 'request failed');
    else request.log.info(line, 'request');
    done();
  });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Retrain API',
        version: API_VERSION,
        description: 'Log predictions and labels, read models and champions, start retrains and decide approvals, from any language.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
    // Schemas with a `meta({ id })` become named components (`#/components/schemas/<id>`).
    transformObject: jsonSchemaTransformObject,
  });
  healthRoutes(app, ctx);
  logRoutes(app, ctx);
  modelRoutes(app, ctx);
  runRoutes(app, ctx);
  explainRoutes(app, ctx);
  // What the caller serves beside the API over the same context (`retrain serve`: the web console at /ui).
  for (const extend of opts.extensions ?? []) await extend(app, ctx);
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await app.ready();
  return app;
}
