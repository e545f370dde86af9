import { NoWorkerPollingError } from '../client/pollers';
import { ErrorType, RetrainError } from '../lib/errors';
import type { Command } from './command';
import { COMMANDS, loadAllCommands } from './registry';

const INTRO = `retrain: ML model retraining pipelines as code, on Temporal

Usage: retrain <command> [arguments]      retrain <command> --help: its arguments, flags, defaults and examples
`;

const CONFIGURATION = `Configuration (environment; the README lists every variable):
  Temporal   RETRAIN_TEMPORAL_ADDRESS (localhost:7233), RETRAIN_NAMESPACE (default), RETRAIN_TEMPORAL_API_KEY,
             RETRAIN_TEMPORAL_TLS, RETRAIN_TEMPORAL_TLS_CERT/_KEY/_CA/_SERVER_NAME
  store      RETRAIN_STORE (.retrain/store or s3://bucket/prefix), RETRAIN_S3_ENDPOINT, RETRAIN_S3_REGION,
             RETRAIN_S3_FORCE_PATH_STYLE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (or any AWS credential source)
  workers    RETRAIN_TASK_QUEUE, RETRAIN_TRAINING_TASK_QUEUE, RETRAIN_MAX_CONCURRENT_TRAININGS (2),
             RETRAIN_SHUTDOWN_GRACE_SECONDS (30), RETRAIN_METRICS_ADDRESS, RETRAIN_PYTHON, RETRAIN_WORK_DIR
  alerts     RETRAIN_ALERT_WEBHOOK, RETRAIN_WEBHOOK_SECRET (signs them)
  HTTP API   RETRAIN_API_ADDRESS (127.0.0.1:8080), RETRAIN_API_TOKENS_FILE (.retrain/api-tokens.json), RETRAIN_API_URL (for check)
`;

/** Where the summaries start in the command list; a longer usage puts its summary on the next line. */
const SUMMARY_COLUMN = 45;

/** `retrain help`: every command's usage and summary, from the commands' own declarations, then the configuration. */
async function overview(): Promise<string> {
  const lines = (await loadAllCommands()).map((c) => {
    const usage = `  ${c.usage()}`;
    return usage.length + 2 <= SUMMARY_COLUMN
      ? usage.padEnd(SUMMARY_COLUMN) + c.summary
      : `${usage}\n${' '.repeat(SUMMARY_COLUMN)}${c.summary}`;
  });
  return `${INTRO}\n${lines.join('\n')}\n\n${CONFIGURATION}`;
}

async function findCommand(name: string): Promise<Command | null> {
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (load) return load();
  process.stderr.write(`retrain: unknown command "${name}". Commands: ${Object.keys(COMMANDS).join(', ')}. See \`retrain help\`.\n`);
  return null;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    // `retrain help approve` is `retrain approve --help`.
    const topic = name === 'help' ? rest[0] : undefined;
    if (!topic) {
      process.stdout.write(await overview());
      return 0;
    }
    const command = await findCommand(topic);
    return command ? command.main(['--help']) : 2;
  }
  const command = await findCommand(name);
  return command ? command.main(rest) : 2;
}

/** `--json` before any `--`: a failure is then also a JSON object on stdout, for the script reading it. */
function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--json');
}

/** Calls `seen` with each chunk written to the stream, which still writes it. */
function tap(stream: NodeJS.WriteStream, seen: (text: string) => void): void {
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  stream.write = ((...args: unknown[]) => {
    const chunk = args[0];
    seen(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString());
    return write(...args);
  }) as typeof stream.write;
}

const argv = process.argv.slice(2);
const json = wantsJson(argv);
let wroteStdout = false;
let stderrText = '';
if (json) {
  tap(process.stdout, () => (wroteStdout = true));
  tap(process.stderr, (text) => (stderrText += text));
}

/** With --json, `{ "error": { "type", "message" } }` on stdout, unless the command already printed its JSON. */
function jsonError(type: string, message: string): void {
  if (json && !wroteStdout) process.stdout.write(JSON.stringify({ error: { type, message } }, null, 2) + '\n');
}

/** With a `retrain dev` running for this project, what to check instead of starting one. */
async function runningDevHint(): Promise<string | null> {
  try {
    const [{ loadConfig }, devServer] = await Promise.all([import('../services/config'), import('./dev-server')]);
    return devServer.runningDevHint(loadConfig().projectDir);
  } catch {
    return null;
  }
}

main(argv).then(
  (code) => {
    // A command that failed on its own terms said why on stderr: that is the message.
    if (code !== 0) {
      const message = stderrText.replace(/^retrain: /gm, '').trim() || `exit code ${code}`;
      jsonError(code === 2 ? ErrorType.INVALID_INPUT : 'CommandFailed', message);
    }
    process.exit(code);
  },
  async (err: unknown) => {
    if (err instanceof RetrainError || err instanceof NoWorkerPollingError) {
      const hint = err instanceof NoWorkerPollingError ? await runningDevHint() : null;
      const message = hint ? `${err.message}. ${hint}` : err.message;
      process.stderr.write(`retrain: ${message}\n`);
      const type = err instanceof RetrainError ? err.type : err.name;
      jsonError(type, message);
      process.exit(type === ErrorType.INVALID_INPUT ? 2 : 1);
    }
    process.stderr.write(`retrain: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    jsonError(err instanceof Error ? err.name : 'Error', err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
