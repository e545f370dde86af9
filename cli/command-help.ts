import { isRequired, type CommandSpec, type Flag, type Positional } from './command-spec';

/** Labels longer than this put their description on the next line, so one long flag does not push every description right. */
const MAX_LABEL = 24;

/** `<pipeline>`, `[pipeline]`, `[pipeline...]`, or the choices: `<apply|list>`. */
export function positionalLabel(p: Positional): string {
  const name = (p.choices ? Object.keys(p.choices).join('|') : p.name) + (p.variadic ? '...' : '');
  return p.optional ? `[${name}]` : `<${name}>`;
}

/** `--json`, `--by WHO`. */
export function flagLabel(name: string, flag: Flag): string {
  return flag.type === 'boolean' ? `--${name}` : `--${name} ${flag.placeholder ?? 'VALUE'}`;
}

/** The one-line usage without `retrain `: `approve <pipeline> --by WHO [--reason TEXT] [--json]`. */
export function commandUsage(spec: CommandSpec): string {
  const flags = Object.entries(spec.flags).map(([name, flag]) => (isRequired(flag) ? flagLabel(name, flag) : `[${flagLabel(name, flag)}]`));
  return [spec.name, ...spec.positionals.map(positionalLabel), ...flags].join(' ');
}

/** The full `retrain <command> --help`: summary, usage, details, arguments, flags with their defaults, examples. */
export function commandHelp(spec: CommandSpec): string {
  const sections = [`retrain ${spec.name}: ${spec.summary}`, `Usage: retrain ${commandUsage(spec)}`];
  if (spec.details) sections.push(spec.details);
  const argumentRows = spec.positionals.flatMap(positionalRows);
  const flagRows = Object.entries(spec.flags).map(([name, flag]): Row => [
    flagLabel(name, flag),
    withNote(flag.description, flagNote(flag)),
  ]);
  const optionRows: Row[] = [...flagRows, ['-h, --help', 'show this help']];
  // One label width for both lists, so their descriptions line up.
  const width = Math.min(Math.max(...[...argumentRows, ...optionRows].map(([label]) => label.length)), MAX_LABEL);
  if (argumentRows.length) sections.push(['Arguments:', ...twoColumns(argumentRows, width)].join('\n'));
  sections.push(['Options:', ...twoColumns(optionRows, width)].join('\n'));
  if (spec.examples.length) sections.push(['Examples:', ...spec.examples.map((e) => `  ${e}`)].join('\n'));
  return sections.join('\n\n') + '\n';
}

type Row = [label: string, text: string];

function positionalRows(p: Positional): Row[] {
  const row: Row = [p.name, withNote(p.description, p.optional ? ' (optional)' : '')];
  return [row, ...Object.entries(p.choices ?? {}).map(([value, what]): Row => [`  ${value}`, what])];
}

/** ` (required)`, ` (default: 50)`, or nothing. */
function flagNote(flag: Flag): string {
  if (isRequired(flag)) return ' (required)';
  if (flag.type === 'boolean') return '';
  const shown = flag.shownDefault ?? (flag.default === undefined || flag.default === '' ? undefined : String(flag.default));
  return shown === undefined ? '' : ` (default: ${shown})`;
}

/** The note goes on the description's first line, beside the flag it is about. */
function withNote(description: string, note: string): string {
  const [first, ...rest] = description.split('\n');
  return [first + note, ...rest].join('\n');
}

/** Labels in one column and their texts aligned in a second; a text's `\n` continues in the second column. */
function twoColumns(rows: Row[], width: number): string[] {
  const indent = ' '.repeat(2 + width + 2);
  return rows.flatMap(([label, text]) => {
    const [first, ...rest] = text.split('\n');
    const head = label.length <= width ? [`  ${label.padEnd(width)}  ${first}`] : [`  ${label}`, indent + first];
    return [...head, ...rest.map((line) => indent + line)].map((line) => line.trimEnd());
  });
}
