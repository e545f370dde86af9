import type { TLSConfig } from '@temporalio/client';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import type { RetrainConfig, TemporalTlsConfig } from '../lib/config';
import { ErrorType, InvalidInputError, RetrainError } from '../lib/errors';

// Type-only SDK imports: the client commands use this module without loading the worker's
// native bridge, and the worker without the client's gRPC stack.

/** The part of RetrainConfig that says which Temporal server and namespace to use, and how to reach it. */
export type TemporalConnectionConfig = Pick<RetrainConfig, 'temporalAddress' | 'namespace' | 'temporalTls' | 'temporalApiKey'>;

/** What both `Connection.connect` (client) and `NativeConnection.connect` (worker) accept. */
export interface TemporalConnectionOptions {
  address: string;
  /** `true`: TLS with the system's trusted CAs and no client certificate. */
  tls?: TLSConfig | true;
  apiKey?: string;
}

/**
 * The connection options of RetrainConfig: address, TLS (server name, CA bundle, client
 * certificate read from their PEM files) and API key. A PEM file that cannot be read is bad
 * configuration: it fails here, naming the variable and the path, not later as an opaque
 * handshake error.
 */
export function temporalConnectionOptions(config: TemporalConnectionConfig): TemporalConnectionOptions {
  const options: TemporalConnectionOptions = { address: config.temporalAddress };
  if (config.temporalTls) options.tls = tlsOptions(config.temporalTls);
  if (config.temporalApiKey) options.apiKey = config.temporalApiKey;
  return options;
}

function tlsOptions(tls: TemporalTlsConfig): TLSConfig | true {
  if ((tls.certPath === undefined) !== (tls.keyPath === undefined)) {
    throw new InvalidInputError(
      'RETRAIN_TEMPORAL_TLS_CERT and RETRAIN_TEMPORAL_TLS_KEY must be set together (a client certificate needs its key)',
      { step: 'config' },
    );
  }
  const out: TLSConfig = {};
  if (tls.serverName) out.serverNameOverride = tls.serverName;
  if (tls.caPath) out.serverRootCACertificate = readPem('RETRAIN_TEMPORAL_TLS_CA', tls.caPath);
  if (tls.certPath && tls.keyPath) {
    out.clientCertPair = { crt: readPem('RETRAIN_TEMPORAL_TLS_CERT', tls.certPath), key: readPem('RETRAIN_TEMPORAL_TLS_KEY', tls.keyPath) };
  }
  return Object.keys(out).length > 0 ? out : true;
}

const READ_PROBLEMS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'is a directory, not a file',
};

function readPem(variable: string, path: string): Buffer {
  const context = { step: 'config', variable, path };
  let pem: Buffer;
  try {
    pem = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    throw new InvalidInputError(`${variable}: cannot read ${path} (${READ_PROBLEMS[code] ?? (err as Error).message})`, context);
  }
  // A DER file or the wrong file entirely would otherwise surface as a TLS handshake failure.
  if (!pem.toString('latin1').includes('-----BEGIN ')) {
    throw new InvalidInputError(`${variable}: ${path} is not a PEM file (no "-----BEGIN" line)`, context);
  }
  return pem;
}

/** The server and how we reach it, for status lines and errors: "host:7233 (TLS, API key)". */
export function describeTemporal(config: TemporalConnectionConfig): string {
  const how: string[] = [];
  if (config.temporalTls) {
    how.push(config.temporalTls.certPath ? `mTLS with ${config.temporalTls.certPath}` : 'TLS');
    if (config.temporalTls.caPath) how.push(`CA ${config.temporalTls.caPath}`);
    if (config.temporalTls.serverName) how.push(`server name ${config.temporalTls.serverName}`);
  }
  if (config.temporalApiKey) how.push('API key');
  return `${config.temporalAddress}${how.length ? ` (${how.join(', ')})` : ''}, namespace ${config.namespace}`;
}

/**
 * The error for a connection that failed: with TLS or an API key configured, the likely causes
 * are those settings, not a missing server, so the advice differs. `tlsProblem`, when known
 * (client/tls-diagnosis.ts), replaces the connection's own, vaguer reason.
 */
export function serverUnreachableError(config: TemporalConnectionConfig, err: unknown, tlsProblem?: string | null): RetrainError {
  const reason = tlsProblem ?? (err instanceof Error ? err.message : String(err));
  const secured = config.temporalTls !== false || config.temporalApiKey !== undefined;
  const message = secured
    ? `cannot connect to Temporal at ${describeTemporal(config)} (${reason}).\n` +
      'Check RETRAIN_TEMPORAL_ADDRESS and the TLS settings (RETRAIN_TEMPORAL_TLS_CERT and _KEY, RETRAIN_TEMPORAL_TLS_CA, ' +
      'RETRAIN_TEMPORAL_TLS_SERVER_NAME) or RETRAIN_TEMPORAL_API_KEY: an expired or wrong certificate, a CA that did not sign ' +
      'the server certificate, a server name that does not match it, or a revoked API key all fail here.'
    : `no Temporal server answers at ${config.temporalAddress} (${reason}).\n` +
      'Start one with `npx retrain dev` (dev server + worker), or point RETRAIN_TEMPORAL_ADDRESS at your cluster ' +
      '(one that requires TLS also needs RETRAIN_TEMPORAL_TLS=true, a client certificate or RETRAIN_TEMPORAL_API_KEY).';
  return new RetrainError(ErrorType.SERVER_UNREACHABLE, message, { retryable: true, context: { step: 'connect' }, cause: err });
}

/**
 * The error for an address where something other than a Temporal frontend answers (a web
 * server, another service): `what` says what answers, e.g. "it answers HTTP/1.1 404 Not Found".
 */
export function notTemporalError(config: TemporalConnectionConfig, what: string, err: unknown): RetrainError {
  const message =
    `something answers at ${config.temporalAddress} but it is not a Temporal frontend (${what}): check RETRAIN_TEMPORAL_ADDRESS` +
    (/expects TLS/.test(what)
      ? '.\nIf it is a Temporal server that requires TLS, set RETRAIN_TEMPORAL_TLS=true, a client certificate or RETRAIN_TEMPORAL_API_KEY.'
      : '.');
  return new RetrainError(ErrorType.SERVER_UNREACHABLE, message, { retryable: false, context: { step: 'connect' }, cause: err });
}

/**
 * What answers at a plaintext `host:port` where the gRPC client found no Temporal frontend, when
 * that can be told: an HTTP/1 server's status line, or the first line a service greets with
 * ("SSH-2.0-…"). Null when nothing accepts a connection there (no server at all), or when what
 * answers says nothing readable (it may be a gRPC server that is only slow).
 */
export async function whatAnswers(address: string, timeoutMs = 1_500): Promise<string | null> {
  const at = address.lastIndexOf(':');
  const socket = connect({ host: address.slice(0, at), port: Number(address.slice(at + 1)) });
  let received = '';
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(describeGreeting(received));
    };
    const timer = setTimeout(done, timeoutMs);
    socket.once('error', done);
    socket.once('close', done);
    socket.once('connect', () => socket.write(`GET / HTTP/1.1\r\nHost: ${address}\r\nConnection: close\r\n\r\n`));
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (received.includes('\n') || received.length > 512) done();
    });
  });
}

function describeGreeting(received: string): string | null {
  const line = received.split(/\r?\n/)[0]!.trim().slice(0, 120);
  if (/^HTTP\/\d(\.\d)? \d{3}/.test(line)) {
    // Go's TLS servers answer plaintext with this; a Temporal frontend that requires TLS is one.
    if (/HTTP request to an HTTPS server/i.test(received)) return `it expects TLS (${line})`;
    return `it answers ${line}`;
  }
  return /^[\x20-\x7e]{4,}$/.test(line) ? `it answers "${line}"` : null;
}
