import { ErrorType, RetrainError } from '../lib/errors';

/** Subcommands: each module exports `run(argv)` and a one-line `usage`. */
const COMMANDS = {
  demo: () => import('./commands/demo'),
  dev: () => import('./commands/dev'),
  worker: () => import('./commands/worker'),
  check: () => import('./commands/check'),
  pipelines: () => import('./commands/pipelines'),
  run: () => import('./commands/run'),
  status: () => import('./commands/status'),
  approve: () => import('./commands/decide'),
  reject: () => import('./commands/decide'),
  rollback: () => import('./commands/rollback'),
  versions: () => import('./commands/versions'),
  audit: () => import('./commands/audit'),
  drift: () => import('./commands/drift'),
  schedules: () => import('./commands/schedules'),
  'drift-report': () => import('./commands/drift-report'),
  explain: () => import('./commands/explain'),
} as const;

const HELP = `retrain: ML model retraining pipelines as code, on Temporal

Usage: retrain <command> [arguments]

  demo [pipeline...]                         start a local dev server + worker and run the example pipelines
  dev                                        keep a local dev server (persisted) and a worker running
  worker [--queues retrain,training] [--concurrency N]
                                             run a worker against RETRAIN_TEMPORAL_ADDRESS (SIGTERM: graceful stop)
  check [--json]                             check configuration, Temporal, workers on both queues, store and Python
  pipelines [--json]                         list and validate the pipelines in pipelines/
  run <pipeline> [--wait] [--by WHO] [--reason TEXT] [--json]
                                             start (or join) the retraining run of a pipeline
  status <pipeline> [--json]                 where the latest run stands
  approve <pipeline> --by WHO [--reason TEXT] [--version V]
  reject  <pipeline> --by WHO [--reason TEXT] [--version V]
                                             decide on a candidate waiting for approval
  rollback <pipeline> --reason TEXT [--to VERSION] [--by WHO] [--json]
                                             restore the previous champion (or a named version)
  versions <pipeline> [--json]               registered versions, champion and history
  audit <pipeline> [--json] [--limit N]      the audit log of a model
  drift <pipeline> [--json]                  run a drift check of the champion now (report, alert, retrain)
  schedules apply [--prune] | list | pause <pipeline> | unpause <pipeline> | trigger <pipeline> | delete <pipeline>
                                             drift-check schedules (Temporal Schedules) from pipelines/
  drift-report --reference A.csv --current B.csv [--json] [--html F]  drift between two data files (no server)
  explain <predictionId> [--model NAME] [--at YYYY-MM-DD[THH]] [--json]
                                             why a prediction was made: version, lineage, gate, approval (scans the prediction log)

Configuration (environment; the README lists every variable):
  Temporal   RETRAIN_TEMPORAL_ADDRESS (localhost:7233), RETRAIN_NAMESPACE (default), RETRAIN_TEMPORAL_API_KEY,
             RETRAIN_TEMPORAL_TLS, RETRAIN_TEMPORAL_TLS_CERT/_KEY/_CA/_SERVER_NAME
  store      RETRAIN_STORE (.retrain/store or s3://bucket/prefix), RETRAIN_S3_ENDPOINT, RETRAIN_S3_REGION,
             RETRAIN_S3_FORCE_PATH_STYLE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (or any AWS credential source)
  workers    RETRAIN_TASK_QUEUE, RETRAIN_TRAINING_TASK_QUEUE, RETRAIN_MAX_CONCURRENT_TRAININGS (2),
             RETRAIN_SHUTDOWN_GRACE_SECONDS (30), RETRAIN_METRICS_ADDRESS, RETRAIN_PYTHON, RETRAIN_WORK_DIR
  alerts     RETRAIN_ALERT_WEBHOOK
`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(HELP);
    return 0;
  }
  const load = COMMANDS[name as keyof typeof COMMANDS];
  if (!load) {
    process.stderr.write(`retrain: unknown command "${name}". Commands: ${Object.keys(COMMANDS).join(', ')}. See \`retrain help\`.\n`);
    return 2;
  }
  const command = await load();
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`Usage: retrain ${command.usage(name)}\n`);
    return 0;
  }
  return command.run(rest, name);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof RetrainError) {
      process.stderr.write(`retrain: ${err.message}\n`);
      process.exit(err.type === ErrorType.INVALID_INPUT ? 2 : 1);
    }
    process.stderr.write(`retrain: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
