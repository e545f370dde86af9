// Real TLS and mTLS handshakes with Temporal. The dev server only speaks plaintext, so
// TLS-terminating proxies (test/helpers/tls-proxy.ts) with the certificates of test/fixtures/tls/
// stand in front of it: for TLS one that forwards each gRPC call over HTTP/2 and records its
// headers (the dev server ignores API keys), for mTLS one that passes bytes through. The client
// (grpc-js on Node's TLS) and the CLI worker (the SDK's Rust core, rustls) are configured only
// through Retrain's environment variables.
import { Client, Connection } from '@temporalio/client';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { readPointer } from '../services/registry';
import { loadConfig } from '../services/config';
import { RetrainError } from '../lib/errors';
import { keys } from '../lib/keys';
import type { ChampionPointer } from '../lib/registry';
import { connectClient, rollbackModel } from '../client/client';
import { LocalStore } from '../store/local-store';
import { REPO } from './helpers/pipelines';
import { tempDir, waitFor } from './helpers/runs';
import { startHttp2TlsProxy, startTlsProxy, type Http2TlsProxy, type TlsProxy } from './helpers/tls-proxy';

const fixture = (name: string) => join(REPO, 'test/fixtures/tls', name);

// The server certificate names only DNS:temporal.test while the proxy is at 127.0.0.1, so a
// connection verifies only with RETRAIN_TEMPORAL_TLS_SERVER_NAME. Both the client and the Rust
// core check the name: without the override the core expects an IP SAN for 127.0.0.1.
const TRUST = { RETRAIN_TEMPORAL_TLS_CA: fixture('ca.pem'), RETRAIN_TEMPORAL_TLS_SERVER_NAME: 'temporal.test' };
const CLIENT_CERT = { RETRAIN_TEMPORAL_TLS_CERT: fixture('client.pem'), RETRAIN_TEMPORAL_TLS_KEY: fixture('client-key.pem') };
const UNTRUSTED_CERT = {
  RETRAIN_TEMPORAL_TLS_CERT: fixture('other-client.pem'),
  RETRAIN_TEMPORAL_TLS_KEY: fixture('other-client-key.pem'),
};

let tls: Http2TlsProxy;
let mtls: TlsProxy;
beforeAll(async () => {
  const server = {
    target: inject('temporalAddress'),
    cert: readFileSync(fixture('server.pem')),
    key: readFileSync(fixture('server-key.pem')),
  };
  tls = await startHttp2TlsProxy(server);
  mtls = await startTlsProxy({ ...server, clientCa: readFileSync(fixture('ca.pem')) });
});
afterAll(async () => {
  await tls?.close();
  await mtls?.close();
});

const clients: Client[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const client of clients.splice(0)) await client.connection.close();
});

const config = (address: string, env: Record<string, string>) =>
  loadConfig({ RETRAIN_PROJECT_DIR: REPO, RETRAIN_TEMPORAL_ADDRESS: address, ...env });

/** connectClient through a proxy, then a real call on the connection. */
async function connectAndCall(address: string, env: Record<string, string>): Promise<void> {
  const client = await connectClient(config(address, env));
  clients.push(client);
  const { namespaceInfo } = await client.workflowService.describeNamespace({ namespace: 'default' });
  expect(namespaceInfo?.name).toBe('default');
}

/** connectClient through a proxy, expected to fail with the TLS advice. */
async function connectError(address: string, env: Record<string, string>): Promise<RetrainError> {
  const err = await connectClient(config(address, env)).then(
    (client) => {
      clients.push(client);
      return new Error('expected the connection to fail');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RetrainError);
  expect((err as RetrainError).type).toBe('ServerUnreachable');
  expect((err as RetrainError).message).toMatch(/\nCheck RETRAIN_TEMPORAL_ADDRESS and the TLS settings/);
  return err as RetrainError;
}

/** Runs `fn`, then expects the proxy to have refused a handshake for `reason` meanwhile. */
async function expectRefusal(proxy: TlsProxy, reason: string, fn: () => Promise<unknown>): Promise<void> {
  const before = proxy.handshakeErrors.length; // its record spans the whole file
  await fn();
  // The proxy records a refusal when the socket closes, which may come after the peer gave up.
  await waitFor(`the proxy to refuse a handshake with ${reason}`, () =>
    proxy.handshakeErrors.slice(before).some((r) => r.includes(reason)),
  );
}

/** `retrain worker --queues retrain` as a child process, connecting through `address`. */
function spawnWorker(address: string, env: Record<string, string>) {
  const child = spawn(process.execPath, [join(REPO, 'bin/retrain.mjs'), 'worker', '--queues', 'retrain'], {
    cwd: REPO,
    env: {
      ...process.env,
      RETRAIN_PROJECT_DIR: REPO,
      RETRAIN_TEMPORAL_ADDRESS: address,
      RETRAIN_STORE: tempDir('tls-store'),
      RETRAIN_WORK_DIR: tempDir('tls-work'),
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exit = once(child, 'exit').then(([code]) => code as number | null);
  return { child, stderr: () => stderr, exit };
}

describe('TLS to Temporal (client)', () => {
  it('connects with the private CA and the server name, and makes calls', async () => {
    await connectAndCall(tls.address, TRUST);
  });

  it('fails with the TLS advice without the CA (system roots only)', async () => {
    const err = await connectError(tls.address, { RETRAIN_TEMPORAL_TLS: 'true', RETRAIN_TEMPORAL_TLS_SERVER_NAME: 'temporal.test' });
    expect(err.message).toMatch(
      /^cannot connect to Temporal at 127\.0\.0\.1:\d+ \(TLS, server name temporal\.test\), namespace default \(/,
    );
    // The cause, from a plain handshake with the same settings, not the client's "deadline".
    expect(err.message).toMatch(/\(TLS handshake: unable to (get local issuer certificate|verify the first certificate)\)/);
  });

  it('fails when the server name is not the one in the certificate', async () => {
    const err = await connectError(tls.address, { ...TRUST, RETRAIN_TEMPORAL_TLS_SERVER_NAME: 'elsewhere.test' });
    expect(err.message).toMatch(/\(TLS, CA .*ca\.pem, server name elsewhere\.test\)/);
    expect(err.message).toMatch(/\(TLS handshake: Hostname\/IP does not match certificate's altnames: Host: elsewhere\.test\./);
  });

  it('connects with an API key over TLS and sends it on every call as a bearer token', async () => {
    // The dev server ignores API keys: the proxy's record of each call's headers is the proof.
    const describeNamespace = '/temporal.api.workflowservice.v1.WorkflowService/DescribeNamespace';
    const callsOf = async (env: Record<string, string>) => {
      const before = tls.calls.length; // its record spans the whole file
      await connectAndCall(tls.address, env);
      // Closed before the next connection, so no call of this one can land in that one's share.
      await clients.pop()!.connection.close();
      return tls.calls.slice(before);
    };

    const withoutKey = await callsOf(TRUST);
    expect(withoutKey.map((c) => c.path)).toContain(describeNamespace);
    expect(withoutKey.filter((c) => c.authorization !== undefined)).toEqual([]);

    const withKey = await callsOf({ ...TRUST, RETRAIN_TEMPORAL_API_KEY: 'test-api-key' });
    expect(withKey.map((c) => c.path)).toContain(describeNamespace);
    for (const call of withKey) expect(call.authorization, call.path).toBe('Bearer test-api-key');
  });
});

describe('mTLS to Temporal (client)', () => {
  it('connects with a client certificate signed by the CA the server trusts', async () => {
    await connectAndCall(mtls.address, { ...TRUST, ...CLIENT_CERT });
  });

  it('is refused without a client certificate', async () => {
    await expectRefusal(mtls, 'peer did not return a certificate', async () => {
      const err = await connectError(mtls.address, TRUST);
      expect(err.message).toMatch(
        /\(TLS handshake: the server requires a client certificate: set RETRAIN_TEMPORAL_TLS_CERT and RETRAIN_TEMPORAL_TLS_KEY\)/,
      );
    });
  });

  it('is refused with a client certificate of another CA', async () => {
    await expectRefusal(mtls, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', async () => {
      const err = await connectError(mtls.address, { ...TRUST, ...UNTRUSTED_CERT });
      expect(err.message).toMatch(/\(mTLS with .*other-client\.pem, CA .*ca\.pem, server name temporal\.test\)/);
      // This proxy (Node) hangs up after the handshake; a server that sends a TLS alert gets
      // "the server does not trust the client certificate" instead. Either way: not "deadline".
      expect(err.message).toMatch(
        /\((TLS: the server closed the connection right after the handshake; is the client certificate one it trusts\?|TLS handshake: the server does not trust the client certificate.*)\)/,
      );
    });
  });
});

describe('mTLS to Temporal (CLI worker)', () => {
  it('runs a workflow and its activities through the mTLS proxy, and exits 0 on SIGTERM', { timeout: 180_000 }, async () => {
    const taskQueue = `retrain-tls-${randomUUID().slice(0, 8)}`;
    const storeDir = tempDir('tls-store');
    const model = 'tls-worker';
    // A champion with a previous one, so the rollback workflow has something to roll back to.
    const store = new LocalStore(storeDir);
    const seeded: ChampionPointer = { model, champion: 'v2', previous: 'v1', updatedAt: null, history: [] };
    await store.put(keys.pointer(model), JSON.stringify(seeded));

    const worker = spawnWorker(mtls.address, { RETRAIN_TASK_QUEUE: taskQueue, RETRAIN_STORE: storeDir, ...TRUST, ...CLIENT_CERT });
    await Promise.race([
      waitFor('the worker to start', () => worker.stderr().includes('retrain worker: task queues'), 90_000),
      worker.exit.then((code) => Promise.reject(new Error(`retrain worker exited (${code}) before it started:\n${worker.stderr()}`))),
    ]);
    expect(worker.stderr()).toContain(
      `on ${mtls.address} (mTLS with ${fixture('client.pem')}, CA ${fixture('ca.pem')}, server name temporal.test)`,
    );

    // The test's own client goes straight to the dev server: only the worker talks TLS.
    const client = new Client({ connection: await Connection.connect({ address: inject('temporalAddress') }) });
    clients.push(client);
    const pointer = await rollbackModel(client, { taskQueue }, { model, reason: 'mTLS worker test', requestedBy: 'temporal-tls.test' });
    expect(pointer).toMatchObject({ champion: 'v1', previous: null });
    expect((await readPointer(store, model)).pointer.champion).toBe('v1');

    worker.child.kill('SIGTERM');
    expect(await worker.exit).toBe(0);
    expect(worker.stderr()).toMatch(/retrain worker: stopped/);
  });

  it('exits 1 with the TLS advice when its client certificate is not trusted', async () => {
    await expectRefusal(mtls, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', async () => {
      const worker = spawnWorker(mtls.address, { ...TRUST, ...UNTRUSTED_CERT });
      expect(await worker.exit).toBe(1);
      expect(worker.stderr()).toMatch(/^retrain: cannot connect to Temporal at 127\.0\.0\.1:\d+ \(mTLS with .*other-client\.pem/m);
      expect(worker.stderr()).toMatch(/Check RETRAIN_TEMPORAL_ADDRESS and the TLS settings/);
    });
  });
});
