import { makeUserProject, runCli, writeTestPipeline } from './helpers/cli-project';
import { listAudit } from '../services/audit-log';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, startHarness, type Harness } from './helpers/harness';
import { startApi } from '../api/server';
import type { Command } from '../cli/command';
import { COMMANDS, loadAllCommands } from '../cli/registry';

let h: Harness;
let project: string;

/** Runs the real `retrain` binary in this file's project against its harness. */
const retrain = (args: string[], env: Record<string, string> = {}) => runCli(h, project, args, env);

const writePipeline = (name: string, extra = '') => writeTestPipeline(project, name, extra);

beforeAll(async () => {
  h = await startHarness();
  project = makeUserProject('retrain-project-');
  writePipeline('cli-model');
  writePipeline('cli-approval', `approval: { mode: 'manual', approvers: ['alice'], timeout: '1h' },`);
  writeFileSync(join(project, 'pipelines', 'broken.ts'), `export default { name: 'broken', task: 'clustering' };\n`);
});
afterAll(async () => {
  await h?.close();
});

describe('retrain CLI', () => {
  it('runs a pipeline, then shows its status, versions and audit log', async () => {
    const run = await retrain(['run', 'cli-model', '--wait']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/cli-model: PROMOTED/);
    expect(run.stdout).toMatch(/training \(Python subprocess\)/);

    const status = JSON.parse((await retrain(['status', 'cli-model', '--json'])).stdout);
    expect(status.outcome).toBe('promoted');
    expect(status.workflowId).toBe('retrain-cli-model');

    const versions = JSON.parse((await retrain(['versions', 'cli-model', '--json'])).stdout);
    expect(versions.versions).toHaveLength(1);
    expect(versions.champion).toBe(status.version);

    const audit = JSON.parse((await retrain(['audit', 'cli-model', '--json'])).stdout);
    expect(audit.map((e: { type: string }) => e.type)).toContain('promotion');

    const again = await retrain(['run', 'cli-model', '--wait', '--json']);
    expect(JSON.parse(again.stdout).outcome).toBe('unchanged');
  });

  it('approves a waiting candidate with an update and refuses an unlisted approver', async () => {
    const started = await retrain(['run', 'cli-approval']);
    expect(started.code).toBe(0);
    for (let i = 0; i < 200; i++) {
      const s = await retrain(['status', 'cli-approval', '--json']);
      if (s.code === 0 && JSON.parse(s.stdout).step === 'approval') break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const refused = await retrain(['approve', 'cli-approval', '--by', 'mallory']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/mallory is not a listed approver/);
    // A refused update never enters the run's history: the CLI audits it.
    const refusedAudit = (await listAudit(h.store, 'cli-approval')).filter((e) => e.type === 'refused-decision');
    expect(refusedAudit).toEqual([
      expect.objectContaining({
        outcome: 'rejected',
        details: expect.objectContaining({ by: 'mallory', action: 'approve', via: 'update' }),
      }),
    ]);
    expect(refusedAudit[0].summary).toMatch(/refused approve from mallory \(update\): mallory is not a listed approver/);
    const approved = await retrain(['approve', 'cli-approval', '--by', 'alice', '--reason', 'fine']);
    expect(approved.code).toBe(0);
    expect(approved.stdout).toMatch(/Approved v[0-9a-f]{12} of cli-approval as alice/);
    let outcome = 'running';
    for (let i = 0; i < 200 && outcome === 'running'; i++) {
      outcome = JSON.parse((await retrain(['status', 'cli-approval', '--json'])).stdout).outcome;
      if (outcome === 'running') await new Promise((r) => setTimeout(r, 250));
    }
    expect(outcome).toBe('promoted');
  });

  it('explains bad input with exit code 2 and names the problem', async () => {
    const unknown = await retrain(['run', 'nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown pipeline "nope".*Available: broken, cli-approval, cli-model/);

    const flag = await retrain(['run', 'cli-model', '--bogus']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/--bogus/);

    const noBy = await retrain(['approve', 'cli-model']);
    expect(noBy.code).toBe(2);
    expect(noBy.stderr).toMatch(/--by/);

    const broken = await retrain(['run', 'broken']);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/task/);

    const badEnv = await retrain(['status', 'cli-model'], { RETRAIN_TEMPORAL_ADDRESS: 'no-port' });
    expect(badEnv.code).toBe(2);
    expect(badEnv.stderr).toMatch(/RETRAIN_TEMPORAL_ADDRESS/);
  });

  it('says how to start a server when none answers', async () => {
    const down = await retrain(['status', 'cli-model'], { RETRAIN_TEMPORAL_ADDRESS: '127.0.0.1:1' });
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/no Temporal server answers at 127\.0\.0\.1:1/);
    expect(down.stderr).toMatch(/npx retrain dev/);
  });

  it('refuses a rollback when there is nothing to roll back to', async () => {
    const none = await retrain(['rollback', 'cli-model', '--reason', 'test']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no previous champion/);
  });

  it('checks a deployment: Temporal, workers on both queues, store and Python, one line each', async () => {
    const good = await retrain(['check']);
    expect(good.stderr).toBe('');
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(/^ok +Temporal +127\.0\.0\.1:\d+, namespace default$/m);
    expect(good.stdout).toMatch(new RegExp(`^ok +workers on "${h.config.taskQueue}" +1 polling`, 'm'));
    expect(good.stdout).toMatch(new RegExp(`^ok +workers on "${h.config.taskQueue}-partitions" +1 polling`, 'm'));
    expect(good.stdout).toMatch(new RegExp(`^ok +workers on "${h.config.trainingTaskQueue}" +1 polling`, 'm'));
    expect(good.stdout).toMatch(/^ok +store +.* \(readable\)$/m);
    expect(good.stdout).toMatch(/^ok +training Python +.*: Python 3\.\d+\.\d+, scikit-learn 1\.9\.1, numpy /m);
    expect(good.stdout).toMatch(/All checks passed\./);

    // Nobody polls these queues, and Python is missing: each failure says what to do.
    const bad = await retrain(['check', '--json'], { RETRAIN_TASK_QUEUE: 'nobody-polls-this', RETRAIN_PYTHON: '/nonexistent/python' });
    expect(bad.code).toBe(1);
    const report = JSON.parse(bad.stdout) as { ok: boolean; checks: { what: string; ok: boolean; detail: string }[] };
    expect(report.ok).toBe(false);
    expect(report.checks.find((c) => c.what === 'workers on "nobody-polls-this"')).toEqual({
      what: 'workers on "nobody-polls-this"',
      ok: false,
      detail: 'none polling: start `retrain worker --queues retrain`',
    });
    expect(report.checks.find((c) => c.what === 'workers on "nobody-polls-this-partitions"')).toMatchObject({ ok: false });
    expect(report.checks.find((c) => c.what === 'training Python')).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/^\/nonexistent\/python: .*ENOENT.*\(set RETRAIN_PYTHON/),
    });

    const noServer = await retrain(['check'], { RETRAIN_TEMPORAL_ADDRESS: '127.0.0.1:1' });
    expect(noServer.code).toBe(1);
    expect(noServer.stdout).toMatch(/^FAIL +Temporal +no Temporal server answers at 127\.0\.0\.1:1/m);
  });

  it('checks the HTTP API when RETRAIN_API_URL is set: ready, not ready with the reasons, something else, nothing', async () => {
    const listen = async (server: Server) => {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    };
    const close = (server: Server) => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    };
    type Report = { ok: boolean; checks: { what: string; ok: boolean; detail: string }[] };
    const apiLine = (report: Report) => report.checks.find((c) => c.what === 'HTTP API');

    // Without RETRAIN_API_URL the API is not checked.
    const without = JSON.parse((await retrain(['check', '--json'])).stdout) as Report;
    expect(apiLine(without)).toBeUndefined();

    // The real API on this file's Temporal and store: ready (a trailing slash is fine).
    const api = await startApi(h.config, { tokens: { tokens: [] }, address: '127.0.0.1:0', store: h.store, logLevel: 'silent' });
    try {
      const good = await retrain(['check'], { RETRAIN_API_URL: `${api.url}/` });
      expect(good.code, good.stdout + good.stderr).toBe(0);
      expect(good.stdout).toMatch(/^ok +HTTP API +http:\/\/127\.0\.0\.1:\d+\/ \(ready: Temporal reachable, store readable\)$/m);
      expect(good.stdout).toMatch(/All checks passed\./);
    } finally {
      await api.close();
    }

    // Up but not ready: the reasons from the /readyz body.
    const requests: string[] = [];
    const notReady = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '5' }).end(
        JSON.stringify({
          ready: false,
          temporal: { ok: false, reason: 'connect ECONNREFUSED 10.0.0.7:7233\n  at a stack line' },
          store: { ok: true, location: 's3://retrain/store' },
        }),
      );
    });
    const notReadyUrl = await listen(notReady);
    try {
      const check = await retrain(['check', '--json'], { RETRAIN_API_URL: notReadyUrl });
      expect(check.code).toBe(1);
      const report = JSON.parse(check.stdout) as Report;
      expect(report.ok).toBe(false);
      expect(apiLine(report)).toEqual({
        what: 'HTTP API',
        ok: false,
        detail: `${notReadyUrl}: not ready (HTTP 503): Temporal: connect ECONNREFUSED 10.0.0.7:7233`,
      });
      expect(requests).toEqual(['GET /readyz']);
    } finally {
      await close(notReady);
    }

    // Something that is not the API answers at the address.
    const other = createServer((_req, res) => res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>not found</h1>'));
    const otherUrl = await listen(other);
    try {
      const check = await retrain(['check'], { RETRAIN_API_URL: otherUrl });
      expect(check.code).toBe(1);
      expect(check.stdout).toMatch(
        new RegExp(
          `^FAIL +HTTP API +${otherUrl}/readyz answers HTTP 404 Not Found, not the readiness of \`retrain serve\`: check RETRAIN_API_URL$`,
          'm',
        ),
      );
    } finally {
      await close(other);
    }

    // Nothing listens: a closed port.
    const closed = createServer();
    const closedUrl = await listen(closed);
    await close(closed);
    const down = await retrain(['check'], { RETRAIN_API_URL: closedUrl });
    expect(down.code).toBe(1);
    expect(down.stdout).toContain(
      `FAIL  HTTP API               ${closedUrl}/readyz: unreachable (ECONNREFUSED): start \`retrain serve\`, or check RETRAIN_API_URL`,
    );

    // A URL that is not http(s) is a configuration error naming the variable.
    const bad = await retrain(['check'], { RETRAIN_API_URL: 'ftp://127.0.0.1:8080' });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/^FAIL +configuration +.*RETRAIN_API_URL: expected an http:\/\/ or https:\/\/ URL/m);
  });
});

describe('retrain help', () => {
  /** An address that cannot even be parsed: a command that loaded the configuration or connected would exit 2. */
  const NOWHERE = { RETRAIN_TEMPORAL_ADDRESS: 'no-port' };

  /** The flags an Options section shows, with whether they take a value: `--by WHO` → ['--by', true]. */
  function documentedFlags(help: string): [flag: string, takesValue: boolean][] {
    const options = help.slice(help.indexOf('\nOptions:\n'));
    return [...options.matchAll(/^ {2}(--[a-z][a-z-]*)( \S+)?/gm)].map((m) => [m[1], m[2] !== undefined]);
  }

  /** The parser's complaint about an unknown option, if any (other complaints, like a missing argument, are fine here). */
  function unknownOptionError(command: Command, argv: string[]): string | null {
    try {
      command.parse(argv);
      return null;
    } catch (err) {
      return /Unknown option/.test((err as Error).message) ? (err as Error).message : null;
    }
  }

  it('lists every command with its usage and summary, and the configuration', async () => {
    const help = await retrain(['help'], NOWHERE);
    expect(help.code).toBe(0);
    for (const command of await loadAllCommands()) {
      expect(help.stdout).toContain(`  ${command.usage()}`);
      expect(help.stdout).toContain(command.summary);
    }
    expect(help.stdout).toMatch(/^Configuration \(environment/m);
    expect(help.stdout).toMatch(/RETRAIN_TEMPORAL_ADDRESS \(localhost:7233\)/);
    expect(help.stdout).toContain('approve <pipeline> --by WHO [--reason TEXT] [--version V] [--json]');
  });

  it('registers each command under its own name', async () => {
    for (const [name, load] of Object.entries(COMMANDS)) expect((await load()).name).toBe(name);
  });

  it('answers --help and -h for every command with its full help and exit 0, without connecting anywhere', async () => {
    const commands = await loadAllCommands();
    const runs = commands.flatMap((c) => [
      [c.name, '--help'],
      [c.name, '-h'],
    ]);
    const results: Awaited<ReturnType<typeof retrain>>[] = [];
    // Four at a time: each is a process of its own, on a shared machine.
    for (let i = 0; i < runs.length; i += 4)
      results.push(...(await Promise.all(runs.slice(i, i + 4).map((argv) => retrain(argv, NOWHERE)))));
    commands.forEach((command, i) => {
      const [long, short] = [results[2 * i], results[2 * i + 1]];
      expect({ command: command.name, code: long.code, stderr: long.stderr }).toEqual({ command: command.name, code: 0, stderr: '' });
      expect(long.stdout).toBe(command.help());
      expect(short).toEqual(long);
      expect(long.stdout).toContain(`Usage: retrain ${command.usage()}`);
      for (const flag of Object.keys(command.flags)) expect(long.stdout).toMatch(new RegExp(`^ {2}--${flag}\\b`, 'm'));
      for (const positional of command.positionals) expect(long.stdout).toMatch(new RegExp(`^ {2}${positional.name}\\b`, 'm'));
      expect(long.stdout).toMatch(/^ {2}-h, --help +show this help$/m);
    });
    const topic = await retrain(['help', 'approve'], NOWHERE);
    expect(topic.code).toBe(0);
    expect(topic.stdout).toBe(results[2 * commands.findIndex((c) => c.name === 'approve')].stdout);
  });

  it('accepts every flag its help shows', async () => {
    for (const command of await loadAllCommands()) {
      const flags = documentedFlags(command.help());
      expect(flags.map(([flag]) => flag).sort()).toEqual(
        Object.keys(command.flags)
          .map((f) => `--${f}`)
          .sort(),
      );
      for (const [flag, takesValue] of flags) {
        expect(unknownOptionError(command, ['some-pipeline', flag, ...(takesValue ? ['x'] : [])])).toBeNull();
      }
    }
  });

  it('documents and parses approve --json', async () => {
    const approve = await COMMANDS.approve();
    expect(approve.help()).toMatch(/^ {2}--json +print JSON/m);
    expect(approve.parse(['cli-model', '--by', 'alice', '--json'])).toMatchObject({ pipeline: 'cli-model', by: 'alice', json: true });

    // The real command line gets past parsing (exit 2 would mean a refused flag) to the server, which has nothing waiting.
    const real = await retrain(['approve', 'cli-model', '--by', 'alice', '--json']);
    expect(real.stderr).not.toMatch(/Unknown option/);
    expect(real.code).toBe(1);
    expect(real.stderr).toMatch(/no running retraining run of cli-model .* is waiting for a decision/);
  });

  it('backfills with --as-of, and refuses a bad value or a source without a window with exit 2', async () => {
    const bad = await retrain(['run', 'cli-model', '--as-of', 'yesterday']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--as-of: expected a date \(2026-10-01, midnight UTC\) or an ISO-8601 time with its zone/);
    const future = await retrain(['run', 'cli-model', '--as-of', '2999-01-01']);
    expect(future.code).toBe(2);
    expect(future.stderr).toMatch(/--as-of: 2999-01-01T00:00:00\.000Z is in the future/);
    const noWindow = await retrain(['run', 'cli-model', '--as-of', '2026-10-01']);
    expect(noWindow.code).toBe(2);
    expect(noWindow.stderr).toMatch(/--as-of 2026-10-01T00:00:00\.000Z: pipeline cli-model has no source\.window/);

    // Every row labelled in August and September 2026: inside the window of a backfill as of 1 October.
    const [header, ...rows] = readFileSync(join(REPO, 'examples/data/churn.csv'), 'utf8').trim().split('\n');
    const day = (i: number) => new Date(Date.UTC(2026, 7, 1) + (i % 50) * 86_400_000).toISOString().slice(0, 10);
    const data = join(project, 'churn-labelled.csv');
    writeFileSync(data, [`${header},labelled_at`, ...rows.map((r, i) => `${r},${day(i)}`)].join('\n') + '\n');
    writeTestPipeline(project, 'cli-window');
    const file = join(project, 'pipelines', 'cli-window.ts');
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace(
        /source: \{[^}]*\}/,
        `source: { path: ${JSON.stringify(data)}, window: { column: 'labelled_at', last: '90d' } }`,
      ),
    );
    const window = { column: 'labelled_at', from: '2026-07-03T00:00:00.000Z', to: '2026-10-01T00:00:00.000Z' };
    const run = await retrain(['run', 'cli-window', '--as-of', '2026-10-01', '--wait', '--json']);
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toMatchObject({ outcome: 'promoted', asOf: window.to, window });
    const status = await retrain(['status', 'cli-window']);
    expect(status.stdout).toContain('  data:              rows with labelled_at in [2026-07-03T00:00:00.000Z, 2026-10-01T00:00:00.000Z)');
  });

  it('names the flag and what was expected when a value is wrong, with exit 2', async () => {
    const limit = await retrain(['audit', 'cli-model', '--limit', 'x']);
    expect(limit.code).toBe(2);
    expect(limit.stderr).toMatch(/--limit: .*expected number/);
    expect(limit.stderr).toContain('Usage: retrain audit <pipeline>');

    const extra = await retrain(['status', 'cli-model', 'other']);
    expect(extra.code).toBe(2);
    expect(extra.stderr).toMatch(/arguments: unexpected "other": takes <pipeline>/);

    const action = await retrain(['schedules', 'pause']);
    expect(action.code).toBe(2);
    expect(action.stderr).toMatch(/pause, unpause, trigger and delete take exactly one/);
  });
});

describe('retrain: bad names, bad settings and the wrong server', () => {
  it('refuses a pipeline argument that is not a pipeline name, before it reaches any message or suggested command', async () => {
    const marker = join(project, 'pwned');
    const status = await retrain(['status', `$(touch ${marker})`]);
    expect(status.code).toBe(2);
    expect(status.stderr).toContain(`<pipeline> "$(touch ${marker})" is not a pipeline name (lowercase letters, digits and dashes`);
    expect(status.stderr).not.toMatch(/npx retrain run/);
    expect(existsSync(marker)).toBe(false);

    // Every command that takes <pipeline> checks it the same way (exit 2 through the parser).
    const takingPipeline = (await loadAllCommands()).filter((c) => c.positionals.some((p) => p.name === 'pipeline' && !p.optional));
    expect(takingPipeline.map((c) => c.name).sort()).toEqual(
      expect.arrayContaining(['approve', 'audit', 'drift', 'reject', 'rollback', 'run', 'status', 'versions']),
    );
    for (const command of takingPipeline) {
      for (const bad of ['$(id)', 'Churn', '../etc/passwd', 'a'.repeat(64)]) {
        expect(() => command.parse([bad]), `${command.name} ${bad}`).toThrow(/<pipeline> ".*" is not a pipeline name/);
      }
      expect(() => command.parse(['cli-model'])).not.toThrow(/pipeline name/);
    }
  });

  it('says "unknown pipeline … Available" for every command about a pipeline, as run does', async () => {
    const lines = [
      ['status', 'nope'],
      ['approve', 'nope', '--by', 'alice'],
      ['reject', 'nope', '--by', 'alice'],
      ['versions', 'nope'],
      ['audit', 'nope'],
      ['drift', 'nope'],
      ['rollback', 'nope', '--reason', 'test'],
    ];
    const results: Awaited<ReturnType<typeof retrain>>[] = [];
    for (let i = 0; i < lines.length; i += 4) results.push(...(await Promise.all(lines.slice(i, i + 4).map((argv) => retrain(argv)))));
    lines.forEach((argv, i) => {
      expect({ argv, code: results[i].code }).toEqual({ argv, code: 2 });
      expect(results[i].stderr).toMatch(/unknown pipeline "nope".*Available: broken, cli-approval, cli-model/);
      expect(results[i].stderr).not.toMatch(/npx retrain/);
    });
  });

  it('refuses a store that is a file, a named directory that does not exist, or another URL scheme, naming RETRAIN_STORE', async () => {
    const file = join(project, 'not-a-directory');
    writeFileSync(file, 'x');
    const check = await retrain(['check'], { RETRAIN_STORE: file });
    expect(check.code).toBe(1);
    expect(check.stdout).toMatch(
      new RegExp(`^FAIL +configuration +environment is invalid: RETRAIN_STORE: ${file} is a file, not a directory$`, 'm'),
    );
    expect(check.stdout).not.toMatch(/readable/);
    const json = await retrain(['check', '--json'], { RETRAIN_STORE: file });
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual({
      ok: false,
      checks: [{ what: 'configuration', ok: false, detail: `environment is invalid: RETRAIN_STORE: ${file} is a file, not a directory` }],
    });

    const missing = await retrain(['versions', 'cli-model'], { RETRAIN_STORE: '/nonexistent/dir' });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(
      'RETRAIN_STORE: /nonexistent/dir does not exist (create it, or leave RETRAIN_STORE unset for the default',
    );
    expect(missing.stdout).not.toMatch(/no versions yet/);

    const ftp = await retrain(['versions', 'cli-model'], { RETRAIN_STORE: 'ftp://x/y' });
    expect(ftp.code).toBe(2);
    expect(ftp.stderr).toContain('RETRAIN_STORE: "ftp://x/y" is a ftp:// URL');
  });

  it('refuses a Temporal port out of range', async () => {
    const port = await retrain(['status', 'cli-model'], { RETRAIN_TEMPORAL_ADDRESS: '127.0.0.1:99999' });
    expect(port.code).toBe(2);
    expect(port.stderr).toContain('RETRAIN_TEMPORAL_ADDRESS: expected host:port with a port from 1 to 65535');
  });

  it('says that something other than Temporal answers at the address, without a stack', async () => {
    const server = createServer((_req, res) => res.writeHead(404).end('not found'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const status = await retrain(['status', 'cli-model'], { RETRAIN_TEMPORAL_ADDRESS: address });
      expect(status.code).toBe(1);
      expect(status.stderr).toContain(
        `retrain: something answers at ${address} but it is not a Temporal frontend (it answers HTTP/1.1 404 Not Found): check RETRAIN_TEMPORAL_ADDRESS`,
      );
      expect(status.stderr).not.toMatch(/ServiceError|rethrowGrpcError|^\s+at /m);
      const check = await retrain(['check'], { RETRAIN_TEMPORAL_ADDRESS: address });
      expect(check.code).toBe(1);
      expect(check.stdout).toMatch(new RegExp(`^FAIL +Temporal +something answers at ${address} but it is not a Temporal frontend`, 'm'));
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
