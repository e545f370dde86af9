import { parse } from 'csv-parse/sync';
import { InvalidInputError } from './errors';

/** A dataset held as text cells; `null` is a missing value. Parsing and typing happen later. */
export interface Table {
  columns: string[];
  rows: (string | null)[][];
}

/** Parses CSV (header row required) or JSON lines into a Table. */
export function parseTable(body: Buffer | string, format: 'csv' | 'jsonl', source: string): Table {
  // A byte order mark would make line 1 invalid JSON; the CSV parser strips its own.
  return format === 'csv' ? parseCsv(body, source) : parseJsonLines(body.toString().replace(/^\uFEFF/, ''), source);
}

function parseCsv(body: Buffer | string, source: string): Table {
  let records: string[][];
  try {
    records = parse(body, { bom: true, skip_empty_lines: true, relax_column_count: false });
  } catch (err) {
    throw new InvalidInputError(`${source}: not valid CSV: ${(err as Error).message}`, { step: 'validate' });
  }
  if (records.length === 0) return { columns: [], rows: [] };
  const [columns, ...rest] = records;
  return { columns: columns.map((c) => c.trim()), rows: rest.map((r) => r.map((cell) => (cell === '' ? null : cell))) };
}

function parseJsonLines(text: string, source: string): Table {
  const objects: Record<string, unknown>[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new InvalidInputError(`${source}: line ${i + 1} is not valid JSON`, { step: 'validate' });
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new InvalidInputError(`${source}: line ${i + 1} is not a JSON object`, { step: 'validate' });
    }
    objects.push(value as Record<string, unknown>);
  });
  const columns = [...new Set(objects.flatMap((o) => Object.keys(o)))];
  return { columns, rows: objects.map((o) => columns.map((c) => cellOf(o[c]))) };
}

function cellOf(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value === '' ? null : value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** Parses a numeric cell; null for missing, NaN and anything that is not a finite number. */
export function numericValue(cell: string | null): number | null {
  if (cell === null) return null;
  const trimmed = cell.trim();
  if (trimmed === '') return null;
  const n = Number(trimmed);
  return Number.isFinite(n) ? n : null;
}

/** True for a cell that spells a missing number (NaN, nan, null, NA, empty). */
export function isMissingMarker(cell: string | null): boolean {
  return cell === null || /^(nan|null|na|n\/a|none|)$/i.test(cell.trim());
}

/** Serialises chosen columns of a table as CSV, quoting where needed. */
export function toCsv(table: Table, columns: string[] = table.columns, rowIndexes?: ArrayLike<number>): string {
  const idx = columns.map((c) => {
    const i = table.columns.indexOf(c);
    if (i < 0) throw new Error(`column "${c}" is not in the table`);
    return i;
  });
  const lines = [columns.map(quote).join(',')];
  const count = rowIndexes ? rowIndexes.length : table.rows.length;
  for (let k = 0; k < count; k++) {
    const row = table.rows[rowIndexes ? rowIndexes[k] : k];
    // A lone null cell would be an empty line, which the parser skips: write it as "" instead.
    lines.push(idx.length === 1 && !row[idx[0]] ? '""' : idx.map((i) => quote(row[i] ?? '')).join(','));
  }
  return lines.join('\n') + '\n';
}

function quote(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
