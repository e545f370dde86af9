import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import { WorkflowNotFoundError } from '@temporalio/client';
import { inspectRun, startRetrain } from '../../client/client';
import { queuesWithoutPollers } from '../../client/pollers';
import { asOfProblem, asOfSchema } from '../../lib/time-window';
import { identityOf, requireScope } from '../auth';
import type { ApiContext } from '../context';
import { decide } from '../decisions';
import { errorBodySchema, HttpError } from '../http-errors';
import { currentRunSchema, runStatusSchema } from '../schemas/run-status';
import { modelParams } from './models';

const retrainBody = z
  .object({
    reason: z.string().max(2000).optional().describe('why, kept in the run and the audit log'),
    asOf: asOfSchema()
      .optional()
      .describe(
        'train on the data as it was then (a backfill): a date (2026-10-01, midnight UTC) or an ISO-8601 time with its zone, not in the future; only for a pipeline whose source has a window. Default: the run’s start',
      ),
  })
  .strict()
  .optional();
const decisionBody = z
  .object({
    reason: z.string().max(2000).default('').describe('why, kept in the run and the audit log'),
    version: z.string().min(1).max(200).optional().describe('count the decision only if this version is the candidate'),
  })
  .strict()
  .default({ reason: '' });

const runStartedSchema = z
  .object({
    model: z.string(),
    workflowId: z.string(),
    runId: z.string(),
    /** True when a run of the model was already going: this request joined it. */
    joined: z.boolean(),
    /** False when no worker polls the task queue: the run waits until one does. */
    workerPolling: z.boolean(),
    statusUrl: z.string(),
  })
  .meta({ id: 'RunStarted' });

/** Retrains, the current run, and approvals, through the same workflow messages as the CLI. */
export function runRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const errors = { 400: errorBodySchema, 401: errorBodySchema, 403: errorBodySchema, 404: errorBodySchema, 503: errorBodySchema };

  app.post('/v1/models/:model/retrain', {
    onRequest: requireScope(ctx.tokens, 'retrain'),
    schema: {
      summary: 'Start a retrain (or join the running one)',
      description:
        'What a background job calls. The worker loads pipelines/<model>.ts when the run starts; the caller’s token is recorded as who asked. ' +
        'A run in progress is joined only when it reads the data as of the same time: a request whose `asOf` differs from the running run’s (or that has none while a backfill runs) gets 409 `RunConflict`.',
      tags: ['runs'],
      params: modelParams,
      body: retrainBody,
      response: { 200: runStartedSchema, 202: runStartedSchema, 409: errorBodySchema, ...errors },
    },
    handler: async (request, reply) => {
      const { model } = request.params as z.infer<typeof modelParams>;
      ctx.models.require(model);
      const body = request.body as z.infer<typeof retrainBody>;
      // Refused here rather than by the run: a backfill of a source without a window would train on today's data.
      const problem = body?.asOf ? asOfProblem(model, (await ctx.models.pipeline(model)).source.window) : null;
      if (problem) throw new HttpError(400, 'InvalidInput', `invalid body: asOf: ${problem}`, [{ path: 'body.asOf', message: problem }]);
      const client = await ctx.temporal.get();
      const { handle, joined } = await startRetrain(
        client,
        ctx.config,
        { model },
        {
          requestedBy: identityOf(request).name,
          reason: body?.reason ?? 'requested through the HTTP API',
          ...(body?.asOf ? { asOf: body.asOf } : {}),
        },
      );
      const { runId } = await handle.describe();
      const missing = await queuesWithoutPollers(client, client.options.namespace, [{ name: ctx.config.taskQueue, tasks: 'workflow' }]);
      return reply.status(joined ? 200 : 202).send({
        model,
        workflowId: handle.workflowId,
        runId,
        joined,
        workerPolling: missing.length === 0,
        statusUrl: `/v1/models/${encodeURIComponent(model)}/runs/current`,
      });
    },
  });

  app.get('/v1/models/:model/runs/current', {
    onRequest: requireScope(ctx.tokens, 'read'),
    schema: {
      summary: 'The latest retraining run',
      description:
        'Its step, candidate, metrics, gate and approval (running or finished). 503 when no worker can answer for a running run.',
      tags: ['runs'],
      params: modelParams,
      response: { 200: currentRunSchema, ...errors },
    },
    handler: async (request) => {
      const { model } = request.params as z.infer<typeof modelParams>;
      ctx.models.require(model);
      const client = await ctx.temporal.get();
      try {
        const { description, status, noWorker } = await inspectRun(client, model);
        if (!status) throw noWorker!;
        const body: z.infer<typeof currentRunSchema> = {
          workflowId: description.workflowId,
          runId: description.runId,
          workflowStatus: description.workflowStatus,
          ...status,
        };
        return body;
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) throw new HttpError(404, 'NoRun', `${model} has no retraining run yet`);
        throw err;
      }
    },
  });

  for (const action of ['approve', 'reject'] as const) {
    app.post(`/v1/models/:model/${action}`, {
      onRequest: requireScope(ctx.tokens, (request) => `approve:${(request.params as { model: string }).model}`),
      schema: {
        summary: action === 'approve' ? 'Approve the waiting candidate' : 'Reject the waiting candidate',
        description:
          'The approver is the identity of the token (a listed approver of the pipeline), never a field of the request. ' +
          '409 when the run refuses the decision (not a listed approver, wrong version, nothing waiting); refusals are audited.',
        tags: ['runs'],
        params: modelParams,
        body: decisionBody,
        response: { 200: runStatusSchema, 409: errorBodySchema, ...errors },
      },
      handler: async (request) => {
        const { model } = request.params as z.infer<typeof modelParams>;
        ctx.models.require(model);
        const { reason, version } = request.body as z.infer<typeof decisionBody>;
        return decide(ctx, { model, action, by: identityOf(request).name, reason, ...(version ? { version } : {}), via: 'api' });
      },
    });
  }
}
