import type { z } from 'zod';

/** A line of a JSON-lines log that validated, or the error that says where and why it did not. */
export type ParsedLine<T> = { ok: true; line: T } | { ok: false; error: string };

/**
 * Parses one line of text against `schema` without throwing. `where` names it for people
 * (`key:line`), `what` says what it should be ("prediction line"); the error names each bad field.
 */
export function safeParseJsonLine<T>(schema: z.ZodType<T>, text: string, where: string, what: string): ParsedLine<T> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `${where}: not valid JSON (${(err as Error).message})` };
  }
  return validateJsonLine(schema, value, where, what);
}

/** Validates an already-parsed value as a line; the error names `where` and each bad field. */
export function validateJsonLine<T>(schema: z.ZodType<T>, value: unknown, where: string, what: string): ParsedLine<T> {
  const result = schema.safeParse(value);
  if (result.success) return { ok: true, line: result.data };
  const problems = result.error.issues.map((i) => `${i.path.length ? i.path.map(String).join('.') : '(line)'}: ${i.message}`);
  return { ok: false, error: `${where}: invalid ${what}: ${problems.join('; ')}` };
}
