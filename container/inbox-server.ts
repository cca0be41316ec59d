/**
 * The worker's inbox and CDP router, on one port:
 *
 * - `POST /inbox/sessions/{id}`: a client's message for a session hosted here, from a
 *   `ws-*` function (signed with the deployment's secret). Answers 202 at once; results go
 *   back to the client through PostToConnection.
 * - `GET /v1/sessions/{id}/cdp?ticket=…` (WebSocket upgrade): CDP for `puppeteer.connect`.
 *   The ticket is checked; a session hosted here is bridged to its browser's DevTools
 *   socket, one hosted elsewhere is proxied to the worker that owns it (so a load balancer
 *   may send a CDP client to any worker). The router in front of the browser answers the
 *   few commands that would take its traffic off the egress proxy or reach the worker's
 *   disk with a CDP error, and points download settings at the session's own dir (see
 *   shared/egress/cdp-command-guard.ts); everything else is piped through unchanged.
 * - `GET /health`.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import { type CdpVerdict, checkCdpCommand } from '../shared/egress/cdp-command-guard.js';
import type { SessionHost } from '../shared/session/host-session.js';
import type { SessionStore } from '../shared/session/ports.js';
import type { InboxMessage } from '../shared/session/session-input.js';
import {
  INBOX_SIGNATURE_HEADER,
  INBOX_TIMESTAMP_HEADER,
  verifyInboxCall,
  verifyTicket,
} from '../shared/session/ticket.js';

/** Inbox bodies are one client message: API Gateway caps those at 128 KB. */
const MAX_INBOX_BODY = 256 * 1024;
/** CDP messages can be large (screenshots as base64). */
const MAX_CDP_MESSAGE = 256 * 1024 * 1024;

export interface InboxServerDeps {
  host: SessionHost;
  sessions: SessionStore;
  secret: string;
  /** This worker's own endpoint, to tell a session hosted here from one hosted elsewhere. */
  self: () => string;
  log: (event: string, details: Record<string, unknown>) => void;
}

export interface RunningInbox {
  port: number;
  close(): Promise<void>;
}

const INBOX_PATH = /^\/inbox\/sessions\/([\w-]{1,64})$/;
const CDP_PATH = /^\/v1\/sessions\/([\w-]{1,64})\/cdp$/;

export const startInboxServer = async (
  deps: InboxServerDeps,
  options: { port: number; host: string },
): Promise<RunningInbox> => {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CDP_MESSAGE, perMessageDeflate: false });
  const sockets = new Set<WebSocket>();

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://worker');
    if (req.method === 'GET' && url.pathname === '/health') {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ status: 'ok', sessions: deps.host.count() }));
      return;
    }
    const inbox = INBOX_PATH.exec(url.pathname);
    if (req.method !== 'POST' || inbox?.[1] === undefined) {
      req.resume();
      res.writeHead(404).end();
      return;
    }
    const sessionId = inbox[1];
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_INBOX_BODY) req.destroy();
      else chunks.push(chunk);
    });
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const signed = {
        signature: String(req.headers[INBOX_SIGNATURE_HEADER] ?? ''),
        timestamp: String(req.headers[INBOX_TIMESTAMP_HEADER] ?? ''),
      };
      if (!verifyInboxCall(deps.secret, { path: url.pathname, body }, signed, Date.now() / 1000)) {
        res.writeHead(401).end();
        return;
      }
      let parsed: { tenantId: string; message: InboxMessage };
      try {
        parsed = JSON.parse(body) as { tenantId: string; message: InboxMessage };
      } catch {
        res.writeHead(400).end();
        return;
      }
      const taken = deps.host.deliver(sessionId, parsed.tenantId, parsed.message);
      res.writeHead(taken ? 202 : 404).end();
    });
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {});
    const url = new URL(req.url ?? '/', 'http://worker');
    const match = CDP_PATH.exec(url.pathname);
    const refuse = (status: number, text: string) => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (match?.[1] === undefined) return refuse(404, 'Not Found');
    const sessionId = match[1];
    const check = verifyTicket(deps.secret, url.searchParams.get('ticket') ?? '', {
      scope: 'cdp',
      nowSeconds: Math.floor(Date.now() / 1000),
      sessionId,
    });
    if (!check.ok) {
      deps.log('cdp connect refused', { sessionId, reason: check.reason });
      return refuse(401, 'Unauthorized');
    }
    void route(sessionId, check.claims.tid, url.searchParams.get('ticket') ?? '').then(
      (target) => {
        if (target === undefined) return refuse(404, 'Not Found');
        wss.handleUpgrade(req, socket, head, (client) => bridge(client, target));
      },
      () => refuse(503, 'Service Unavailable'),
    );
  });

  /** Where a CDP client of this session goes: the local browser, or the owning worker. */
  const route = async (
    sessionId: string,
    tenantId: string,
    ticket: string,
  ): Promise<{ url: string; local: boolean; sessionId: string; downloadDir?: string } | undefined> => {
    if (deps.host.isHosted(sessionId)) {
      const browser = deps.host.cdpClient(sessionId, 1);
      if (browser === undefined) {
        deps.host.cdpClient(sessionId, -1);
        return undefined;
      }
      return { url: browser.cdpEndpoint, local: true, sessionId, downloadDir: browser.downloadDir };
    }
    const session = await deps.sessions.get(tenantId, sessionId);
    if (session?.status !== 'live' || session.endpoint === undefined || session.endpoint === deps.self()) {
      return undefined;
    }
    const forward = new URL(`${session.endpoint.replace(/^http/, 'ws')}/v1/sessions/${sessionId}/cdp`);
    forward.searchParams.set('ticket', ticket);
    return { url: forward.toString(), local: false, sessionId };
  };

  /**
   * Pipes CDP messages both ways, unchanged, except client commands the guard refuses
   * (answered here, never forwarded) or rewrites; either side closing closes the other.
   */
  const bridge = (
    client: WebSocket,
    target: { url: string; local: boolean; sessionId: string; downloadDir?: string },
  ) => {
    sockets.add(client);
    const upstream = new WebSocket(target.url, { maxPayload: MAX_CDP_MESSAGE, perMessageDeflate: false });
    sockets.add(upstream);
    const pending: { data: RawData; binary: boolean }[] = [];
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      if (target.local) deps.host.cdpClient(target.sessionId, -1);
    };
    client.on('message', (data, binary) => {
      // Chromium's DevTools socket takes text frames only (it drops the connection on a
      // binary one), and a binary frame's bytes are not what the guard below reads.
      if (binary) {
        client.close(1003, 'CDP messages are text frames');
        return;
      }
      // A bridge to another worker passes messages on as they are: that worker's router, the
      // one in front of the browser, judges them (and knows the session's downloads dir).
      const verdict: CdpVerdict = target.local
        ? checkCdpCommand(
            data.toString(),
            target.downloadDir === undefined ? {} : { downloadDir: target.downloadDir },
          )
        : { forward: true };
      if (!verdict.forward) {
        deps.log('cdp command refused', { sessionId: target.sessionId, method: verdict.method });
        client.send(verdict.reply);
        return;
      }
      const out: RawData = verdict.text === undefined ? data : Buffer.from(verdict.text);
      if (upstream.readyState === WebSocket.OPEN) upstream.send(out, { binary });
      else pending.push({ data: out, binary });
    });
    upstream.on('open', () => {
      for (const m of pending.splice(0)) upstream.send(m.data, { binary: m.binary });
    });
    upstream.on('message', (data, binary) => {
      if (client.readyState === WebSocket.OPEN) client.send(data, { binary });
    });
    const closeBoth = () => {
      release();
      sockets.delete(client);
      sockets.delete(upstream);
      if (client.readyState === WebSocket.OPEN) client.close(1000, 'session browser gone');
      if (upstream.readyState === WebSocket.OPEN || upstream.readyState === WebSocket.CONNECTING)
        upstream.terminate();
    };
    client.on('close', closeBoth);
    upstream.on('close', closeBoth);
    client.on('error', closeBoth);
    upstream.on('error', closeBoth);
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
