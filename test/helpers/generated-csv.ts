/**
 * Generated CSV files for the CSV readers' tests (test/csv-records.test.ts,
 * test/csv-column-reader.test.ts): seeded, valid or with one defect put in.
 */
import { mulberry32 } from '../../lib/split';

/** Text pieces of an unquoted cell: no quote, comma or line break; multi-byte UTF-8 and a stray BOM among them. */
const PLAIN = [
  'a',
  'B',
  'z',
  '0',
  '7',
  '42',
  '-3.5',
  '1e9',
  'x y',
  ' ',
  '\t',
  'é',
  'ß',
  'ü',
  '日本',
  '語',
  '😀',
  '€',
  'null',
  'NA',
  "'",
  ';',
  '|',
  '\uFEFF',
];
/** Pieces only a quoted cell can hold. */
const SPECIAL = [',', '"', '""', '\n', '\r\n', ', ', '"a, b"', '\n\n'];

/** A generated CSV file and what it was made to be. */
export interface GeneratedCsv {
  text: string;
  /** The defect put in, or null for a valid file. */
  defect: string | null;
}

/** A seeded CSV generator: quoted cells with commas, quotes and line breaks, empty lines, BOM, CRLF, no final line break, unicode. */
export function generateCsv(seed: number): GeneratedCsv {
  const rand = mulberry32(seed);
  const int = (n: number) => Math.floor(rand() * n);
  const pick = <T>(xs: readonly T[]) => xs[int(xs.length)]!;
  const eol = rand() < 0.5 ? '\n' : '\r\n';
  const width = 1 + int(5);
  const quoted = (raw: string) => `"${raw.replace(/"/g, '""')}"`;
  const plainCell = () => Array.from({ length: int(4) }, () => pick(PLAIN)).join('');
  const quotedCell = () => quoted(Array.from({ length: int(5) }, () => (rand() < 0.5 ? pick(PLAIN) : pick(SPECIAL))).join(''));
  const cell = () => {
    const r = rand();
    return r < 0.2 ? '' : r < 0.6 ? plainCell() : quotedCell();
  };
  const header = Array.from({ length: width }, (_, i) => {
    const name = rand() < 0.2 ? `列${i}` : `c${i}`;
    const padded = rand() < 0.2 ? ` ${name} ` : name;
    return rand() < 0.3 ? quoted(rand() < 0.3 ? `${padded}, "x"` : padded) : padded;
  });
  const records: string[][] = [header];
  const rows = int(25);
  for (let r = 0; r < rows; r++) records.push(Array.from({ length: width }, cell));

  let defect: string | null = null;
  if (rows > 0 && rand() < 0.3) {
    const r = 1 + int(rows);
    const c = int(width);
    defect = pick([
      'too many cells',
      'too few cells',
      'quote in an unquoted cell',
      'text after a closing quote',
      'unclosed quote',
      'column named twice',
    ]);
    if (defect === 'too many cells') records[r]!.splice(c, 0, plainCell());
    else if (defect === 'too few cells' && width > 1) records[r]!.splice(c, 1);
    else if (defect === 'quote in an unquoted cell') records[r]![c] = `a${pick(PLAIN)}"b`;
    else if (defect === 'text after a closing quote') records[r]![c] = `${quotedCell()}x`;
    else if (defect === 'unclosed quote') records.push([...records[r]!.slice(0, c), `"never closed${pick(SPECIAL).replace(/"/g, '')}`]);
    else if (defect === 'column named twice' && width > 1) records[0]![c] = c === 0 ? records[0]![1]! : records[0]![0]!;
    else defect = null;
  }

  const lines: string[] = [];
  for (const record of records) {
    while (rand() < 0.1) lines.push('');
    lines.push(record.join(','));
  }
  while (rand() < 0.1) lines.push('');
  const bom = rand() < 0.2 ? '\uFEFF' : '';
  const finalBreak = rand() < 0.7 ? eol : '';
  return { text: bom + lines.join(eol) + finalBreak, defect };
}

/** Chunk sizes for a file: one byte at a time, a few bytes, any size up to the whole, or the whole. */
export function chunkSizes(seed: number, length: number): () => number {
  const rand = mulberry32(seed ^ 0x5bd1e995);
  const mode = seed % 4;
  if (mode === 0) return () => 1;
  if (mode === 1) return () => 1 + Math.floor(rand() * 7);
  if (mode === 2) return () => 1 + Math.floor(rand() * length);
  return () => Math.max(1, length);
}

/** The reader's and csv-parse's error kind (the words before the message's third colon) and line. */
export function errorShape(message: string): { kind: string; line: string | null } {
  return { kind: /not valid CSV: ([^:]+):/.exec(message)?.[1] ?? message, line: /line (\d+)/.exec(message)?.[1] ?? null };
}
