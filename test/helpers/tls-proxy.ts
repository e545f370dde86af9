// TLS-terminating proxies in front of the plaintext Temporal dev server (which cannot serve TLS
// itself), so tests can make real TLS and mTLS handshakes with the SDK's clients and workers.
// The TCP one passes bytes through untouched; the HTTP/2 one forwards each gRPC call, so it can
// record what the calls carried (the dev server ignores API keys, so only a proxy can tell).
import { once } from 'node:events';
import {
  connect as connectHttp2,
  constants,
  createSecureServer,
  type ClientHttp2Session,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import { connect, type Socket } from 'node:net';
import { createServer, type Server, type TLSSocket } from 'node:tls';

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

/** A gRPC call the HTTP/2 proxy forwarded. */
export interface ProxiedCall {
  /** /package.Service/Method */
  path: string;
  /** The `authorization` header, if the call had one. */
  authorization?: string;
}

export interface Http2TlsProxy extends TlsProxy {
  /** Every call, in the order the calls arrived; the record spans the proxy's life. */
  calls: ProxiedCall[];
}

const tlsOptions = (opts: TlsProxyOptions) => ({
  cert: opts.cert,
  key: opts.key,
  // gRPC runs over HTTP/2, and TLS clients only speak it when ALPN agrees on h2.
  ALPNProtocols: ['h2'],
  ...(opts.clientCa ? { requestCert: true, rejectUnauthorized: true, ca: opts.clientCa } : {}),
});

/** Byte-for-byte: whatever the client and the server say to each other, TLS aside. */
export async function startTlsProxy(opts: TlsProxyOptions): Promise<TlsProxy> {
  const at = opts.target.lastIndexOf(':');
  const [host, port] = [opts.target.slice(0, at), Number(opts.target.slice(at + 1))];
  const server = createServer(tlsOptions(opts), (client: TLSSocket) => {
    const upstream = connect(port, host);
    // Either side closing or failing ends both: the SDK reconnects when it needs to.
    client.on('error', () => upstream.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.pipe(upstream).pipe(client);
  });
  return listen(server);
}

/**
 * Forwards each HTTP/2 stream (one gRPC call) to the plaintext server: headers, both bodies and
 * the response's trailers, where gRPC puts a call's status. Each client connection gets its own
 * connection to the server, closed with it.
 */
export async function startHttp2TlsProxy(opts: TlsProxyOptions): Promise<Http2TlsProxy> {
  const calls: ProxiedCall[] = [];
  const server = createSecureServer({ ...tlsOptions(opts), allowHTTP1: false });
  server.on('session', (session: ServerHttp2Session) => {
    const upstream = connectHttp2(`http://${opts.target}`);
    // Either session ending or failing ends both, as the TCP proxy does with its sockets.
    upstream.on('error', () => session.destroy());
    upstream.on('close', () => session.destroy());
    session.on('error', () => upstream.destroy());
    session.on('close', () => upstream.destroy());
    session.on('stream', (stream, headers) => {
      const authorization = headers.authorization;
      calls.push({ path: String(headers[':path']), ...(authorization === undefined ? {} : { authorization: String(authorization) }) });
      forward(stream, headers, upstream);
    });
  });
  return { ...(await listen(server)), calls };
}

function forward(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, upstream: ClientHttp2Session): void {
  // :authority and :scheme are the upstream connection's own.
  const request = upstream.request({ ':method': headers[':method'], ':path': headers[':path'], ...withoutPseudo(headers) });
  // A cancelled call (the client resets its stream, e.g. a long poll it gave up) is cancelled
  // upstream too; a reset from upstream reaches the client. Errors end in 'close' either way.
  stream.on('error', () => undefined);
  request.on('error', () => undefined);
  stream.on('close', () => {
    if (!request.closed) request.close(stream.rstCode ?? constants.NGHTTP2_CANCEL);
  });
  request.on('close', () => {
    // A normal end (code 0) leaves the client stream to finish sending what is still buffered.
    if (!stream.closed && request.rstCode !== undefined && request.rstCode !== constants.NGHTTP2_NO_ERROR) stream.close(request.rstCode);
  });
  stream.pipe(request);

  let trailers: OutgoingHttpHeaders = {};
  request.on('trailers', (received: IncomingHttpHeaders) => (trailers = withoutPseudo(received)));
  request.on('response', (response: IncomingHttpHeaders, flags: number) => {
    if (stream.closed) return;
    const out = { ':status': response[':status'], ...withoutPseudo(response) };
    if (flags & constants.NGHTTP2_FLAG_END_STREAM) {
      // "Trailers-only": a failed call's status comes in the one and only header block.
      stream.respond(out, { endStream: true });
      return;
    }
    stream.respond(out, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers(trailers));
    request.pipe(stream);
  });
}

function withoutPseudo(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !name.startsWith(':')));
}

/** Listens on a free local port, recording refused handshakes; `close` ends every connection. */
async function listen(server: Server): Promise<TlsProxy> {
  const sockets = new Set<Socket>();
  const handshakeErrors: string[] = [];
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  // Node rejects an untrusted client certificate after the handshake by closing the socket, so
  // `err` is only "socket hang up": the reason is the socket's authorizationError.
  server.on('tlsClientError', (err, socket) =>
    handshakeErrors.push(socket.authorizationError ? String(socket.authorizationError) : err.message),
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    address: `127.0.0.1:${port}`,
    handshakeErrors,
    async close() {
      const closed = once(server, 'close');
      server.close();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
