import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { formatIssues } from '../lib/errors';

function issuesOf(schema: z.ZodType, input: unknown): string {
  const parsed = schema.safeParse(input);
  if (parsed.success) throw new Error('expected the input to be rejected');
  return formatIssues('input', parsed.error.issues);
}

describe('formatIssues on unions', () => {
  it('reports the alternative the value came closest to, by its field', () => {
    const schema = z.object({
      split: z.union([z.object({ fraction: z.number() }).strict(), z.object({ file: z.object({ path: z.string() }) }).strict()]),
    });
    expect(issuesOf(schema, { split: { fraction: 'half' } })).toBe(
      'input is invalid:\n  - split.fraction: Invalid input: expected number, received string',
    );
    expect(issuesOf(schema, { split: { file: { path: 1 } } })).toBe(
      'input is invalid:\n  - split.file.path: Invalid input: expected string, received number',
    );
  });

  it('follows a union inside a union', () => {
    const inner = z.union([z.object({ a: z.number() }).strict(), z.object({ b: z.boolean() }).strict()]);
    const schema = z.object({ x: z.union([z.object({ inner }).strict(), z.object({ other: z.string() }).strict()]) });
    expect(issuesOf(schema, { x: { inner: { b: 'yes' } } })).toBe(
      'input is invalid:\n  - x.inner.b: Invalid input: expected boolean, received string',
    );
  });

  it('lists the types of a union of plain types', () => {
    expect(issuesOf(z.object({ p: z.union([z.string(), z.number()]) }), { p: null })).toBe(
      'input is invalid:\n  - p: Invalid input: expected string or number, received null',
    );
  });

  it("keeps a union's own message", () => {
    const schema = z.object({ v: z.union([z.number(), z.string()], { error: 'expected a number or a string' }) });
    expect(issuesOf(schema, { v: true })).toBe('input is invalid:\n  - v: expected a number or a string');
  });
});
