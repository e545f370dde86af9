import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { InvalidInputError, type ErrorContext } from '../lib/errors';
import { csvLine, jsonLineObject, quote, type TableFormat, type TextEncoding } from '../lib/table';
import { describeWindow, inWindow, timestampOf, type ResolvedWindow } from '../lib/time-window';
import { rowBatches } from './dataset-rows';
import { TextFileWriter } from './text-file-writer';

/** Rows whose window column holds no timestamp, for the error: how many, and the first. */
interface Untimed {
  count: number;
  first: { row: number; cell: string | null } | null;
}

/**
 * Writes the rows of a fetched file source that fall in `window` to `out`, streaming: JSON lines
 * stay JSON lines (the lines are kept as they were); CSV and Parquet are written as CSV. Returns
 * the format written.
 * @throws InvalidInputError when the window's column is not in the data, a row has no timestamp
 * in it, or no row falls in the window; nothing is left at `out` then.
 */
export async function writeWindowRows(
  input: string,
  format: TableFormat,
  encoding: TextEncoding | undefined,
  window: ResolvedWindow,
  out: string,
  what: string,
  context: ErrorContext,
): Promise<'csv' | 'jsonl'> {
  try {
    return await filterRows({ input, format, encoding, window, out, what, context });
  } catch (err) {
    await rm(out, { force: true });
    throw err;
  }
}

async function filterRows(job: {
  input: string;
  format: TableFormat;
  encoding: TextEncoding | undefined;
  window: ResolvedWindow;
  out: string;
  what: string;
  context: ErrorContext;
}): Promise<'csv' | 'jsonl'> {
  const { input, format, encoding, window, out, what, context } = job;
  const writer = new TextFileWriter(out);
  const untimed: Untimed = { count: 0, first: null };
  let kept = 0;
  let seen = 0;
  const timeOf = (cell: string | null, row: number) => {
    const ms = timestampOf(cell);
    if (ms === null) {
      untimed.count++;
      untimed.first ??= { row, cell };
    }
    return ms;
  };
  try {
    if (format === 'jsonl') {
      const lines = jsonLines(input, what, encoding);
      let hasColumn = false;
      for await (const { text, line } of lines) {
        const object = jsonLineObject(text, line, what);
        hasColumn ||= window.column in object;
        const value = object[window.column];
        const cell = value === null || value === undefined ? null : String(value);
        if (inWindow(timeOf(cell, ++seen), window)) {
          kept++;
          await writer.write(`${text}\n`);
        }
      }
      if (!hasColumn) throw missingColumn(window, what, context, null);
    } else {
      let at = -1;
      for await (const batch of rowBatches({ path: input }, format, what, encoding)) {
        if (at < 0) {
          at = batch.columns.indexOf(window.column);
          if (at < 0) throw missingColumn(window, what, context, batch.columns);
          await writer.write(batch.columns.map(quote).join(',') + '\n');
        }
        const all = batch.columns.map((_, i) => i);
        let text = '';
        for (const row of batch.rows) {
          if (!inWindow(timeOf(row[at] ?? null, ++seen), window)) continue;
          kept++;
          text += csvLine(row, all);
        }
        await writer.write(text);
      }
    }
    await writer.close();
  } catch (err) {
    writer.destroy();
    throw err;
  }
  if (untimed.count > 0) {
    const first = untimed.first!;
    throw new InvalidInputError(
      `${what}: ${untimed.count} of ${seen} rows have no timestamp in the window's column "${window.column}" (first: row ${first.row}, ${first.cell === null ? 'empty' : JSON.stringify(first.cell)}): ` +
        'every row needs one, as ISO-8601 (2026-10-01, 2026-10-01T12:00:00Z) or epoch seconds',
      context,
    );
  }
  if (kept === 0) throw new InvalidInputError(`${what}: no rows in the window (${describeWindow(window)}) of ${seen} rows`, context);
  return format === 'jsonl' ? 'jsonl' : 'csv';
}

function missingColumn(window: ResolvedWindow, what: string, context: ErrorContext, columns: readonly string[] | null): InvalidInputError {
  const list = columns ? ` (its columns: ${columns.join(', ')})` : '';
  return new InvalidInputError(
    `${what}: the window's column "${window.column}" is not in the data${list}: name a timestamp column of the source`,
    context,
  );
}

/** The non-blank lines of a JSON-lines file with their line numbers, streaming. */
async function* jsonLines(path: string, what: string, encoding: TextEncoding | undefined): AsyncGenerator<{ text: string; line: number }> {
  let carry = '';
  let line = 0;
  const decoder = new TextDecoder(encoding === 'latin1' ? 'windows-1252' : 'utf-8', { fatal: encoding !== 'latin1' });
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    let text: string;
    try {
      text = carry + decoder.decode(chunk as Buffer, { stream: true });
    } catch {
      throw new InvalidInputError(`${what}: not valid UTF-8 after line ${line}: save the file as UTF-8 (or declare encoding: 'latin1')`, {
        step: 'pull',
      });
    }
    const parts = text.split('\n');
    carry = parts.pop()!;
    for (const part of parts) {
      line++;
      if (part.trim()) yield { text: part.replace(/\r$/, ''), line };
    }
  }
  const rest = carry + decoder.decode();
  if (rest.trim()) yield { text: rest, line: line + 1 };
}
