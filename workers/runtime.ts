import { Runtime, type RuntimeOptions } from '@temporalio/worker';
import { lookup } from 'node:dns/promises';
import { ErrorType, InvalidInputError, RetrainError } from '../lib/errors';
import type { LogLevel } from '../lib/config';
import { createJsonLogger } from './logger';

/** 50 ms to 2 h: light steps, predictions, and trainings of any length tell apart. */
const STEP_DURATION_BUCKETS_MS = [50, 250, 1_000, 5_000, 30_000, 120_000, 600_000, 1_800_000, 7_200_000];

/** Settings of the process-wide Temporal runtime: log level and file, metrics endpoint. */
export interface RuntimeSetup {
  level: LogLevel;
  /** JSON log lines go to this file instead of stdout. */
  logFile?: string;
  /** host:port (RETRAIN_METRICS_ADDRESS) to serve Prometheus metrics on, at /metrics. */
  metricsAddress?: string;
}

/**
 * Installs the process-wide Temporal runtime: the JSON logger and, when asked, the Prometheus
 * endpoint of the SDK's worker and connection metrics. The SDK allows one runtime per process,
 * so this is the only place that installs it; call it before any connection or worker exists.
 * Resolves to the URL metrics are served at, if any.
 */
export async function installRuntime(setup: RuntimeSetup): Promise<{ metricsUrl?: string }> {
  const options: RuntimeOptions = {
    logger: createJsonLogger({ level: setup.level, file: setup.logFile }),
    telemetryOptions: { logging: { forward: {}, filter: { core: 'WARN', other: 'ERROR' } } },
  };
  if (setup.metricsAddress) {
    options.telemetryOptions!.metrics = {
      prometheus: {
        bindAddress: await socketAddress(setup.metricsAddress),
        // The default buckets end at 10 s; steps include trainings of minutes to hours.
        histogramBucketOverrides: { retrain_step_duration: STEP_DURATION_BUCKETS_MS },
      },
    };
  }
  try {
    Runtime.install(options);
  } catch (err) {
    if (!setup.metricsAddress) throw err;
    // Typically the port is taken, e.g. by a worker of the same machine that is still stopping.
    throw new RetrainError(
      ErrorType.METRICS_UNAVAILABLE,
      `cannot serve metrics on RETRAIN_METRICS_ADDRESS=${setup.metricsAddress}: ${(err as Error).message}`,
      {
        retryable: true,
        context: { step: 'config', variable: 'RETRAIN_METRICS_ADDRESS' },
        cause: err,
      },
    );
  }
  return setup.metricsAddress ? { metricsUrl: `http://${setup.metricsAddress}/metrics` } : {};
}

/** The exporter binds an IP socket address only: resolve a host name such as `localhost`. */
async function socketAddress(hostPort: string): Promise<string> {
  const at = hostPort.lastIndexOf(':');
  const host = hostPort.slice(0, at).replace(/^\[|\]$/g, '');
  const port = hostPort.slice(at + 1);
  try {
    const { address, family } = await lookup(host);
    return family === 6 ? `[${address}]:${port}` : `${address}:${port}`;
  } catch (err) {
    throw new InvalidInputError(
      `RETRAIN_METRICS_ADDRESS: cannot resolve "${host}" (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); use an IP address such as 0.0.0.0:${port}`,
      {
        step: 'config',
        variable: 'RETRAIN_METRICS_ADDRESS',
      },
    );
  }
}
