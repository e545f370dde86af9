import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyCookie from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { ApiContext } from '../api/context';
import { bearerToken, missingScope } from '../api/auth';
import { decide } from '../api/decisions';
import { describeError, HttpError } from '../api/http-errors';
import { startRetrain } from '../client/client';
import { allows, authenticate, hashToken, type Identity, type Scope } from '../lib/api-tokens';
import { formatIssues } from '../lib/errors';
import { keys } from '../lib/keys';
import { explainPredictionById } from '../services/explain';
import { html } from './html';
import { decisionAnswer, decisionFormSchema, loadApprovals, renderApprovals } from './pages/approvals';
import { loadModelPage, modelQuerySchema, renderModelPage, retrainFormSchema } from './pages/model';
import { loadModels, renderModels } from './pages/models';
import { lookupQuerySchema, renderPrediction } from './pages/prediction';
import { loadReadiness, renderReadiness } from './pages/readiness';
import { nextPathSchema, renderSignIn, signInFormSchema } from './pages/sign-in';
import { loadVersionPage, renderVersionPage } from './pages/version';
import {
  csrfMatches,
  csrfToken,
  newSessionValue,
  parseSessionValue,
  SESSION_COOKIE,
  SESSION_HOURS,
  sessionIdentity,
  sessionSecret,
  type Session,
} from './session';
import { href, notice, page, type Section, type Viewer } from './views/layout';

/**
 * The web console at /ui: server-rendered pages over the same store and Temporal as the API, no
 * script and nothing from another site. People sign in with an API token (a session cookie then),
 * scripts and monitors may send the bearer token instead (read pages only: forms need a session).
 */

/** Who is asking: the token's identity, and the session and its forms' CSRF token when it came by cookie. */
interface Caller {
  identity: Identity;
  session: Session | null;
  csrf: string | null;
}

const ASSETS = new Map(
  ['console.css', 'charts.css'].map((name) => [name, readFileSync(fileURLToPath(new URL(`./assets/${name}`, import.meta.url)), 'utf8')]),
);

/** No scripts, nothing from elsewhere, no framing: a page can only show what the server rendered. */
const PAGE_CSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
/** A drift report is self-contained HTML with inline styles (and no scripts). */
const REPORT_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const modelParams = z.object({ model: z.string().min(1).max(200) });
/** An id that is one store key segment: no `/`, no `..`, nothing `checkKey` refuses (a 400, not a 500 from the store). */
const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/;
const versionParams = modelParams.extend({ version: z.string().regex(ID, 'not a version id') });
const reportParams = modelParams.extend({ checkId: z.string().regex(ID, 'not a check id') });

/** Parses with a schema; bad input is a 400 page naming the field. */
function parse<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const parsed = schema.safeParse(value ?? {});
  if (!parsed.success) throw new HttpError(400, 'InvalidInput', formatIssues(where, parsed.error.issues));
  return parsed.data;
}

/** Registers the console under /ui on the API's app. */
export async function consoleRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  const secret = sessionSecret(ctx.config.sessionSecret);

  await app.register(
    async (ui) => {
      // Pages for people, not part of the API's contract: kept out of /openapi.json.
      ui.addHook('onRoute', (route) => {
        route.schema = { ...route.schema, hide: true };
      });
      await ui.register(fastifyCookie, { secret });
      // Forms post url-encoded fields; URLSearchParams is the whole parser they need.
      ui.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_request, body, done) =>
        done(null, Object.fromEntries(new URLSearchParams(body as string))),
      );
      ui.addHook('onSend', async (request, reply, payload) => {
        if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', PAGE_CSP);
        reply.header('x-content-type-options', 'nosniff');
        reply.header('referrer-policy', 'same-origin');
        reply.header('x-frame-options', 'DENY');
        if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
        return payload;
      });
      ui.setErrorHandler((err, request, reply) => {
        const { status, body, retryAfter } = describeError(err as Error, request);
        if (retryAfter) reply.header('retry-after', String(retryAfter));
        const caller = callerOf(request);
        const title = status === 404 ? 'Not found' : status === 403 ? 'Not allowed' : status >= 500 ? 'Something failed' : 'Cannot do that';
        return sendPage(reply.status(status), {
          title,
          caller,
          section: null,
          body: html`<h1>${title}</h1>${notice('error', body.error.message)}<p><a href="/ui">Back to the models</a></p>`,
        });
      });
      ui.setNotFoundHandler((request, reply) =>
        sendPage(reply.status(404), {
          title: 'Not found',
          caller: callerOf(request),
          section: null,
          body: html`<h1>Not found</h1>${notice('error', `no console page ${request.url.split('?')[0]}`)}<p><a href="/ui">Back to the models</a></p>`,
        }),
      );

      /** The caller of a request, by bearer token or session cookie; null when neither is valid. */
      function callerOf(request: FastifyRequest): Caller | null {
        const token = bearerToken(request.headers.authorization);
        if (token) {
          const identity = authenticate(ctx.tokens, token);
          return identity && { identity, session: null, csrf: null };
        }
        const cookie = request.cookies[SESSION_COOKIE];
        if (!cookie) return null;
        const unsigned = request.unsignCookie(cookie);
        const session = unsigned.valid && unsigned.value ? parseSessionValue(unsigned.value, Date.now()) : null;
        const identity = session && sessionIdentity(ctx.tokens, session);
        return identity && session ? { identity, session, csrf: csrfToken(secret, session) } : null;
      }

      function viewerOf(caller: Caller | null): Viewer | null {
        return caller && { name: caller.identity.name, scopes: caller.identity.scopes, csrf: caller.csrf };
      }

      function sendPage(
        reply: FastifyReply,
        o: { title: string; caller: Caller | null; section: Section; body: ReturnType<typeof html>; notice?: ReturnType<typeof html> },
      ) {
        return reply
          .type('text/html; charset=utf-8')
          .send(page({ title: o.title, viewer: viewerOf(o.caller), section: o.section, body: o.body, notice: o.notice }));
      }

      /** The reader of a page: signed in with the `read` scope, else off to sign in (or 403). */
      function reader(request: FastifyRequest, reply: FastifyReply): Caller | null {
        const caller = callerOf(request);
        if (!caller) {
          void reply.redirect(`/ui/sign-in?next=${encodeURIComponent(request.url)}`, 303);
          return null;
        }
        if (!allows(caller.identity, 'read')) throw missingScope(caller.identity, 'read');
        return caller;
      }

      /**
       * A form post must come from this console: same origin (when the browser says) and the
       * session's CSRF token, from a token with `scope` when one is needed. A bearer token
       * cannot post forms.
       */
      function formPoster(request: FastifyRequest, scope?: Scope): Caller {
        refuseCrossSite(request);
        const caller = callerOf(request);
        if (!caller?.session) throw new HttpError(401, 'Unauthenticated', 'sign in first: your session has ended');
        if (!csrfMatches(secret, caller.session, (request.body as { csrf?: string } | undefined)?.csrf))
          throw new HttpError(403, 'Forbidden', 'the form is stale or came from another site: reload the page and try again');
        if (scope && !allows(caller.identity, scope)) throw missingScope(caller.identity, scope);
        return caller;
      }

      ui.get('/assets/:file', async (request, reply) => {
        const css = ASSETS.get((request.params as { file: string }).file);
        if (!css) throw new HttpError(404, 'NotFound', 'no such asset');
        return reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(css);
      });

      ui.get('/sign-in', async (request, reply) => {
        const next = nextPathSchema.parse((request.query as { next?: unknown }).next ?? '/ui');
        return sendPage(reply, { title: 'Sign in', caller: null, section: null, body: renderSignIn(next, null) });
      });

      ui.post('/sign-in', async (request, reply) => {
        refuseCrossSite(request);
        const form = signInFormSchema.safeParse(request.body ?? {});
        const next = nextPathSchema.parse((request.body as { next?: unknown } | undefined)?.next ?? '/ui');
        const fail = (problem: string) =>
          sendPage(reply.status(401), { title: 'Sign in', caller: null, section: null, body: renderSignIn(next, problem) });
        if (!form.success) return fail(form.error.issues[0]?.message ?? 'paste your API token');
        const identity = authenticate(ctx.tokens, form.data.token);
        if (!identity) return fail('That token is not one of this server’s tokens.');
        if (!allows(identity, 'read')) return fail(`The token of ${identity.name} lacks the "read" scope the console needs.`);
        const { value } = newSessionValue(hashToken(form.data.token), Date.now());
        reply.setCookie(SESSION_COOKIE, value, {
          signed: true,
          httpOnly: true,
          sameSite: 'strict',
          secure: isTls(request),
          path: '/ui',
          maxAge: SESSION_HOURS * 3600,
        });
        request.log.info({ by: identity.name }, 'console sign-in');
        return reply.redirect(form.data.next ?? next, 303);
      });

      ui.post('/sign-out', async (request, reply) => {
        formPoster(request);
        reply.clearCookie(SESSION_COOKIE, { path: '/ui' });
        return reply.redirect('/ui/sign-in', 303);
      });

      const models = async (request: FastifyRequest, reply: FastifyReply) => {
        const caller = reader(request, reply);
        if (!caller) return reply;
        const now = Date.now();
        return sendPage(reply, { title: 'Models', caller, section: 'models', body: renderModels(await loadModels(ctx, now), now) });
      };
      // Under a prefix, '/' answers both /ui and /ui/.
      ui.get('/', models);

      ui.get('/models/:model', async (request, reply) => {
        const caller = reader(request, reply);
        if (!caller) return reply;
        const { model } = parse(modelParams, request.params, 'path');
        const q = parse(modelQuerySchema, request.query, 'query');
        const now = Date.now();
        return sendPage(reply, {
          title: model,
          caller,
          section: 'models',
          body: renderModelPage(await loadModelPage(ctx, model), q, now, {
            csrf: caller.csrf,
            mayRetrain: allows(caller.identity, 'retrain'),
          }),
        });
      });

      ui.get('/models/:model/readiness', async (request, reply) => {
        const caller = reader(request, reply);
        if (!caller) return reply;
        const { model } = parse(modelParams, request.params, 'path');
        return sendPage(reply, {
          title: `${model} readiness`,
          caller,
          section: 'models',
          body: renderReadiness(await loadReadiness(ctx, model)),
        });
      });

      ui.get('/models/:model/versions/:version', async (request, reply) => {
        const caller = reader(request, reply);
        if (!caller) return reply;
        const { model, version } = parse(versionParams, request.params, 'path');
        return sendPage(reply, {
          title: `${model} ${version}`,
          caller,
          section: 'models',
          body: renderVersionPage(await loadVersionPage(ctx, model, version)),
        });
      });

      ui.get('/models/:model/reports/:checkId', async (request, reply) => {
        const caller = reader(request, reply);
        if (!caller) return reply;
        const { model, checkId } = parse(reportParams, request.params, 'path');
        ctx.models.require(model);
        const body = await ctx.store.get(keys.driftReport(model, checkId, 'html'));
        if (!body) throw new HttpError(404, 'NotFound', `no drift report ${checkId} of ${model}`);
        return reply.type('text/html; charset=utf-8').header('content-security-policy', REPORT_CSP).send(body);
      });

      ui.post('/models/:model/retrain', async (request, reply) => {
        const { model } = parse(modelParams, request.params, 'path');
        const caller = formPoster(request, 'retrain');
        ctx.models.require(model);
        const form = parse(retrainFormSchema, request.body, 'form');
        // The same start as the API's: a run in progress is joined, not doubled.
        await startRetrain(
          await ctx.temporal.get(),
          ctx.config,
          { model },
          {
            requestedBy: caller.identity.name,
            reason: form.reason || 'started from the console',
          },
        );
        return reply.redirect(`${href('models', model)}#run`, 303);
      });

      ui.get('/approvals', async (request, reply) => {
        const caller = reader(request, reply);
        if (!caller) return reply;
        return sendPage(reply, {
          title: 'Approvals',
          caller,
          section: 'approvals',
          body: renderApprovals(await loadApprovals(ctx), caller.identity, caller.csrf),
        });
      });

      ui.post('/models/:model/decision', async (request, reply) => {
        const { model } = parse(modelParams, request.params, 'path');
        const caller = formPoster(request, 'read');
        ctx.models.require(model);
        const form = parse(decisionFormSchema, request.body, 'form');
        let answer;
        try {
          // The same update the CLI and the API send; the run checks that the person is a listed approver.
          const status = await decide(ctx, {
            model,
            action: form.action,
            by: caller.identity.name,
            reason: form.reason,
            version: form.version,
            via: 'console',
          });
          answer = notice('ok', decisionAnswer(model, form.action, status));
        } catch (err) {
          if (!(err instanceof HttpError) || err.status !== 409) throw err;
          reply.status(409);
          answer = notice('error', `The run refused the decision: ${err.message}`);
        }
        return sendPage(reply, {
          title: 'Approvals',
          caller,
          section: 'approvals',
          notice: answer,
          body: renderApprovals(await loadApprovals(ctx), caller.identity, caller.csrf),
        });
      });

      ui.get('/predictions', async (request, reply) => {
        const caller = reader(request, reply);
        if (!caller) return reply;
        const parsed = lookupQuerySchema.safeParse(request.query ?? {});
        const names = ctx.models.list();
        if (!parsed.success)
          return sendPage(reply.status(400), {
            title: 'Prediction lookup',
            caller,
            section: 'predictions',
            body: renderPrediction({}, names, null, formatIssues('query', parsed.error.issues)),
          });
        const q = parsed.data;
        if (!q.id)
          return sendPage(reply, {
            title: 'Prediction lookup',
            caller,
            section: 'predictions',
            body: renderPrediction(q, names, null, null),
          });
        if (q.model) ctx.models.require(q.model);
        const result = await explainPredictionById(ctx.store, q.id, {
          ...(q.model ? { model: q.model } : {}),
          ...(q.day ? { at: q.day } : {}),
          ...(q.contributions ? { contributions: { config: ctx.config } } : {}),
        });
        return sendPage(reply.status(result.found ? 200 : 404), {
          title: 'Prediction lookup',
          caller,
          section: 'predictions',
          body: renderPrediction(q, names, result, null),
        });
      });
    },
    { prefix: '/ui' },
  );
}

/** Whether the browser reached us over TLS (directly, or through a proxy that says so). */
function isTls(request: FastifyRequest): boolean {
  return request.protocol === 'https' || request.headers['x-forwarded-proto'] === 'https';
}

/** Refuses a form posted from another site: the browser's Origin (or Sec-Fetch-Site) says where it came from. */
function refuseCrossSite(request: FastifyRequest): void {
  const origin = request.headers.origin;
  const site = request.headers['sec-fetch-site'];
  let foreign = typeof site === 'string' && site !== 'same-origin' && site !== 'none';
  if (typeof origin === 'string' && origin !== 'null') {
    try {
      foreign ||= new URL(origin).host !== request.headers.host;
    } catch {
      foreign = true;
    }
  } else if (origin === 'null') foreign = true;
  if (foreign) throw new HttpError(403, 'Forbidden', 'a form of this console was posted from another site: refused');
}
