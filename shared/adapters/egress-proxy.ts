/**
 * The egress guard in the browser's path: a small HTTP proxy that a task's browser context
 * sends all its traffic through (page, redirects, sub-resources, iframes, fetch/XHR,
 * WebSockets). Each destination is checked with the egress policy, and an allowed one is
 * reached at exactly the address that was checked — no second DNS lookup, so DNS rebinding
 * has nothing to rebind. One proxy per task, on an ephemeral loopback port, so the blocked
 * requests it records are that task's.
 */
import { Agent, createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { type AllowEntry, checkDestination, type DnsResolver } from '../egress/egress-policy.js';
import { BrowserfleetError, ERROR_CODES } from '../errors.js';

export interface BlockedRequest {
  url: string;
  reason: string;
}

/** An upstream answer the proxy could not parse as HTTP (Node's `HPE_…` parser codes). */
export interface MalformedAnswer {
  url: string;
  /** Node's parser code, e.g. `HPE_INVALID_CHUNK_SIZE`. */
  code: string;
}

export interface EgressProxy {
  /** `http://127.0.0.1:<port>`, for Chromium's `proxyServer`. */
  url: string;
  /** The newest refused requests (at most 200). */
  blocked(): BlockedRequest[];
  /** How many requests it has refused in all (a long-lived session's proxy keeps counting). */
  blockedTotal(): number;
  /** The newest answers that weren't HTTP (at most 200): a browser would have refused them. */
  malformed(): MalformedAnswer[];
  close(): Promise<BlockedRequest[]>;
}

/** How long connecting to an upstream may take. */
const CONNECT_TIMEOUT_MS = 10_000;
/** Blocked requests remembered per task (a hostile page could make millions). */
const MAX_RECORDED = 200;

const HOP_BY_HOP = new Set(['proxy-connection', 'proxy-authorization', 'connection', 'keep-alive']);
/** Methods whose request, sent without a body, may be sent twice (RFC 9110 §9.2.2). */
const REPLAYABLE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export const startEgressProxy = async (options: {
  allow: AllowEntry[];
  resolve: DnsResolver;
  onBlocked?: (blocked: BlockedRequest) => void;
  /** How long connecting to an upstream may take (10 s). */
  connectTimeoutMs?: number;
}): Promise<EgressProxy> => {
  const connectTimeoutMs = options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS;
  const blocked: BlockedRequest[] = [];
  const malformed: MalformedAnswer[] = [];
  let total = 0;
  const sockets = new Set<Duplex>();
  // The proxy's own pool of upstream connections. Node's global agent would share keep-alive
  // sockets across every task's proxy, and one proxy's close() would destroy sockets another
  // task's proxy was using at that moment.
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const track = (socket: Duplex) => {
    // A pooled socket comes back for every request it carries: its listeners are added once.
    if (sockets.has(socket)) return;
    sockets.add(socket);
    // A page's connection reset ends that request only; unheard, it would crash the process.
    socket.on('error', () => {});
    socket.once('close', () => sockets.delete(socket));
  };
  const record = (url: string, reason: string) => {
    const entry = { url, reason };
    total++;
    // The newest are kept: what a navigation just now ran into is what its caller looks for.
    if (blocked.length >= MAX_RECORDED) blocked.shift();
    blocked.push(entry);
    options.onBlocked?.(entry);
  };
  const check = (target: string) =>
    checkDestination(target, { allow: options.allow, resolve: options.resolve });

  const openUpstream = (address: string, port: number): Promise<Socket> =>
    new Promise((resolve, reject) => {
      const upstream = connect({ host: address, port, timeout: connectTimeoutMs });
      track(upstream);
      upstream.once('connect', () => {
        upstream.setTimeout(0);
        resolve(upstream);
      });
      upstream.once('timeout', () => {
        upstream.destroy();
        reject(new Error('upstream connect timeout'));
      });
      upstream.once('error', reject);
    });

  const server = createServer(async (req, res) => {
    const target = req.url ?? '';
    const verdict = await check(target);
    if (!verdict.allowed) {
      record(target, verdict.reason);
      res
        .writeHead(403, { 'content-type': 'text/plain' })
        .end(`Blocked by the egress guard: ${verdict.message}\n`);
      return;
    }
    const url = new URL(target);
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !HOP_BY_HOP.has(k)));
    // A request without a body can be sent again as it was: what a browser does itself when a
    // reused keep-alive connection fails before any byte of the answer came back (the server
    // closed it while it sat idle in the pool). Without this the proxy would be less
    // forgiving than no proxy, and a healthy page would fail ERR_EMPTY_RESPONSE.
    const replayable =
      REPLAYABLE_METHODS.has(req.method ?? 'GET') &&
      req.headers['transfer-encoding'] === undefined &&
      Number(req.headers['content-length'] ?? 0) === 0;
    const forward = (attempt: number) => {
      const upstream = httpRequest({
        host: verdict.addresses[0],
        port: verdict.port,
        method: req.method,
        path: `${url.pathname}${url.search}`,
        headers,
        setHost: false,
        agent,
      });
      let answered = false;
      // Only connecting is bounded here: a server may take its time to answer (the task's
      // deadline, which closes this proxy and so every socket it tracks, bounds that), but
      // not to accept the connection. The browser giving up on the request ends it upstream.
      const onBrowserGone = () => {
        if (!res.writableFinished) upstream.destroy();
      };
      res.once('close', onBrowserGone);
      upstream.on('socket', (socket) => {
        track(socket);
        if (!socket.connecting) return;
        socket.setTimeout(connectTimeoutMs, () => upstream.destroy(new Error('upstream connect timeout')));
        socket.once('connect', () => socket.setTimeout(0));
      });
      upstream.on('response', (response) => {
        answered = true;
        const answerHeaders = Object.fromEntries(
          Object.entries(response.headers).filter(([k]) => !HOP_BY_HOP.has(k)),
        );
        res.writeHead(response.statusCode ?? 502, answerHeaders);
        response.pipe(res);
        // An answer cut off mid-body ends the browser's connection too, so it sees a
        // truncated response rather than waiting for bytes that never come.
        response.once('aborted', () => res.destroy());
      });
      upstream.on('error', (error: NodeJS.ErrnoException) => {
        res.off('close', onBrowserGone);
        // The site's answer broke HTTP itself: the browser only sees a dropped connection
        // here, so the proxy says what it was (the runner fails the task on it, not retried).
        if (typeof error.code === 'string' && error.code.startsWith('HPE_')) {
          if (malformed.length >= MAX_RECORDED) malformed.shift();
          malformed.push({ url: target, code: error.code });
        }
        if (!answered && upstream.reusedSocket && replayable && attempt === 0 && !res.destroyed) {
          forward(1);
          return;
        }
        // An unreachable upstream closes the connection, so the browser sees a network error
        // (as without a proxy), not a page with a 502 status.
        res.socket?.destroy();
      });
      if (attempt === 0) req.pipe(upstream);
      else upstream.end();
    };
    forward(0);
  });

  // HTTPS and WebSockets (ws:// and wss://) arrive as CONNECT tunnels.
  server.on('connect', async (req: IncomingMessage, client: Duplex, head: Buffer) => {
    track(client);
    const target = req.url ?? '';
    const verdict = await check(`http://${target}`);
    if (!verdict.allowed) {
      record(target, verdict.reason);
      client.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    try {
      const upstream = await openUpstream(verdict.addresses[0] as string, verdict.port);
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    } catch {
      client.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n');
    }
  });

  // A plain-HTTP WebSocket upgrade sent to the proxy as an absolute-form request.
  server.on('upgrade', async (req: IncomingMessage, client: Duplex, head: Buffer) => {
    track(client);
    const target = (req.url ?? '').replace(/^ws/, 'http');
    const verdict = await check(target);
    if (!verdict.allowed) {
      record(req.url ?? '', verdict.reason);
      client.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    try {
      const url = new URL(target);
      const upstream = await openUpstream(verdict.addresses[0] as string, verdict.port);
      const lines = [`${req.method} ${url.pathname}${url.search} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        const name = req.rawHeaders[i] as string;
        if (!HOP_BY_HOP.has(name.toLowerCase()) || name.toLowerCase() === 'connection') {
          lines.push(`${name}: ${req.rawHeaders[i + 1]}`);
        }
      }
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    } catch {
      client.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n');
    }
  });
  server.on('connection', track);
  server.on('clientError', (_error, socket) => socket.destroy());

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  let closing: Promise<BlockedRequest[]> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    blocked: () => [...blocked],
    blockedTotal: () => total,
    malformed: () => [...malformed],
    close: () => {
      closing ??= new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        agent.destroy();
        server.close(() => resolve([...blocked]));
      });
      return closing;
    },
  };
};

/**
 * A page navigation (or a redirect on its way) the guard refused: the task or command fails
 * with DESTINATION_BLOCKED, not as a network error to retry.
 */
export const blockedNavigationError = (refused: BlockedRequest): BrowserfleetError =>
  new BrowserfleetError(
    ERROR_CODES.DESTINATION_BLOCKED,
    `Navigation to ${refused.url} was blocked by the egress guard (${refused.reason} address).`,
  );

/**
 * The guard's refusal behind a page navigation that failed, if there is one. An https page,
 * or a redirect to one, whose CONNECT tunnel the guard refused fails the navigation itself
 * with ERR_TUNNEL_CONNECTION_FAILED; its refusal is the newest of `recent`. A host that
 * didn't resolve is not a refusal to report: that stays a network error, and is retried.
 */
export const refusalBehindNavigationError = (
  error: unknown,
  recent: readonly BlockedRequest[],
): BlockedRequest | undefined => {
  const message = error instanceof Error ? error.message : String(error);
  if (!message.includes('ERR_TUNNEL_CONNECTION_FAILED')) return undefined;
  return [...recent].reverse().find((b) => b.reason !== 'unresolvable');
};
