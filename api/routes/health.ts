import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context';

const readySchema = z.object({
  ready: z.boolean(),
  temporal: z.object({ ok: z.boolean(), reason: z.string().optional() }),
  store: z.object({ ok: z.boolean(), location: z.string(), reason: z.string().optional() }),
});

/** `GET /healthz` (the process is up) and `GET /readyz` (Temporal answers, the store reads). No token needed. */
export function healthRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/healthz', {
    schema: { summary: 'The process is up', tags: ['health'], response: { 200: z.object({ ok: z.literal(true) }) } },
    handler: async () => ({ ok: true as const }),
  });
  app.get('/readyz', {
    schema: {
      summary: 'Temporal reachable and store readable',
      description: '503 (with the reason) when either is not.',
      tags: ['health'],
      response: { 200: readySchema, 503: readySchema },
    },
    handler: async (_request, reply) => {
      const [temporal, store] = await Promise.all([
        ctx.temporal.check(),
        ctx.store.exists('registry/ready-check').then(
          () => ({ ok: true as const }),
          (err: Error) => ({ ok: false as const, reason: err.message }),
        ),
      ]);
      const ready = temporal.ok && store.ok;
      if (!ready) reply.header('retry-after', '5');
      return reply.status(ready ? 200 : 503).send({ ready, temporal, store: { ...store, location: ctx.store.location } });
    },
  });
}
