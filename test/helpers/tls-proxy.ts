// A TLS-terminating TCP proxy in front of the plaintext Temporal dev server (which cannot serve
// TLS itself), so tests can make real TLS and mTLS handshakes with the SDK's clients and workers.
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { createServer, type TLSSocket } from 'node:tls';

export interface TlsProxy {
  /** 127.0.0.1:port */
  address: string;
  /** Why handshakes failed on the proxy's side (e.g. a missing or untrusted client certificate). */
  handshakeErrors: string[];
  close(): Promise<void>;
}

export interface TlsProxyOptions {
  /** host:port of the plaintext server. */
  target: string;
  cert: Buffer;
  key: Buffer;
  /** Require a client certificate signed by this CA (mTLS). */
  clientCa?: Buffer;
}

export async function startTlsProxy(opts: TlsProxyOptions): Promise<TlsProxy> {
  const at = opts.target.lastIndexOf(':');
  const [host, port] = [opts.target.slice(0, at), Number(opts.target.slice(at + 1))];
  const sockets = new Set<Socket>();
  const handshakeErrors: string[] = [];
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };

  const server = createServer(
    {
      cert: opts.cert,
      key: opts.key,
      // gRPC runs over HTTP/2, and TLS clients only speak it when ALPN agrees on h2.
      ALPNProtocols: ['h2'],
      ...(opts.clientCa ? { requestCert: true, rejectUnauthorized: true, ca: opts.clientCa } : {}),
    },
    (client: TLSSocket) => {
      const upstream = connect(port, host);
      track(client);
      track(upstream);
      // Either side closing or failing ends both: the SDK reconnects when it needs to.
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
      client.pipe(upstream).pipe(client);
    },
  );
  server.on('connection', track);
  // Node rejects an untrusted client certificate after the handshake by closing the socket, so
  // `err` is only "socket hang up": the reason is the socket's authorizationError.
  server.on('tlsClientError', (err, socket) => handshakeErrors.push(socket.authorizationError ? String(socket.authorizationError) : err.message));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port: proxyPort } = server.address() as { port: number };

  return {
    address: `127.0.0.1:${proxyPort}`,
    handshakeErrors,
    async close() {
      const closed = once(server, 'close');
      server.close();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
