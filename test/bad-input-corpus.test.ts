import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Bad input of every kind, run through the real `retrain` binary with no Temporal server: data
 * files through `retrain validate <pipeline> --data FILE`, pipeline definitions through
 * `retrain pipelines` or `retrain validate`, configuration through `retrain check --json` and
 * `retrain versions`, drift data through `retrain drift-report`. The cases are described once,
 * in test/fixtures/bad-inputs/cases.json.
 */

const REPO = resolve(import.meta.dirname, '..');
const CORPUS = join(REPO, 'test/fixtures/bad-inputs');
const exec = promisify(execFile);

interface Case {
  kind: string;
  group: 'data' | 'pipeline' | 'config' | 'drift';
  /** The file (relative to the corpus folder) or command line the case is about, for the table. */
  input: string;
  /** Arguments after `retrain`; relative paths are relative to the corpus folder. */
  args: string[];
  /** The project folder (RETRAIN_PROJECT_DIR), relative to the corpus folder. @default project */
  project?: string;
  /** A KEY=VALUE file of environment variables for the run. */
  env?: string;
  /** A file made at test time instead of stored (too large to keep): its name replaces `input` in `args`. */
  generate?: 'huge-field';
  code: number;
  /** A fragment of stdout or stderr. */
  message: string;
  /** pass: right before this change; fixed: right since; known-failure: wrong today (asserted only not to crash). */
  status: 'pass' | 'fixed' | 'known-failure';
  note?: string;
}

const CASES = JSON.parse(readFileSync(join(CORPUS, 'cases.json'), 'utf8')) as Case[];
const results = new Map<string, { code: number; ok: boolean }>();
let scratch: string;

/** The 5 MB cell: one CSV row whose `plan` is 5 MB of letters. */
function generate(which: 'huge-field'): string {
  const path = join(scratch, `${which}.csv`);
  writeFileSync(path, `id,age,plan,churned\na1,31,${'x'.repeat(5 * 1024 * 1024)},yes\na2,45,basic,no\n`);
  return path;
}

/** KEY=VALUE lines; `#` starts a comment line. */
function readEnvFile(path: string): Record<string, string> {
  const lines = readFileSync(join(CORPUS, path), 'utf8')
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('#'));
  return Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

/** The environment without any Retrain or AWS setting of the machine running the tests. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('RETRAIN_') && !k.startsWith('AWS_')));
}

async function retrain(c: Case): Promise<{ code: number; out: string }> {
  const args = c.generate ? c.args.map((a) => (a === c.input ? generate(c.generate!) : a)) : c.args;
  const env = {
    ...cleanEnv(),
    RETRAIN_PROJECT_DIR: join(CORPUS, c.project ?? 'project'),
    ...(c.env ? readEnvFile(c.env) : {}),
  };
  try {
    const { stdout, stderr } = await exec(process.execPath, [join(REPO, 'bin/retrain.mjs'), ...args], {
      cwd: CORPUS,
      env,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout + e.stderr };
  }
}

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'retrain-bad-inputs-'));
});

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
  const rows = CASES.map((c) => {
    const r = results.get(c.kind);
    return `| ${c.group} | ${c.kind} | ${c.code} | ${r ? r.code : '—'} | ${c.status} | ${r ? (r.ok ? 'pass' : 'FAIL') : 'not run'} |`;
  });
  console.log(['', '| group | kind | expected exit | exit | status | result |', '|---|---|---|---|---|---|', ...rows, ''].join('\n'));
});

describe('bad-input corpus (cases.json)', () => {
  it('has at least 40 kinds, each named once', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(40);
    expect(new Set(CASES.map((c) => c.kind)).size).toBe(CASES.length);
  });

  it.concurrent.each(CASES.map((c) => [c.kind, c] as const))('%s', async (_kind, c) => {
    const r = await retrain(c);
    results.set(c.kind, { code: r.code, ok: false });
    // Never a crash: no stack trace, whatever the input.
    expect(r.out).not.toMatch(/\n\s+at .+:\d+:\d+\)?\n/);
    expect(r.out).not.toMatch(/RangeError|TypeError|Maximum call stack/);
    if (c.status !== 'known-failure') {
      expect({ code: r.code, out: r.out }).toEqual({ code: c.code, out: expect.stringContaining(c.message) });
    }
    results.set(c.kind, { code: r.code, ok: true });
  });
});
