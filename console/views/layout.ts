import { html, type SafeHtml } from '../html';

/** Who is signed in, as every page shows it. */
export interface Viewer {
  name: string;
  scopes: readonly string[];
  /** The session's CSRF token, for the sign-out form; null for a bearer-token request (no forms). */
  csrf: string | null;
}

export type Section = 'models' | 'approvals' | 'predictions' | null;

/** A whole page: a skip link, the navigation, who is signed in, and the content. */
export function page(opts: { title: string; viewer: Viewer | null; section: Section; body: SafeHtml; notice?: SafeHtml }): string {
  const nav = (section: Exclude<Section, null>, href: string, label: string) =>
    html`<li><a href="${href}" ${opts.section === section ? html`aria-current="page"` : null}>${label}</a></li>`;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${opts.title} · Retrain</title>
<link rel="stylesheet" href="/ui/assets/console.css">
<link rel="stylesheet" href="/ui/assets/charts.css">
</head>
<body>
<a class="skip" href="#content">Skip to content</a>
<header class="top">
  <a class="brand" href="/ui">Retrain</a>
  ${
    opts.viewer
      ? html`<nav aria-label="Console"><ul>
    ${nav('models', '/ui', 'Models')}
    ${nav('approvals', '/ui/approvals', 'Approvals')}
    ${nav('predictions', '/ui/predictions', 'Prediction lookup')}
  </ul></nav>
  <div class="who">Signed in as <strong>${opts.viewer.name}</strong>${
    opts.viewer.csrf
      ? html` <form method="post" action="/ui/sign-out"><input type="hidden" name="csrf" value="${opts.viewer.csrf}"><button type="submit" class="link">Sign out</button></form>`
      : null
  }</div>`
      : null
  }
</header>
<main id="content" tabindex="-1">
${opts.notice ?? null}
${opts.body}
</main>
</body>
</html>
`.text;
}

/** A notice at the top of a page: the answer to a form, or a problem. */
export function notice(kind: 'ok' | 'error' | 'info', text: string | SafeHtml): SafeHtml {
  return html`<div class="notice ${kind}" role="${kind === 'error' ? 'alert' : 'status'}">${text}</div>`;
}

/** A number for people: up to 4 significant digits, or a dash. */
export function num(v: number | null | undefined, digits = 4): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  return Number(v.toPrecision(digits)).toString();
}

/** A time for people: UTC, to the minute. */
export function when(iso: string | null | undefined): string {
  if (!iso) return '–';
  return iso.replace('T', ' ').slice(0, 16) + ' UTC';
}

/** How long ago, roughly. */
export function ago(iso: string | null | undefined, now: number): string {
  if (!iso) return '–';
  const s = Math.max(0, (now - Date.parse(iso)) / 1000);
  if (s < 90) return `${Math.round(s)} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  if (s < 129_600) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} days ago`;
}

/** A link into the console (path parts are encoded). */
export function href(...parts: string[]): string {
  return '/ui/' + parts.map(encodeURIComponent).join('/');
}
