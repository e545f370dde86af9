import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttp2Server } from 'node:http2';
import { createServer as createTcpServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { type RetrainConfig } from '../lib/config';
import { loadConfig } from '../services/config';
import { InvalidInputError, RetrainError } from '../lib/errors';
import { connectClient } from '../client/client';
import {
  describeTemporal,
  notTemporalError,
  serverUnreachableError,
  temporalConnectionOptions,
  whatAnswers,
} from '../client/temporal-connection';
import { plainTlsError } from '../client/tls-diagnosis';

// The options builder only reads files: PEM-shaped text is enough, no real certificate needed.
const pem = (label: string, body: string) => `-----BEGIN ${label}-----\n${Buffer.from(body).toString('base64')}\n-----END ${label}-----\n`;
const CERT = pem('CERTIFICATE', 'client certificate');
const KEY = pem('PRIVATE KEY', 'client key');
const CA = pem('CERTIFICATE', 'private CA');

const project = mkdtempSync(join(tmpdir(), 'retrain-tls-'));
afterAll(() => rmSync(project, { recursive: true, force: true }));
mkdirSync(join(project, 'certs'));
writeFileSync(join(project, 'certs', 'client.pem'), CERT);
writeFileSync(join(project, 'certs', 'client.key'), KEY);
writeFileSync(join(project, 'certs', 'ca.pem'), CA);
writeFileSync(join(project, 'certs', 'client.der'), Buffer.from([0x30, 0x82, 0x01, 0x0a, 0x02]));

const config = (env: Record<string, string>): RetrainConfig => loadConfig({ RETRAIN_PROJECT_DIR: project, ...env });

function optionsError(env: Record<string, string>): InvalidInputError {
  try {
    temporalConnectionOptions(config(env));
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidInputError);
    return err as InvalidInputError;
  }
  throw new Error('expected the connection options to be rejected');
}

describe('temporalConnectionOptions', () => {
  it('is the bare address for a plaintext server', () => {
    expect(temporalConnectionOptions(config({ RETRAIN_TEMPORAL_ADDRESS: 'temporal.internal:7233' }))).toEqual({
      address: 'temporal.internal:7233',
    });
  });

  it('turns on TLS with the system CAs for an API key', () => {
    const options = temporalConnectionOptions(
      config({ RETRAIN_TEMPORAL_ADDRESS: 'eu-west-1.aws.api.example:7233', RETRAIN_TEMPORAL_API_KEY: 'secret-key' }),
    );
    expect(options).toEqual({ address: 'eu-west-1.aws.api.example:7233', tls: true, apiKey: 'secret-key' });
  });

  it('reads the client certificate, key and CA (paths relative to the project) and sets the server name', () => {
    const options = temporalConnectionOptions(
      config({
        RETRAIN_TEMPORAL_TLS_CERT: 'certs/client.pem',
        RETRAIN_TEMPORAL_TLS_KEY: 'certs/client.key',
        RETRAIN_TEMPORAL_TLS_CA: join(project, 'certs', 'ca.pem'),
        RETRAIN_TEMPORAL_TLS_SERVER_NAME: 'frontend.temporal.internal',
      }),
    );
    expect(options.address).toBe('localhost:7233');
    expect(options.apiKey).toBeUndefined();
    expect(options.tls).toEqual({
      serverNameOverride: 'frontend.temporal.internal',
      serverRootCACertificate: Buffer.from(CA),
      clientCertPair: { crt: Buffer.from(CERT), key: Buffer.from(KEY) },
    });
  });

  it('names the variable and the path of a certificate file that does not exist', () => {
    const err = optionsError({ RETRAIN_TEMPORAL_TLS_CERT: 'certs/missing.pem', RETRAIN_TEMPORAL_TLS_KEY: 'certs/client.key' });
    expect(err.message).toBe(`RETRAIN_TEMPORAL_TLS_CERT: cannot read ${join(project, 'certs', 'missing.pem')} (no such file)`);
    expect(err.retryable).toBe(false);
    expect(err.context).toMatchObject({
      step: 'config',
      variable: 'RETRAIN_TEMPORAL_TLS_CERT',
      path: join(project, 'certs', 'missing.pem'),
    });
  });

  it('names the variable of a key or CA that cannot be read as a file', () => {
    const key = optionsError({ RETRAIN_TEMPORAL_TLS_CERT: 'certs/client.pem', RETRAIN_TEMPORAL_TLS_KEY: 'certs' });
    expect(key.message).toBe(`RETRAIN_TEMPORAL_TLS_KEY: cannot read ${join(project, 'certs')} (is a directory, not a file)`);
    const ca = optionsError({ RETRAIN_TEMPORAL_TLS_CA: 'nowhere/ca.pem' });
    expect(ca.message).toBe(`RETRAIN_TEMPORAL_TLS_CA: cannot read ${join(project, 'nowhere', 'ca.pem')} (no such file)`);
  });

  it('rejects a file that is not PEM, which would otherwise fail as an opaque handshake error', () => {
    const err = optionsError({ RETRAIN_TEMPORAL_TLS_CA: 'certs/client.der' });
    expect(err.message).toBe(`RETRAIN_TEMPORAL_TLS_CA: ${join(project, 'certs', 'client.der')} is not a PEM file (no "-----BEGIN" line)`);
  });
});

describe('connection failures', () => {
  it('say how to start a server when plaintext finds none', () => {
    const err = serverUnreachableError(config({ RETRAIN_TEMPORAL_ADDRESS: '127.0.0.1:1' }), new Error('connection refused'));
    expect(err.type).toBe('ServerUnreachable');
    expect(err.message).toMatch(/^no Temporal server answers at 127\.0\.0\.1:1 \(connection refused\)/);
    expect(err.message).toMatch(/npx retrain dev/);
  });

  it('point at the TLS settings and the API key when those are configured', () => {
    const mtls = config({
      RETRAIN_TEMPORAL_TLS_CERT: 'certs/client.pem',
      RETRAIN_TEMPORAL_TLS_KEY: 'certs/client.key',
      RETRAIN_NAMESPACE: 'prod',
    });
    expect(describeTemporal(mtls)).toBe(`localhost:7233 (mTLS with ${join(project, 'certs', 'client.pem')}), namespace prod`);
    const err = serverUnreachableError(mtls, new Error('handshake failed'));
    expect(err.message).toMatch(
      /^cannot connect to Temporal at localhost:7233 \(mTLS with .*client\.pem\), namespace prod \(handshake failed\)/,
    );
    expect(err.message).toMatch(/RETRAIN_TEMPORAL_TLS_CERT/);
    expect(err.message).not.toMatch(/npx retrain dev/);
    expect(serverUnreachableError(config({ RETRAIN_TEMPORAL_API_KEY: 'k' }), new Error('x')).message).toMatch(
      /\(TLS, API key\).*\n.*RETRAIN_TEMPORAL_API_KEY/,
    );
  });

  it('a client speaking TLS to the plaintext dev server fails with the TLS advice', async () => {
    const err = await connectClient(config({ RETRAIN_TEMPORAL_ADDRESS: inject('temporalAddress'), RETRAIN_TEMPORAL_TLS: 'true' })).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RetrainError);
    expect((err as RetrainError).type).toBe('ServerUnreachable');
    expect((err as RetrainError).message).toMatch(/^cannot connect to Temporal at 127\.0\.0\.1:\d+ \(TLS\), namespace default/);
    expect((err as RetrainError).message).toMatch(/TLS settings/);
  });

  it('a client with an unreadable certificate fails as bad configuration, before connecting', async () => {
    const err = await connectClient(
      config({ RETRAIN_TEMPORAL_TLS_CERT: 'certs/missing.pem', RETRAIN_TEMPORAL_TLS_KEY: 'certs/client.key' }),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as Error).message).toMatch(/RETRAIN_TEMPORAL_TLS_CERT: cannot read .*missing\.pem/);
  });
});

describe('plainTlsError', () => {
  const openssl = (what: string) =>
    `801C846B9A7F0000:error:0A00045C:SSL routines:ssl3_read_bytes:${what}:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1601:SSL alert number 116\n`;

  it('turns the alerts about the client certificate into what to check', () => {
    expect(plainTlsError(openssl('tlsv13 alert certificate required'))).toBe(
      'the server requires a client certificate: set RETRAIN_TEMPORAL_TLS_CERT and RETRAIN_TEMPORAL_TLS_KEY',
    );
    expect(plainTlsError(openssl('sslv3 alert bad certificate'))).toMatch(/^the server does not trust the client certificate/);
    expect(plainTlsError(openssl('tlsv1 alert unknown ca'))).toMatch(/^the server does not trust the client certificate/);
    expect(plainTlsError(openssl('sslv3 alert certificate expired'))).toBe('the server says the client certificate has expired');
  });

  it('strips OpenSSL noise from other errors and leaves plain messages alone', () => {
    expect(plainTlsError(openssl('wrong version number'))).toBe('wrong version number');
    expect(
      plainTlsError("Hostname/IP does not match certificate's altnames: Host: a.test. is not in the cert's altnames: DNS:b.test"),
    ).toMatch(/^Hostname\/IP does not match/);
  });
});

describe('an address where something other than Temporal answers', () => {
  async function listening<S extends Server>(server: S): Promise<{ server: S; address: string }> {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { server, address: `127.0.0.1:${(server.address() as AddressInfo).port}` };
  }
  const close = (server: Server) => new Promise((resolve) => server.close(resolve));

  it('an HTTP/2 server answering 404 is not taken for a Temporal frontend', async () => {
    const { server, address } = await listening(createHttp2Server((_req, res) => res.writeHead(404).end()));
    try {
      const err = await connectClient(config({ RETRAIN_TEMPORAL_ADDRESS: address })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RetrainError);
      expect((err as RetrainError).type).toBe('ServerUnreachable');
      expect((err as RetrainError).message).toBe(
        `something answers at ${address} but it is not a Temporal frontend (it answers gRPC calls with HTTP status 404): check RETRAIN_TEMPORAL_ADDRESS.`,
      );
      expect((err as RetrainError).retryable).toBe(false);
    } finally {
      await close(server);
    }
  });

  it('an HTTP/1 server is named by its status line', async () => {
    const { server, address } = await listening(createHttpServer((_req, res) => res.writeHead(404).end()));
    try {
      expect(await whatAnswers(address)).toBe('it answers HTTP/1.1 404 Not Found');
      const err = await connectClient(config({ RETRAIN_TEMPORAL_ADDRESS: address })).catch((e: unknown) => e);
      expect((err as RetrainError).type).toBe('ServerUnreachable');
      expect((err as RetrainError).message).toMatch(/^something answers at .* \(it answers HTTP\/1\.1 404 Not Found\)/);
    } finally {
      server.closeAllConnections();
      await close(server);
    }
  });

  it('a TLS server that refuses plaintext is told apart, with the TLS settings to set', async () => {
    const { server, address } = await listening(
      createTcpServer((socket) =>
        socket.once('data', () => socket.end('HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n')),
      ),
    );
    try {
      const answer = await whatAnswers(address);
      expect(answer).toBe('it expects TLS (HTTP/1.0 400 Bad Request)');
      expect(notTemporalError(config({ RETRAIN_TEMPORAL_ADDRESS: address }), answer!, null).message).toMatch(
        /\nIf it is a Temporal server that requires TLS, set RETRAIN_TEMPORAL_TLS=true/,
      );
    } finally {
      await close(server);
    }
  });

  it('nothing listening is still "no Temporal server answers"', async () => {
    const { server, address } = await listening(createTcpServer());
    await close(server);
    expect(await whatAnswers(address)).toBeNull();
    const err = await connectClient(config({ RETRAIN_TEMPORAL_ADDRESS: address })).catch((e: unknown) => e);
    expect((err as RetrainError).message).toMatch(/^no Temporal server answers at /);
  });

  it('the real dev server is a Temporal frontend', async () => {
    const client = await connectClient(config({ RETRAIN_TEMPORAL_ADDRESS: inject('temporalAddress') }));
    await client.connection.close();
  });
});
