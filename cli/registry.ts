import type { Command } from './command';

/**
 * Every `retrain` command by name, in the order `retrain help` lists them. A command's module,
 * and what it imports (the Temporal client, the worker, the store), is loaded only when the
 * command runs or the command list is shown.
 */
export const COMMANDS: Readonly<Record<string, () => Promise<Command>>> = {
  demo: async () => (await import('./commands/demo')).demoCommand,
  dev: async () => (await import('./commands/dev')).devCommand,
  worker: async () => (await import('./commands/worker')).workerCommand,
  check: async () => (await import('./commands/check')).checkCommand,
  pipelines: async () => (await import('./commands/pipelines')).pipelinesCommand,
  validate: async () => (await import('./commands/validate')).validateCommand,
  run: async () => (await import('./commands/run')).runCommand,
  status: async () => (await import('./commands/status')).statusCommand,
  approve: async () => (await import('./commands/decide')).approveCommand,
  reject: async () => (await import('./commands/decide')).rejectCommand,
  cancel: async () => (await import('./commands/cancel')).cancelCommand,
  rollback: async () => (await import('./commands/rollback')).rollbackCommand,
  versions: async () => (await import('./commands/versions')).versionsCommand,
  audit: async () => (await import('./commands/audit')).auditCommand,
  drift: async () => (await import('./commands/drift')).driftCommand,
  schedules: async () => (await import('./commands/schedules')).schedulesCommand,
  'drift-report': async () => (await import('./commands/drift-report')).driftReportCommand,
  explain: async () => (await import('./commands/explain')).explainCommand,
  readiness: async () => (await import('./commands/readiness')).readinessCommand,
  serve: async () => (await import('./commands/serve')).serveCommand,
  token: async () => (await import('./commands/token')).tokenCommand,
};

/** Every command, loaded (for the command list and the tests). */
export async function loadAllCommands(): Promise<Command[]> {
  return Promise.all(Object.values(COMMANDS).map((load) => load()));
}
