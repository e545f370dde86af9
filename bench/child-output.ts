/** Reading what a measured child process printed. */

/** The line of a failed process's stderr that says why: V8's fatal error, else the last error line, else the last line. */
export function gist(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return (
    lines.find((l) => l.includes('FATAL ERROR')) ??
    [...lines].reverse().find((l) => /^\w*(Error|Exception)\b/.test(l)) ??
    lines.at(-1) ??
    '(nothing on stderr)'
  );
}

/** The last line of a child's output (where it prints its JSON result). */
export const lastLine = (s: string) => s.trim().split('\n').pop()!;
