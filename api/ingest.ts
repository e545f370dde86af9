import { z } from 'zod';
import type { FastifyRequest } from 'fastify';
import type { IdempotentLog, LogRecord } from '../services/idempotent-log';
import { HttpError } from './http-errors';
import type { ModelCatalog } from './model-catalog';

/**
 * Shared by `POST /v1/predictions` and `POST /v1/labels`: a batch of entries (a JSON array, or
 * NDJSON: one JSON object per line) is validated entry by entry; valid entries of known models
 * are appended to an idempotent log, and the answer lists what was stored, what was already
 * there and what was rejected, with the field path and the reason.
 */

/** The content type of NDJSON bodies (`application/json` takes an array, or one object). */
export const NDJSON = 'application/x-ndjson';

const issueSchema = z.object({ path: z.string(), message: z.string() });

/** The answer to a batch. */
export const ingestResultSchema = z
  .object({
    /** Entries in the request. */
    received: z.number().int(),
    /** Entries written now. */
    stored: z.number().int(),
    /** Entries whose id was already in the log (a retried batch): acknowledged, not written again. */
    duplicates: z.number().int(),
    /** Entries not taken: fix them and send them again (the others need not be resent). */
    rejected: z.array(z.object({ index: z.number().int(), id: z.string().optional(), issues: z.array(issueSchema) })),
  })
  .meta({ id: 'IngestResult' });
export type IngestResult = z.infer<typeof ingestResultSchema>;
type Rejected = IngestResult['rejected'][number];

/** How one kind of entry becomes a log record. */
export interface EntryKind<T extends { model: string }> {
  schema: z.ZodType<T>;
  /** What makes an entry a duplicate of another (the prediction id; for labels, id and knownAt). */
  dedupeKey(entry: T): string;
  record(entry: T, receivedAt: Date): LogRecord;
}

/** The entries of a body, each with its position; NDJSON lines that are not JSON are rejected here. */
export function entriesOf(
  request: FastifyRequest,
  maxEntries: number,
): { values: { index: number; value: unknown }[]; rejected: Rejected[]; count: number } {
  const body = request.body;
  const rejected: Rejected[] = [];
  let values: { index: number; value: unknown }[];
  if (typeof body === 'string') {
    values = [];
    const lines = body.split('\n');
    let index = 0;
    for (let i = 0; i < lines.length; i++) {
      const text = lines[i].trim();
      if (!text) continue;
      try {
        values.push({ index, value: JSON.parse(text) });
      } catch (err) {
        rejected.push({ index, issues: [{ path: '', message: `line ${i + 1} is not valid JSON: ${(err as Error).message}` }] });
      }
      index++;
    }
  } else if (Array.isArray(body)) values = body.map((value, index) => ({ index, value }));
  else if (body !== null && typeof body === 'object') values = [{ index: 0, value: body }];
  else throw new HttpError(400, 'InvalidInput', `expected a JSON array of entries, or ${NDJSON} with one entry per line`);
  const count = values.length + rejected.length;
  if (count === 0) throw new HttpError(400, 'InvalidInput', 'the request has no entries');
  if (count > maxEntries)
    throw new HttpError(413, 'TooManyEntries', `${count} entries in one request; send at most ${maxEntries} per request (split the batch)`);
  return { values, rejected, count };
}

/** Validates a batch and appends its valid entries; 503 (retry) when the log cannot take them now. */
export async function ingest<T extends { model: string }>(
  request: FastifyRequest,
  kind: EntryKind<T>,
  log: IdempotentLog,
  models: ModelCatalog,
  maxEntries: number,
): Promise<{ status: number; result: IngestResult }> {
  const { values, rejected, count } = entriesOf(request, maxEntries);
  const receivedAt = new Date();
  const byModel = new Map<string, LogRecord[]>();
  const firstIndex = new Map<string, number>();
  for (const { index, value } of values) {
    const id = typeof (value as { id?: unknown })?.id === 'string' ? (value as { id: string }).id : undefined;
    const parsed = kind.schema.safeParse(value);
    if (!parsed.success) {
      rejectEntry(
        rejected,
        index,
        id,
        parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })),
      );
      continue;
    }
    const entry = parsed.data;
    if (!models.has(entry.model)) {
      rejectEntry(rejected, index, id, [
        { path: 'model', message: `unknown model "${entry.model.slice(0, 80)}"; known models: ${models.list().join(', ')}` },
      ]);
      continue;
    }
    const key = `${entry.model}\u0000${kind.dedupeKey(entry)}`;
    const earlier = firstIndex.get(key);
    if (earlier !== undefined) {
      rejectEntry(rejected, index, id, [{ path: 'id', message: `entry ${earlier} of this request has the same id` }]);
      continue;
    }
    firstIndex.set(key, index);
    const records = byModel.get(entry.model) ?? [];
    records.push(kind.record(entry, receivedAt));
    byModel.set(entry.model, records);
  }
  const appended = await Promise.all([...byModel].map(([model, records]) => log.append(model, records)));
  rejected.sort((a, b) => a.index - b.index);
  const stored = appended.reduce((n, a) => n + a.stored.length, 0);
  const duplicates = appended.reduce((n, a) => n + a.duplicates.length, 0);
  // Nothing usable at all is a client error; a partly good batch is taken, with the rest listed.
  const status = stored + duplicates === 0 ? 422 : 200;
  return { status, result: { received: count, stored, duplicates, rejected } };
}

/** Lists a rejected entry (a function, not a closure per entry: under tsx each closure costs a defineProperty for its name). */
function rejectEntry(rejected: Rejected[], index: number, id: string | undefined, issues: Rejected['issues']): void {
  rejected.push({ index, ...(id !== undefined ? { id: id.slice(0, 200) } : {}), issues });
}
