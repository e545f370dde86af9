import { z } from 'zod';
import { html, type SafeHtml } from '../html';

/** Where to go after signing in: a console path only, never another site (`//evil`, `https://…`). */
export const nextPathSchema = z
  .string()
  .max(2000)
  // Printable ASCII only, as a browser sends a path (percent-encoded): a raw CR, LF or '€' cannot go in a Location header (a 500).
  .regex(/^[\x21-\x7e]*$/, 'expected a console path')
  .regex(/^\/ui(\/[^/\\]|\/?$|\/?\?)/, 'expected a console path')
  .catch('/ui');

/** The sign-in form's fields. */
export const signInFormSchema = z.object({
  token: z.string().trim().min(1, 'paste your API token').max(500, 'that is longer than any API token'),
  next: nextPathSchema.optional(),
});

/** The sign-in page: one field, the API token (`retrain token add` makes one). */
export function renderSignIn(next: string, problem: string | null): SafeHtml {
  return html`<h1>Sign in</h1>
${problem ? html`<p class="notice error" role="alert" id="sign-in-problem">${problem}</p>` : null}
<form method="post" action="/ui/sign-in" class="sign-in">
  <input type="hidden" name="next" value="${next}">
  <label for="token">API token</label>
  <input id="token" name="token" type="password" autocomplete="current-password" required autofocus size="50" ${problem ? html`aria-describedby="sign-in-problem"` : null}>
  <button type="submit">Sign in</button>
</form>
<p class="muted small">Use one of the tokens of <code>retrain serve</code> with the <code>read</code> scope (create one with <code>npx retrain token add --name you@example.com --scopes read,approve:&lt;model&gt;</code>). Approving needs <code>approve:&lt;model&gt;</code> and your name among the pipeline’s approvers. The token is checked once; the browser then keeps a session cookie for 12 hours, not the token.</p>`;
}
