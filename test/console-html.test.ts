import { describe, expect, it } from 'vitest';
import { escapeHtml, html, raw, SafeHtml } from '../console/html';
import { nextPathSchema, renderSignIn, signInFormSchema } from '../console/pages/sign-in';
import {
  csrfMatches,
  csrfToken,
  newSessionValue,
  parseSessionValue,
  SESSION_HOURS,
  sessionIdentity,
  sessionSecret,
  type Session,
} from '../console/session';
import { hashToken, type TokensFile } from '../lib/api-tokens';

const EVIL = `<script>alert("x&y")</script>`;

describe('html templates', () => {
  it('escapes text put into element content', () => {
    expect(html`<td>${EVIL}</td>`.text).toBe('<td>&lt;script&gt;alert(&quot;x&amp;y&quot;)&lt;/script&gt;</td>');
    expect(escapeHtml(`a & b < c > d " e ' f`)).toBe('a &amp; b &lt; c &gt; d &quot; e &#39; f');
  });

  it('escapes quotes in attributes, so a value cannot close its attribute', () => {
    const markup = html`<a title="${`" onmouseover="alert(1)`}" data-x='${"' onclick='x"}'>x</a>`.text;
    expect(markup).toBe(`<a title="&quot; onmouseover=&quot;alert(1)" data-x='&#39; onclick=&#39;x'>x</a>`);
    expect(markup).not.toContain('" onmouseover');
  });

  it('writes numbers, joins arrays and leaves out null, undefined and booleans', () => {
    expect(html`<b>${0}</b><b>${-1.5}</b>`.text).toBe('<b>0</b><b>-1.5</b>');
    expect(html`<ul>${['<a>', html`<li>${'&'}</li>`, ['x', null]]}</ul>`.text).toBe('<ul>&lt;a&gt;<li>&amp;</li>x</ul>');
    expect(html`[${null}][${undefined}][${false}][${true}]`.text).toBe('[][][][]');
    expect(html`${[]}`.text).toBe('');
  });

  it('does not escape a nested template twice', () => {
    const inner = html`<i>${'a & b'}</i>`;
    const outer = html`<p>${inner}</p>`;
    expect(outer.text).toBe('<p><i>a &amp; b</i></p>');
    expect(html`<div>${outer}</div>`.text).toBe('<div><p><i>a &amp; b</i></p></div>');
    expect(outer).toBeInstanceOf(SafeHtml);
    expect(String(outer)).toBe(outer.text);
  });

  it('takes raw markup as it is, and a plain string that looks like markup as text', () => {
    expect(html`<svg>${raw('<path d="M0 0"/>')}</svg>`.text).toBe('<svg><path d="M0 0"/></svg>');
    expect(html`<svg>${'<path d="M0 0"/>'}</svg>`.text).toBe('<svg>&lt;path d=&quot;M0 0&quot;/&gt;</svg>');
    // Only SafeHtml itself is trusted, not something that merely has a `text`.
    const lookalike = { text: EVIL } as unknown as string;
    expect(html`${lookalike}`.text).not.toContain('<script>');
  });

  it('renders a template without values as it is', () => {
    expect(html`<p>&amp; plain</p>`.text).toBe('<p>&amp; plain</p>');
  });
});

describe('console sessions', () => {
  const NOW = Date.UTC(2024, 5, 1);
  const sha = hashToken('alice-token-0123456789');
  const secret = Buffer.from('s'.repeat(32));

  it('round-trips a new session through its cookie value', () => {
    const { value, session } = newSessionValue(sha, NOW);
    expect(session.tokenSha256).toBe(sha);
    expect(session.expiresAt).toBe(NOW + SESSION_HOURS * 3_600_000);
    expect(session.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(value).not.toContain('alice-token');
    expect(parseSessionValue(value, NOW)).toEqual(session);
    // Every sign-in is a new session.
    expect(newSessionValue(sha, NOW).session.id).not.toBe(session.id);
  });

  it('ends a session at its expiry', () => {
    const { value, session } = newSessionValue(sha, NOW);
    expect(parseSessionValue(value, session.expiresAt - 1)).toEqual(session);
    expect(parseSessionValue(value, session.expiresAt)).toBeNull();
    expect(parseSessionValue(value, session.expiresAt + 3_600_000)).toBeNull();
  });

  it('refuses malformed values', () => {
    const { value, session } = newSessionValue(sha, NOW);
    const bad = [
      '',
      'garbage',
      `${session.id}.${sha}`,
      `${session.id}.${sha}.${session.expiresAt}.extra`,
      `${session.id}x.${sha}.${session.expiresAt}`,
      `${session.id}.${sha.toUpperCase()}.${session.expiresAt}`,
      `${session.id}.${sha.slice(1)}.${session.expiresAt}`,
      `${session.id}.${sha}.${session.expiresAt}0`,
      `${session.id}.${sha}.-${session.expiresAt}`,
      `${session.id.slice(0, 21)}=.${sha}.${session.expiresAt}`,
      ` ${value}`,
      `${value}\n`,
    ];
    for (const v of bad) expect(parseSessionValue(v, NOW), JSON.stringify(v)).toBeNull();
  });

  it('matches the CSRF token of its own session only', () => {
    const { session } = newSessionValue(sha, NOW);
    const { session: other } = newSessionValue(sha, NOW);
    const token = csrfToken(secret, session);
    expect(csrfMatches(secret, session, token)).toBe(true);
    expect(csrfMatches(secret, other, token)).toBe(false);
    expect(csrfMatches(Buffer.from('t'.repeat(32)), session, token)).toBe(false);
    expect(csrfMatches(secret, session, undefined)).toBe(false);
    expect(csrfMatches(secret, session, '')).toBe(false);
    expect(csrfMatches(secret, session, token.slice(1))).toBe(false);
    expect(csrfMatches(secret, session, `${token}x`)).toBe(false);
    const flipped = (token[0] === 'A' ? 'B' : 'A') + token.slice(1);
    expect(csrfMatches(secret, session, flipped)).toBe(false);
    // Same session id, same token: it depends on the session id alone, not on the expiry.
    const renewed: Session = { ...session, expiresAt: session.expiresAt + 1 };
    expect(csrfMatches(secret, renewed, token)).toBe(true);
  });

  it('finds who a session belongs to in the tokens file now, and nobody once the token is removed', () => {
    const { session } = newSessionValue(sha, NOW);
    const tokens: TokensFile = {
      tokens: [
        { name: 'bob@example.com', sha256: hashToken('bob-token-0123456789'), scopes: ['read'] },
        { name: 'alice@example.com', sha256: sha, scopes: ['read', 'approve:churn'] },
      ],
    };
    expect(sessionIdentity(tokens, session)).toEqual({ name: 'alice@example.com', scopes: ['read', 'approve:churn'] });
    const removed: TokensFile = { tokens: tokens.tokens.filter((t) => t.sha256 !== sha) };
    expect(sessionIdentity(removed, session)).toBeNull();
    // Scopes are read again too: a token whose scopes changed gets the new ones.
    const narrowed: TokensFile = { tokens: [{ name: 'alice@example.com', sha256: sha, scopes: ['read'] }] };
    expect(sessionIdentity(narrowed, session)?.scopes).toEqual(['read']);
  });

  it('signs with the configured secret, or a random one per process', () => {
    expect(sessionSecret('x'.repeat(32)).toString('utf8')).toBe('x'.repeat(32));
    const a = sessionSecret(undefined);
    const b = sessionSecret(undefined);
    expect(a).toHaveLength(32);
    expect(a.equals(b)).toBe(false);
  });
});

describe('the sign-in page', () => {
  it('goes on to console paths only', () => {
    for (const ok of ['/ui', '/ui/', '/ui/models/x?y=1', '/ui?audit=2', '/ui/?x=1', '/ui/approvals', '/ui/models/churn/versions/v1']) {
      expect(nextPathSchema.parse(ok), ok).toBe(ok);
    }
    for (const bad of [
      '//evil.com',
      'https://evil',
      'http://localhost/ui',
      '/uix',
      '/v1/models',
      '/ui//evil',
      '/ui/\\evil',
      '/\\evil.com',
      '',
      'ui',
      ' /ui',
      '/ui#x',
      // What cannot go in a Location header as it is: a browser percent-encodes it.
      '/ui/a\r\nSet-Cookie: x=1',
      '/ui/€',
      '/ui/a b',
      '/ui/'.padEnd(2001, 'a'),
    ]) {
      expect(nextPathSchema.parse(bad), bad).toBe('/ui');
    }
    expect(nextPathSchema.parse(42)).toBe('/ui');
    expect(nextPathSchema.parse(undefined)).toBe('/ui');
  });

  it('reads the form, trimming the token and falling back for a bad next', () => {
    expect(signInFormSchema.parse({ token: '  abc \n', next: '//evil.example' })).toEqual({ token: 'abc', next: '/ui' });
    expect(signInFormSchema.safeParse({ token: '   ' }).success).toBe(false);
    expect(signInFormSchema.safeParse({}).success).toBe(false);
  });

  it('renders the form with the next path and the problem escaped', () => {
    const page = renderSignIn('/ui/models/x?a=1&b="2"', `bad <token>`).text;
    expect(page).toContain('<form method="post" action="/ui/sign-in"');
    expect(page).toContain('name="token" type="password"');
    expect(page).toContain('value="/ui/models/x?a=1&amp;b=&quot;2&quot;"');
    expect(page).toContain('bad &lt;token&gt;');
    expect(page).toContain('aria-describedby="sign-in-problem"');
    expect(renderSignIn('/ui', null).text).not.toContain('sign-in-problem');
  });
});
