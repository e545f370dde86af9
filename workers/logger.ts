import { DefaultLogger, type LogEntry } from '@temporalio/worker';
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

import type { LogLevel } from '../lib/config';

/**
 * The process-wide Temporal logger: one JSON object per line with time, level, message and the
 * metadata the SDK and our steps attach (workflow id, run id, activity, model, version, step,
 * outcome, durationMs). `file` sends lines to a file instead of stdout (the demo keeps the
 * terminal for people). Installed by `installRuntime` (workers/runtime.ts).
 */
export function createJsonLogger(opts: { level: LogLevel; file?: string }): DefaultLogger {
  if (opts.file) mkdirSync(dirname(opts.file), { recursive: true });
  const write = opts.file ? (line: string) => appendFileSync(opts.file!, line) : (line: string) => process.stdout.write(line);
  return new DefaultLogger(opts.level.toUpperCase() as 'INFO', (entry: LogEntry) => {
    // The task token is a long opaque blob: useless to a reader of the log.
    const { sdkComponent: _component, taskToken: _token, ...meta } = (entry.meta ?? {}) as Record<string, unknown>;
    const time = new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString();
    write(JSON.stringify({ time, level: entry.level.toLowerCase(), message: entry.message, ...meta }) + '\n');
  });
}
