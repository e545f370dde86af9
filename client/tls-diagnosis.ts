import { isIP } from 'node:net';
import { connect } from 'node:tls';
import type { TemporalConnectionOptions } from './temporal-connection';

/**
 * Why a TLS connection to the Temporal frontend fails, in the words of a plain TLS handshake
 * with the same CA, client certificate and server name. The gRPC client only says "Failed to
 * connect before the deadline"; this names the cause ("Hostname/IP does not match certificate's
 * altnames…", "unable to get local issuer certificate", a refused client certificate).
 * Null when the handshake works (then TLS is not the problem) or no TLS is configured.
 */
export async function diagnoseTls(options: TemporalConnectionOptions, timeoutMs = 3_000): Promise<string | null> {
  if (!options.tls) return null;
  const tls = options.tls === true ? {} : options.tls;
  const at = options.address.lastIndexOf(':');
  const host = options.address.slice(0, at);
  const port = Number(options.address.slice(at + 1));
  const servername = tls.serverNameOverride ?? (isIP(host) ? undefined : host);
  return new Promise((resolve) => {
    const socket = connect({
      host,
      port,
      servername,
      ALPNProtocols: ['h2'],
      ...(tls.serverRootCACertificate ? { ca: Buffer.from(tls.serverRootCACertificate) } : {}),
      ...(tls.clientCertPair ? { cert: Buffer.from(tls.clientCertPair.crt), key: Buffer.from(tls.clientCertPair.key) } : {}),
    });
    const done = (reason: string | null) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(reason);
    };
    const timer = setTimeout(() => done(`no TLS handshake within ${timeoutMs / 1000} s`), timeoutMs);
    socket.once('error', (err) => done(`TLS handshake: ${plainTlsError(err.message)}`));
    socket.once('secureConnect', () => {
      // With TLS 1.3 the server checks a client certificate after the handshake: a refusal
      // arrives as an alert right after, so wait a moment for it before calling TLS fine.
      const settle = setTimeout(() => done(null), 300);
      socket.once('error', (err) => {
        clearTimeout(settle);
        done(`TLS: the server refused the connection after the handshake (${plainTlsError(err.message)})`);
      });
      socket.once('close', () => {
        clearTimeout(settle);
        done('TLS: the server closed the connection right after the handshake; is the client certificate one it trusts?');
      });
    });
  });
}

/** TLS alerts a server sends about the client's certificate, in words a person can act on. */
const CLIENT_CERT_ALERTS: [RegExp, string][] = [
  [/alert certificate required/, 'the server requires a client certificate: set RETRAIN_TEMPORAL_TLS_CERT and RETRAIN_TEMPORAL_TLS_KEY'],
  [
    /alert (unknown ca|bad certificate|certificate unknown|decrypt error)/,
    'the server does not trust the client certificate: is RETRAIN_TEMPORAL_TLS_CERT signed by the CA it expects?',
  ],
  [/alert certificate expired/, 'the server says the client certificate has expired'],
  [/alert certificate revoked/, 'the server says the client certificate was revoked'],
];

/** An OpenSSL error line ("…:SSL routines:…:tlsv13 alert certificate required:…") made readable. */
export function plainTlsError(message: string): string {
  for (const [pattern, words] of CLIENT_CERT_ALERTS) if (pattern.test(message)) return words;
  // Drop OpenSSL's "<hex>:error:<code>:SSL routines:<function>:" prefix and its source location.
  return message
    .replace(/^[0-9A-F]+:error:[0-9A-F]+:[^:]+:[^:]+:/, '')
    .replace(/:\.\.\/deps\/.*$/s, '')
    .trim();
}
