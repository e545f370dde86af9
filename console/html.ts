/**
 * HTML that is escaped by construction. Every page of the console is a `html` template: values
 * put into it are escaped unless they are already `SafeHtml` (another template, or `raw` for
 * markup the code itself wrote). A dozen lines instead of a template engine: the pages are
 * rendered on the server from typed data, and this is the one thing they need.
 */

/** Markup that is safe to put into a page as it is. */
export class SafeHtml {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text made safe for an element's content or a quoted attribute. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** A value a template accepts: text and numbers are escaped, arrays joined, null and false left out. */
export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false || value === true) return '';
  if (value instanceof SafeHtml) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

/** A template whose interpolated values are escaped: html`<td>${name}</td>`. */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return new SafeHtml(out);
}

/** Markup written by the code itself (an SVG path, a `<br>`), never text from users or the store. */
export function raw(markup: string): SafeHtml {
  return new SafeHtml(markup);
}
