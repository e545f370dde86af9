/**
 * The command-line check every benchmark shares: `--help` prints the benchmark's own header
 * comment (what it measures, its options) and exits, and an option it does not take is an error
 * instead of a run of many minutes with the defaults.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The options a benchmark takes: those followed by a value, and switches. */
export interface BenchFlags {
  values: readonly string[];
  switches?: readonly string[];
}

/**
 * Checks `argv` against `flags`; `script` is the benchmark's `import.meta.url`, whose first doc
 * comment `--help` prints. Returns the value an option was given, or undefined.
 */
export function checkBenchArgs(argv: readonly string[], flags: BenchFlags, script: string): (flag: string) => string | undefined {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(headerOf(script) + '\n');
    process.exit(0);
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (flags.values.includes(arg)) {
      const value = argv[++i];
      if (value === undefined || value.startsWith('--')) fail(`${arg} needs a value`);
    } else if (!flags.switches?.includes(arg)) {
      const known = [...flags.values, ...(flags.switches ?? [])].join(', ');
      fail(`unknown option ${JSON.stringify(arg)}; this benchmark takes ${known || 'no options'} (--help says more)`);
    }
  }
  return (flag) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
}

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

/** The script's first `/** … *\/` comment, without its comment marks. */
function headerOf(script: string): string {
  const text = readFileSync(fileURLToPath(script), 'utf8');
  const start = text.indexOf('/**');
  const end = text.indexOf('*/', start);
  if (start < 0 || end < 0) return '(no description)';
  return text
    .slice(start + 3, end)
    .split('\n')
    .map((line) => line.replace(/^\s*\* ?/, ''))
    .join('\n')
    .trim();
}
