import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleRoutes } from '../console/routes';
import { startApi, type RunningApi } from '../api/server';
import { hashToken, type TokensFile } from '../lib/api-tokens';
import { keys } from '../lib/keys';
import { startApiProcess, writeTokensFile } from './helpers/api-process';
import { makeUserProject, writeTestPipeline } from './helpers/cli-project';
import { startHarness, type Harness } from './helpers/harness';

/*
 * The console at /ui through real HTTP: Node's fetch (as a browser would send its requests, with
 * redirects left to the test) and curl. Sign-in, the session cookie, CSRF and origin checks on
 * forms, the security headers of every page, and bad paths and queries.
 */

const exec = promisify(execFile);
const MODEL = 'console-http-churn';
const SECRET = 'console-session-secret-0123456789abcdef';
const TOKENS = {
  alice: 'alice-token-0123456789',
  reader: 'reader-token-0123456789',
  logger: 'logger-token-0123456789',
};
const tokens: TokensFile = {
  tokens: [
    { name: 'alice@example.com', sha256: hashToken(TOKENS.alice), scopes: ['read', `approve:${MODEL}`] },
    { name: 'dashboard', sha256: hashToken(TOKENS.reader), scopes: ['read'] },
    { name: 'rails-app', sha256: hashToken(TOKENS.logger), scopes: ['log'] },
  ],
};

let h: Harness;
/** The API under test, with the shared session secret. */
let api: RunningApi;
/** Same secret, a tokens file without alice's token (as after `retrain token remove`). */
let withoutAlice: RunningApi;
/** Same tokens, another secret. */
let otherSecret: RunningApi;
let project: string;

beforeAll(async () => {
  project = makeUserProject('retrain-console-');
  writeTestPipeline(project, MODEL, "approval: { mode: 'manual', approvers: ['alice@example.com'], timeout: '1h' },");
  h = await startHarness({ projectDir: project, runWorkers: false });
  const config = { ...h.config, sessionSecret: SECRET };
  api = await startApi(config, { tokens, address: '127.0.0.1:0', logLevel: 'warn', store: h.store, extensions: [consoleRoutes] });
  withoutAlice = await startApi(config, {
    tokens: { tokens: tokens.tokens.filter((t) => t.name !== 'alice@example.com') },
    address: '127.0.0.1:0',
    logLevel: 'warn',
    store: h.store,
    extensions: [consoleRoutes],
  });
  otherSecret = await startApi(
    { ...h.config, sessionSecret: 'another-session-secret-0123456789abcdef' },
    { tokens, address: '127.0.0.1:0', logLevel: 'warn', store: h.store, extensions: [consoleRoutes] },
  );
  await h.store.put(keys.driftReport(MODEL, 'check-1', 'html'), '<!doctype html><title>report</title><p>drift report check-1</p>');
  await h.store.put(`reports/${MODEL}.html`, 'outside the reports of the model');
});
afterAll(async () => {
  await api?.close();
  await withoutAlice?.close();
  await otherSecret?.close();
  await h?.close();
});

interface Call {
  cookie?: string;
  bearer?: string;
  headers?: Record<string, string>;
}

/** A GET that leaves redirects to the caller. */
async function get(path: string, call: Call = {}, base = api) {
  const res = await fetch(`${base.url}${path}`, { redirect: 'manual', headers: headersOf(call) });
  return { res, status: res.status, text: await res.text(), location: res.headers.get('location') };
}

/** A form post, url-encoded as a browser sends it. */
async function post(path: string, form: Record<string, string>, call: Call = {}, base = api) {
  const res = await fetch(`${base.url}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headersOf(call) },
    body: new URLSearchParams(form).toString(),
  });
  return { res, status: res.status, text: await res.text(), location: res.headers.get('location') };
}

function headersOf(call: Call): Record<string, string> {
  return {
    ...(call.cookie ? { cookie: call.cookie } : {}),
    ...(call.bearer ? { authorization: `Bearer ${call.bearer}` } : {}),
    ...call.headers,
  };
}

/** The session cookie a response sets (its Set-Cookie line, and `name=value` to send back). */
function sessionCookie(res: Response): { line: string; pair: string } {
  const line = res.headers.getSetCookie().find((c) => c.startsWith('retrain_console='));
  expect(line, 'a retrain_console cookie').toBeDefined();
  return { line: line!, pair: line!.split(';')[0]! };
}

/** The CSRF token of a rendered page, as a browser's form would send it. */
function csrfOf(page: string): string {
  const m = /<input type="hidden" name="csrf" value="([^"]*)">/.exec(page);
  expect(m, 'a csrf input on the page').not.toBeNull();
  return m![1]!;
}

/** Signs in with `token` and answers the cookie to send back. */
async function signIn(token: string, base = api): Promise<string> {
  const r = await post('/ui/sign-in', { token, next: '/ui' }, {}, base);
  expect(r.status).toBe(303);
  return sessionCookie(r.res).pair;
}

/** Another character in the middle of the session id (part of what the signature covers). */
function tamper(pair: string): string {
  const eq = pair.indexOf('=');
  const i = eq + 5;
  const c = pair[i] === 'A' ? 'B' : 'A';
  return pair.slice(0, i) + c + pair.slice(i + 1);
}

/** The security headers every console page carries. */
function expectPageHeaders(res: Response): void {
  expect(res.headers.get('content-type')).toMatch(/^text\/html/);
  const csp = res.headers.get('content-security-policy') ?? '';
  expect(csp).toContain("default-src 'none'");
  expect(csp).not.toContain('script-src');
  expect(csp).toContain("frame-ancestors 'none'");
  expect(res.headers.get('x-frame-options')).toBe('DENY');
  expect(res.headers.get('cache-control')).toBe('no-store');
  expect(res.headers.get('x-content-type-options')).toBe('nosniff');
}

describe('signing in', () => {
  it('sends a visitor without credentials to the sign-in page, which renders a form', async () => {
    const r = await get('/ui');
    expect(r.status).toBe(303);
    expect(r.location).toBe('/ui/sign-in?next=%2Fui');
    const deep = await get(`/ui/models/${MODEL}?audit=2`);
    expect(deep.status).toBe(303);
    expect(deep.location).toBe(`/ui/sign-in?next=${encodeURIComponent(`/ui/models/${MODEL}?audit=2`)}`);

    const page = await get(r.location!);
    expect(page.status).toBe(200);
    expectPageHeaders(page.res);
    expect(page.text).toContain('<form method="post" action="/ui/sign-in"');
    expect(page.text).toContain('<input type="hidden" name="next" value="/ui">');
    expect(page.text).toContain('name="token" type="password"');
    // A bad next is not put in the form.
    const evil = await get('/ui/sign-in?next=%2F%2Fevil.example');
    expect(evil.text).toContain('<input type="hidden" name="next" value="/ui">');
    expect(evil.text).not.toContain('evil.example');
  });

  it('refuses a wrong token with a message on the page', async () => {
    const r = await post('/ui/sign-in', { token: 'not-a-token-0123456789', next: '/ui' });
    expect(r.status).toBe(401);
    expectPageHeaders(r.res);
    expect(r.text).toContain('not one of this server’s tokens');
    expect(r.text).toContain('<form method="post" action="/ui/sign-in"');
    expect(r.res.headers.getSetCookie()).toEqual([]);
    const empty = await post('/ui/sign-in', { token: '   ', next: '/ui' });
    expect(empty.status).toBe(401);
    expect(empty.text).toContain('paste your API token');
  });

  it('refuses a token without the read scope, saying why', async () => {
    const r = await post('/ui/sign-in', { token: TOKENS.logger, next: '/ui' });
    expect(r.status).toBe(401);
    expect(r.text).toContain('The token of rails-app lacks the &quot;read&quot; scope the console needs.');
    expect(r.res.headers.getSetCookie()).toEqual([]);
    // Nor does it read pages as a bearer token.
    const page = await get('/ui', { bearer: TOKENS.logger });
    expect(page.status).toBe(403);
    expect(page.text).toContain('does not have the scope &quot;read&quot;');
  });

  it('sets a signed HttpOnly, SameSite=Strict session cookie for /ui and goes on to next', async () => {
    const r = await post('/ui/sign-in', { token: TOKENS.alice, next: `/ui/models/${MODEL}?audit=1` });
    expect(r.status).toBe(303);
    expect(r.location).toBe(`/ui/models/${MODEL}?audit=1`);
    const { line } = sessionCookie(r.res);
    const attrs = line.split(';').map((a) => a.trim().toLowerCase());
    expect(attrs).toContain('httponly');
    expect(attrs).toContain('samesite=strict');
    expect(attrs).toContain('path=/ui');
    expect(attrs).toContain('max-age=43200');
    // Plain http: a Secure cookie would not come back.
    expect(attrs).not.toContain('secure');
    // The cookie holds the token's hash, never the token.
    expect(line).not.toContain(TOKENS.alice);
    expect(decodeURIComponent(line)).toContain(hashToken(TOKENS.alice));
  });

  it('marks the cookie Secure behind a TLS proxy', async () => {
    const r = await post('/ui/sign-in', { token: TOKENS.alice, next: '/ui' }, { headers: { 'x-forwarded-proto': 'https' } });
    expect(r.status).toBe(303);
    expect(
      sessionCookie(r.res)
        .line.split(';')
        .map((a) => a.trim().toLowerCase()),
    ).toContain('secure');
  });

  it('never goes on to another site', async () => {
    for (const next of [
      '//evil.example',
      'https://evil.example/ui',
      '/ui//evil.example',
      '/ui/\\evil.example',
      '/v1/models',
      // Not a header injection nor a 500: a console path has no raw CR, LF or non-ASCII character.
      '/ui/a\r\nSet-Cookie: x=1',
      '/ui/€',
    ]) {
      const r = await post('/ui/sign-in', { token: TOKENS.alice, next });
      expect(r.status, next).toBe(303);
      expect(r.location, next).toBe('/ui');
      expect(
        r.res.headers.getSetCookie().filter((c) => !c.startsWith('retrain_console=')),
        next,
      ).toEqual([]);
    }
  });

  it('refuses a sign-in posted from another site', async () => {
    const r = await post('/ui/sign-in', { token: TOKENS.alice, next: '/ui' }, { headers: { origin: 'https://evil.example' } });
    expect(r.status).toBe(403);
    expect(r.res.headers.getSetCookie()).toEqual([]);
  });

  it('signs in with curl too (a form post from a client no one here wrote)', async () => {
    const { stdout } = await exec('curl', [
      '-sS',
      '-i',
      '-X',
      'POST',
      '--data-urlencode',
      `token=${TOKENS.reader}`,
      '--data-urlencode',
      'next=/ui/approvals',
      `${api.url}/ui/sign-in`,
    ]);
    const head = stdout.slice(0, stdout.indexOf('\r\n\r\n'));
    expect(head).toMatch(/^HTTP\/1\.1 303/);
    expect(head).toMatch(/^location: \/ui\/approvals\r?$/im);
    const cookie = /^set-cookie: (retrain_console=[^;]+);.*HttpOnly/im.exec(head);
    expect(cookie).not.toBeNull();
    // The cookie curl got reads the page curl asks for.
    const page = await exec('curl', [
      '-sS',
      '-w',
      '\n%{http_code} %{content_type}',
      '-H',
      `Cookie: ${cookie![1]}`,
      `${api.url}/ui/approvals`,
    ]);
    expect(page.stdout).toMatch(/\n200 text\/html; charset=utf-8$/);
    expect(page.stdout).toContain('Signed in as <strong>dashboard</strong>');
  });
});

describe('reading pages', () => {
  let cookie: string;
  beforeAll(async () => {
    cookie = await signIn(TOKENS.alice);
  });

  it('answers the pages with a session, with headers that allow no script and no framing', async () => {
    for (const path of ['/ui', '/ui/', '/ui/approvals', '/ui/predictions', `/ui/models/${MODEL}`]) {
      const r = await get(path, { cookie });
      expect(r.status, path).toBe(200);
      expectPageHeaders(r.res);
      expect(r.text, path).toContain('Signed in as <strong>alice@example.com</strong>');
      expect(r.text, path).not.toMatch(/<script/i);
    }
    const models = await get('/ui', { cookie });
    expect(models.text).toContain(MODEL);
  });

  it('serves its style sheets, and nothing else under assets', async () => {
    for (const name of ['console.css', 'charts.css']) {
      const r = await get(`/ui/assets/${name}`);
      expect(r.status, name).toBe(200);
      expect(r.res.headers.get('content-type')).toBe('text/css; charset=utf-8');
      expect(r.text.length).toBeGreaterThan(100);
    }
    for (const path of ['/ui/assets/nope.css', '/ui/assets/..%2Fpackage.json', '/ui/assets/..%2F..%2Fpackage.json', '/ui/assets/']) {
      const r = await get(path, { cookie });
      expect(r.status, path).toBe(404);
      expect(r.res.headers.get('content-type'), path).toMatch(/^text\/html/);
      expect(r.text, path).not.toContain('"dependencies"');
    }
    // fetch would resolve the dots itself: curl sends the path as it is.
    const { stdout } = await exec('curl', ['-sS', '--path-as-is', '-w', '\n%{http_code}', `${api.url}/ui/assets/../package.json`]);
    expect(stdout).toMatch(/\n404$/);
    expect(stdout).not.toContain('"dependencies"');
    expect(stdout).toContain('Not found');
  });

  it('reads pages with a bearer token, without forms', async () => {
    const r = await get('/ui', { bearer: TOKENS.reader });
    expect(r.status).toBe(200);
    expectPageHeaders(r.res);
    expect(r.text).toContain('Signed in as <strong>dashboard</strong>');
    expect(r.text).not.toContain('name="csrf"');
    const wrong = await get('/ui', { bearer: 'not-a-token-0123456789' });
    expect(wrong.status).toBe(303);
    expect(wrong.location).toBe('/ui/sign-in?next=%2Fui');
  });

  it('sends a tampered cookie to sign in', async () => {
    const r = await get('/ui', { cookie: tamper(cookie) });
    expect(r.status).toBe(303);
    expect(r.location).toBe('/ui/sign-in?next=%2Fui');
    // Unsigned: the value alone, without its signature.
    const [name, value] = cookie.split('=') as [string, string];
    const unsigned = decodeURIComponent(value).replace(/\.[^.]+$/, '');
    expect((await get('/ui', { cookie: `${name}=${encodeURIComponent(unsigned)}` })).status).toBe(303);
    expect((await get('/ui', { cookie: `${name}=garbage` })).status).toBe(303);
  });

  it('ends the sessions of a token removed from the tokens file', async () => {
    // The same secret: the other API takes the cookies of tokens it still has.
    expect((await get('/ui', { cookie: await signIn(TOKENS.reader) }, withoutAlice)).status).toBe(200);
    const r = await get('/ui', { cookie }, withoutAlice);
    expect(r.status).toBe(303);
    expect(r.location).toBe('/ui/sign-in?next=%2Fui');
  });

  it('refuses a cookie signed with another secret', async () => {
    const foreign = await signIn(TOKENS.alice, otherSecret);
    expect((await get('/ui', { cookie: foreign }, otherSecret)).status).toBe(200);
    const r = await get('/ui', { cookie: foreign });
    expect(r.status).toBe(303);
    expect(r.location).toBe('/ui/sign-in?next=%2Fui');
  });

  it('answers an unknown model with a 404 page naming the known models', async () => {
    const r = await get('/ui/models/no-such-model', { cookie });
    expect(r.status).toBe(404);
    expectPageHeaders(r.res);
    expect(r.text).toContain('no-such-model');
    expect(r.text).toContain(`known models: ${MODEL}`);
    const version = await get('/ui/models/no-such-model/versions/v1', { cookie });
    expect(version.status).toBe(404);
  });

  it('takes bad query values as their defaults instead of failing', async () => {
    for (const q of [
      '?audit=abc',
      '?type=nope',
      '?audit=-4&checks=1e99&versions=x',
      '?outcome=maybe&type=',
      '?at=garbage',
      '?audit=999999',
    ]) {
      const r = await get(`/ui/models/${MODEL}${q}`, { cookie });
      expect(r.status, q).toBe(200);
      expectPageHeaders(r.res);
    }
  });

  it('answers a 404 for a version the model does not have', async () => {
    const r = await get(`/ui/models/${MODEL}/versions/v000000000000`, { cookie });
    expect(r.status).toBe(404);
    expect(r.text).toContain('has no version v000000000000');
  });

  it('never reads outside the store keys of a version or a report', async () => {
    for (const path of [
      `/ui/models/${MODEL}/versions/..%2F..%2F..%2Fpackage.json`,
      `/ui/models/${MODEL}/versions/..`,
      `/ui/models/${MODEL}/reports/..%2F..%2Fpackage.json`,
      `/ui/models/${MODEL}/reports/..%2F${MODEL}`,
      `/ui/models/${MODEL}/reports/.hidden`,
      `/ui/models/${MODEL}/reports/check-1%2F..%2F..%2F${MODEL}`,
    ]) {
      const r = await get(path, { cookie });
      expect([400, 404], `${path}: ${r.status}`).toContain(r.status);
      expect(r.text, path).not.toContain('outside the reports');
      expect(r.text, path).not.toContain('"dependencies"');
    }
    const missing = await get(`/ui/models/${MODEL}/reports/check-9`, { cookie });
    expect(missing.status).toBe(404);
  });

  it('serves a stored drift report under its own policy, still without scripts', async () => {
    const r = await get(`/ui/models/${MODEL}/reports/check-1`, { cookie });
    expect(r.status).toBe(200);
    expect(r.text).toContain('drift report check-1');
    const csp = r.res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('script-src');
    expect(r.res.headers.get('x-frame-options')).toBe('DENY');
  });

  it('answers the prediction lookup for a bad day with a 400 page and an unknown id with a 404 page', async () => {
    const bad = await get('/ui/predictions?id=x&day=yesterday', { cookie });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('YYYY-MM-DD');
    const unknown = await get(`/ui/predictions?id=no-such-prediction&model=${MODEL}`, { cookie });
    expect(unknown.status).toBe(404);
    expectPageHeaders(unknown.res);
  });

  it('keeps the console out of /openapi.json', async () => {
    const r = await get('/openapi.json');
    expect(r.status).toBe(200);
    const paths = Object.keys((JSON.parse(r.text) as { paths: Record<string, unknown> }).paths);
    expect(paths.length).toBeGreaterThan(5);
    expect(paths.filter((p) => p.startsWith('/ui'))).toEqual([]);
  });
});

describe('forms', () => {
  let cookie: string;
  let csrf: string;
  const decision = (over: Record<string, string> = {}) => ({ action: 'approve', reason: 'looks good', version: 'v123456789abc', ...over });
  const sameOrigin = () => ({ origin: api.url, 'sec-fetch-site': 'same-origin' });

  beforeAll(async () => {
    cookie = await signIn(TOKENS.alice);
    csrf = csrfOf((await get('/ui/approvals', { cookie })).text);
  });

  it('refuses a decision without a session', async () => {
    const r = await post(`/ui/models/${MODEL}/decision`, { ...decision(), csrf });
    expect(r.status).toBe(401);
    expectPageHeaders(r.res);
    expect(r.text).toContain('sign in first');
  });

  it('refuses a decision with a bearer token only: forms need a session', async () => {
    const r = await post(`/ui/models/${MODEL}/decision`, { ...decision(), csrf }, { bearer: TOKENS.alice });
    expect(r.status).toBe(401);
    // Even beside a good cookie, the bearer token is who asks.
    const both = await post(`/ui/models/${MODEL}/decision`, { ...decision(), csrf }, { bearer: TOKENS.alice, cookie });
    expect(both.status).toBe(401);
  });

  it('refuses a decision without the session’s CSRF token', async () => {
    for (const form of [
      decision(),
      { ...decision(), csrf: '' },
      { ...decision(), csrf: 'x'.repeat(43) },
      { ...decision(), csrf: `${csrf}x` },
    ]) {
      const r = await post(`/ui/models/${MODEL}/decision`, form, { cookie, headers: sameOrigin() });
      expect(r.status).toBe(403);
      expect(r.text).toContain('stale or came from another site');
    }
    // Another session's token does not do either.
    const other = await signIn(TOKENS.alice);
    const otherCsrf = csrfOf((await get('/ui', { cookie: other })).text);
    expect(otherCsrf).not.toBe(csrf);
    const r = await post(`/ui/models/${MODEL}/decision`, { ...decision(), csrf: otherCsrf }, { cookie, headers: sameOrigin() });
    expect(r.status).toBe(403);
  });

  it('refuses a decision posted from another site, even with the right CSRF token', async () => {
    const cases: Record<string, string>[] = [
      { origin: 'https://evil.example' },
      { origin: 'null' },
      { origin: 'not a url' },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
      { origin: api.url, 'sec-fetch-site': 'cross-site' },
    ];
    for (const headers of cases) {
      const r = await post(`/ui/models/${MODEL}/decision`, { ...decision(), csrf }, { cookie, headers });
      expect(r.status, JSON.stringify(headers)).toBe(403);
      expect(r.text).toContain('posted from another site');
    }
  });

  it('sends a right form to the run, which says why it cannot decide when nothing waits', async () => {
    const r = await post(`/ui/models/${MODEL}/decision`, { ...decision(), csrf }, { cookie, headers: sameOrigin() });
    expect(r.status).toBe(409);
    expectPageHeaders(r.res);
    expect(r.text).toMatch(/The run refused the decision: .*(no running retraining run|no candidate waits)/);
    // Without Origin or Sec-Fetch-Site (an older browser), the CSRF token alone lets it through.
    const bare = await post(`/ui/models/${MODEL}/decision`, { ...decision({ action: 'reject' }), csrf }, { cookie });
    expect(bare.status).toBe(409);
    expect(bare.text).toContain('no running retraining run');
  });

  it('answers a malformed decision or an unknown model without a 5xx', async () => {
    const bad = await post(`/ui/models/${MODEL}/decision`, { ...decision({ action: 'maybe' }), csrf }, { cookie, headers: sameOrigin() });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('choose Approve or Reject');
    const unknown = await post('/ui/models/no-such-model/decision', { ...decision(), csrf }, { cookie, headers: sameOrigin() });
    expect(unknown.status).toBe(404);
  });

  it('signs out with the CSRF token: the cookie is cleared and the next page asks to sign in', async () => {
    const mine = await signIn(TOKENS.reader);
    const token = csrfOf((await get('/ui', { cookie: mine })).text);
    const refused = await post('/ui/sign-out', { csrf: 'wrong' }, { cookie: mine });
    expect(refused.status).toBe(403);
    const r = await post('/ui/sign-out', { csrf: token }, { cookie: mine, headers: sameOrigin() });
    expect(r.status).toBe(303);
    expect(r.location).toBe('/ui/sign-in');
    const { line } = sessionCookie(r.res);
    expect(line).toMatch(/Path=\/ui/);
    const maxAge = /Max-Age=(\d+)/i.exec(line);
    const expires = /Expires=([^;]+)/i.exec(line);
    expect(maxAge?.[1] === '0' || (expires !== null && Date.parse(expires[1]!) < Date.now())).toBe(true);
    // A browser drops the cookie: without it, the console asks to sign in again.
    expect((await get('/ui')).status).toBe(303);
  });
});

describe('retrain serve', () => {
  it('serves the console beside the API', async () => {
    const { path, token } = writeTokensFile(project, ['read']);
    const served = await startApiProcess({ RETRAIN_PROJECT_DIR: project, RETRAIN_API_TOKENS_FILE: path, RETRAIN_STORE: h.store.location });
    try {
      const page = await fetch(`${served.url}/ui`, { redirect: 'manual' });
      expect(page.status).toBe(303);
      expect(page.headers.get('location')).toBe('/ui/sign-in?next=%2Fui');
      const models = await fetch(`${served.url}/ui`, { headers: { authorization: `Bearer ${token}` } });
      expect(models.status).toBe(200);
      expect(await models.text()).toContain(MODEL);
      expect(served.output()).toContain(`console at ${served.url}/ui`);
    } finally {
      await served.stop();
    }
  });
});

describe('starting a retrain from the console', () => {
  it('needs the retrain scope and the session’s CSRF token, and the page says what is missing', async () => {
    const sameOrigin = () => ({ origin: api.url, 'sec-fetch-site': 'same-origin' });
    const mine = await signIn(TOKENS.reader);
    const page = await get(`/ui/models/${MODEL}`, { cookie: mine });
    expect(page.text).toContain('needs a signed-in token with the <code>retrain</code> scope');
    expect(page.text).not.toContain('Start a retrain</button>');
    const token = csrfOf((await get('/ui', { cookie: mine })).text);
    const refused = await post(`/ui/models/${MODEL}/retrain`, { reason: 'please', csrf: token }, { cookie: mine, headers: sameOrigin() });
    expect(refused.status).toBe(403);
    expect(refused.text).toContain('does not have the scope &quot;retrain&quot;');
    const stale = await post(`/ui/models/${MODEL}/retrain`, { reason: 'please', csrf: 'stale' }, { cookie: mine, headers: sameOrigin() });
    expect(stale.status).toBe(403);
    expect(stale.text).toContain('stale or came from another site');
  });
});
