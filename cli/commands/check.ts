import { spawnSync } from 'node:child_process';
import { storeLocation, type RetrainConfig } from '../../lib/config';
import { InvalidInputError } from '../../lib/errors';
import { loadConfig } from '../../services/config';
import { checkStore, createStore } from '../../store/index';
import { defineCommand } from '../command';
import { jsonFlag } from '../common-args';
import { connectClient } from '../../client/client';
import { output } from '../format';
import { describeTemporal } from '../../client/temporal-connection';

interface Check {
  what: string;
  ok: boolean;
  detail: string;
}

/**
 * Checks what a deployment needs, one line each, so a new machine or a changed setting can be
 * tried before a run depends on it: the configuration parses (else that is the one failure
 * reported, naming the variable: a store that is a file or a missing directory, a bad port…),
 * Temporal answers in the namespace, workers poll both task queues, the store can be read, and
 * the training Python has scikit-learn. Exits 1 when any check fails.
 */
export const checkCommand = defineCommand({
  name: 'check',
  summary: 'check configuration, Temporal, workers on both queues, store and Python',
  details:
    'One line per check; exits 1 when any check fails, saying what to do about it. A configuration\nthat does not parse is the one failure reported, naming the variable.',
  flags: { json: jsonFlag },
  examples: ['retrain check', 'RETRAIN_TEMPORAL_ADDRESS=temporal.internal:7233 retrain check --json'],
  async run(args) {
    let config: RetrainConfig;
    try {
      config = loadConfig();
    } catch (err) {
      if (!(err instanceof InvalidInputError)) throw err;
      // Nothing else can be checked without a configuration: this is the one failure to fix first.
      const check: Check = { what: 'configuration', ok: false, detail: oneLine(err.message) };
      output(
        args.json,
        { ok: false, checks: [check] },
        () => `FAIL  ${check.what.padEnd(22)} ${check.detail}\n\nSome checks failed (FAIL above).`,
      );
      return 1;
    }
    const checks: Check[] = [...(await temporalChecks(config)), await storeCheck(config), pythonCheck(config)];
    output(args.json, { ok: checks.every((c) => c.ok), checks }, () =>
      [
        ...checks.map((c) => `${c.ok ? 'ok  ' : 'FAIL'}  ${c.what.padEnd(22)} ${c.detail}`),
        checks.every((c) => c.ok) ? '\nAll checks passed.' : '\nSome checks failed (FAIL above).',
      ].join('\n'),
    );
    return checks.every((c) => c.ok) ? 0 : 1;
  },
});

/** "environment is invalid:\n  - A: x\n  - B: y" as one line: "environment is invalid: A: x; B: y". */
function oneLine(message: string): string {
  const [head, ...rest] = message.split('\n');
  return rest.length ? `${head} ${rest.map((l) => l.replace(/^\s*-\s*/, '')).join('; ')}` : head!;
}

async function temporalChecks(config: RetrainConfig): Promise<Check[]> {
  let client;
  try {
    client = await connectClient(config);
    await client.workflowService.describeNamespace({ namespace: config.namespace });
  } catch (err) {
    const detail = (err as Error).message.split('\n')[0]!;
    return [{ what: 'Temporal', ok: false, detail }];
  }
  const checks: Check[] = [{ what: 'Temporal', ok: true, detail: describeTemporal(config) }];
  // The retrain queue is served if someone polls its workflow tasks; the training queue has
  // activity tasks only. Values of temporal.api.enums.v1.TaskQueueType.
  const WORKFLOW_TASKS = 1;
  const ACTIVITY_TASKS = 2;
  for (const [queue, role, taskQueueType] of [
    [config.taskQueue, 'retrain', WORKFLOW_TASKS],
    [config.trainingTaskQueue, 'training', ACTIVITY_TASKS],
  ] as const) {
    const { pollers } = await client.workflowService.describeTaskQueue({
      namespace: config.namespace,
      taskQueue: { name: queue },
      taskQueueType,
    });
    const n = pollers?.length ?? 0;
    checks.push({
      what: `workers on "${queue}"`,
      ok: n > 0,
      detail:
        n > 0
          ? `${n} polling (${[...new Set(pollers!.map((p) => p.identity))].join(', ')})`
          : `none polling: start \`retrain worker --queues ${role}\``,
    });
  }
  await client.connection.close();
  return checks;
}

async function storeCheck(config: RetrainConfig): Promise<Check> {
  const store = createStore(config);
  try {
    const warning = await checkStore(store);
    return warning
      ? { what: 'store', ok: false, detail: warning }
      : { what: 'store', ok: true, detail: `${storeLocation(config.store)} (readable)` };
  } catch (err) {
    return { what: 'store', ok: false, detail: (err as Error).message };
  }
}

function pythonCheck(config: RetrainConfig): Check {
  const probe = spawnSync(
    config.python,
    ['-c', 'import sys, sklearn, numpy; print(sys.version.split()[0], sklearn.__version__, numpy.__version__)'],
    { encoding: 'utf8', timeout: 60_000 },
  );
  if (probe.error || probe.status !== 0) {
    const why = probe.error?.message ?? probe.stderr.trim().split('\n').at(-1) ?? `exit ${probe.status}`;
    return { what: 'training Python', ok: false, detail: `${config.python}: ${why} (set RETRAIN_PYTHON, or run node scripts/setup.mjs)` };
  }
  const [python, sklearn, numpy] = probe.stdout.trim().split(' ');
  return { what: 'training Python', ok: true, detail: `${config.python}: Python ${python}, scikit-learn ${sklearn}, numpy ${numpy}` };
}
