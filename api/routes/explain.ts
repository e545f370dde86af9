import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import { explainPredictionById } from '../../services/explain';
import { requireScope } from '../auth';
import type { ApiContext } from '../context';
import { errorBodySchema, HttpError } from '../http-errors';
import { predictionExplanationSchema } from '../schemas/prediction-explanation';

const query = z.object({
  model: z.string().min(1).max(200).optional().describe('scan only this model’s log'),
  at: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}(T\d{2})?$/, 'expected a UTC day YYYY-MM-DD or hour YYYY-MM-DDTHH')
    .refine((s) => !Number.isNaN(Date.parse(s.length > 10 ? `${s}:00:00Z` : `${s}T00:00:00Z`)), 'is not a real date')
    .optional()
    .describe('scan only that UTC day or hour'),
  contributions: z
    .enum(['true', 'false'])
    .optional()
    .describe('true: also compute the features that pushed this prediction most (runs the model in Python: about a second)'),
});

/** `GET /v1/predictions/{id}/explain`: what `retrain explain` answers, as JSON. */
export function explainRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/v1/predictions/:id/explain', {
    onRequest: requireScope(ctx.tokens, 'read'),
    schema: {
      summary: 'Why a prediction was made',
      description: 'The version that made it, its lineage, the gate and approval that let it serve, and whether it is still the champion.',
      tags: ['models'],
      params: z.object({ id: z.string().min(1).max(200) }),
      querystring: query,
      response: {
        200: predictionExplanationSchema,
        400: errorBodySchema,
        401: errorBodySchema,
        403: errorBodySchema,
        404: errorBodySchema,
      },
    },
    handler: async (request) => {
      const { id } = request.params as { id: string };
      const { model, at, contributions } = request.query as z.infer<typeof query>;
      if (model !== undefined) ctx.models.require(model);
      const result = await explainPredictionById(ctx.store, id, {
        model,
        at,
        ...(contributions === 'true' ? { contributions: { config: ctx.config } } : {}),
      });
      if (!result.found)
        throw new HttpError(
          404,
          'PredictionNotFound',
          result.invalid
            ? `a line with this id exists but is invalid: ${result.invalid}`
            : `no prediction with this id in ${result.files} batch file${result.files === 1 ? '' : 's'} of ${model ?? 'any model'}${at ? ` (${at} only)` : ''}`,
        );
      return result.explanation;
    },
  });
}
