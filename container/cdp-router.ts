/**
 * The worker's CDP router: `GET /v1/sessions/{id}/cdp?ticket=…` (WebSocket upgrade), CDP for
 * `puppeteer.connect`. The ticket is checked; a session hosted here is bridged to its
 * browser's DevTools socket, one hosted elsewhere is proxied to the worker that owns it (so
 * a load balancer may send a CDP client to any worker). The router in front of the browser
 * answers the few commands that would take its traffic off the egress proxy or reach the
 * worker's disk with a CDP error, and points download settings at the session's own dir
 * (see shared/egress/cdp-command-guard.ts); everything else is piped through unchanged,
 * within a size limit per message and direction and with backpressure (`CdpRouterLimits`).
 *
 * It owns no server: container/inbox-server.ts hands it the upgrades on its port.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import { type CdpVerdict, checkCdpCommand } from '../shared/egress/cdp-command-guard.js';
import { MAX_CDP_MESSAGE_BYTES } from '../shared/output-caps.js';
import type { SessionHost } from '../shared/session/host-session.js';
import type { SessionStore } from '../shared/session/ports.js';
import { type TicketKeys, verifyTicketWithKeys } from '../shared/session/ticket-keys.js';
import { relay, tooBig } from './ws-relay.js';

/**
 * What the CDP router lets through, per direction. A router holds messages in the worker's
 * memory on their way, so every bound is a share of it (the sessions on one worker share).
 */
export interface CdpRouterLimits {
  /**
   * One client message (a command). Commands are small; the big ones carry a page
   * (`Page.setDocumentContent`) or a mocked body (`Fetch.fulfillRequest`, base64): 8 MB
   * holds a 6 MB one. Past it the client is closed with 1009.
   */
  clientMessageBytes: number;
  /**
   * One browser message (an answer or event). The largest are screenshots as base64
   * (measured: a 3840×2160 PNG of an article 0.2 MB, of pure noise 32 MB; screencast
   * frames are scaled JPEGs, far smaller); the same limit as Chromium's pipe to the worker
   * (MAX_CDP_MESSAGE_BYTES). Past it the client is closed with 1009.
   */
  browserMessageBytes: number;
  /**
   * Bytes queued towards one side, past which the other side is no longer read until the
   * queue has drained below half of this: a client that reads slowly (or not at all) holds
   * the browser back instead of the worker's memory filling with its screencast.
   */
  highWatermarkBytes: number;
}

export const DEFAULT_CDP_ROUTER_LIMITS: CdpRouterLimits = {
  clientMessageBytes: 8 * 1024 * 1024,
  browserMessageBytes: MAX_CDP_MESSAGE_BYTES,
  highWatermarkBytes: 16 * 1024 * 1024,
};

/** What the CDP router needs: the sessions hosted here, the store to find the others in. */
export interface CdpRouterDeps {
  host: SessionHost;
  sessions: SessionStore;
  /** The keys CDP tickets are verified with (read at run time, cached). */
  keys: TicketKeys;
  /** This worker's own endpoint, to tell a session hosted here from one hosted elsewhere. */
  self: () => string;
  log: (event: string, details: Record<string, unknown>) => void;
}

/** A running router: the `upgrade` listener for an HTTP server, and how to stop it. */
export interface CdpRouter {
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void>;
  /** Terminates every bridged socket and closes the WebSocket server (not the HTTP one). */
  close(): void;
}

/** Where a CDP client goes; `release` gives back its count on the session (once). */
interface CdpTarget {
  url: string;
  local: boolean;
  sessionId: string;
  downloadDir?: string;
  release(): void;
}

const CDP_PATH = /^\/v1\/sessions\/([\w-]{1,64})\/cdp$/;

/** A CDP router with `limits` (each one unset taken from `DEFAULT_CDP_ROUTER_LIMITS`). */
export const createCdpRouter = (deps: CdpRouterDeps, cdpLimits?: Partial<CdpRouterLimits>): CdpRouter => {
  const limits: CdpRouterLimits = { ...DEFAULT_CDP_ROUTER_LIMITS, ...cdpLimits };
  // A client message past its limit is refused by ws itself: closed with 1009.
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: limits.clientMessageBytes,
    perMessageDeflate: false,
  });
  const sockets = new Set<WebSocket>();

  const handleUpgrade = async (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // A client's reset is its own business; without a listener it would crash the worker.
    socket.on('error', () => {});
    const url = new URL(req.url ?? '/', 'http://worker');
    const match = CDP_PATH.exec(url.pathname);
    const refuse = (status: number, text: string) => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (match?.[1] === undefined) return refuse(404, 'Not Found');
    const sessionId = match[1];
    // The secret unreadable: refused as unavailable (the client may retry), not as unauthorized.
    const check = await verifyTicketWithKeys(deps.keys, url.searchParams.get('ticket') ?? '', {
      scope: 'cdp',
      nowSeconds: Math.floor(Date.now() / 1000),
      sessionId,
    }).catch(() => undefined);
    if (check === undefined) return refuse(503, 'Service Unavailable');
    if (!check.ok) {
      deps.log('cdp connect refused', { sessionId, reason: check.reason });
      return refuse(401, 'Unauthorized');
    }
    void route(sessionId, check.claims.tid, url.searchParams.get('ticket') ?? '').then(
      (target) => {
        if (target === undefined) return refuse(404, 'Not Found');
        // A local route counted a CDP client, whom the session's idle timeout waits for; a
        // handshake that fails (a bad key, a socket gone meanwhile) never reaches `bridge`,
        // so its count is given back here, or the session would never idle out.
        let bridged = false;
        const unclaimed = () => {
          if (!bridged) target.release();
        };
        if (socket.destroyed) return unclaimed();
        socket.once('close', unclaimed);
        wss.handleUpgrade(req, socket, head, (client) => {
          bridged = true;
          socket.off('close', unclaimed);
          bridge(client, target);
        });
      },
      () => refuse(503, 'Service Unavailable'),
    );
  };

  /** Where a CDP client of this session goes: the local browser, or the owning worker. */
  const route = async (
    sessionId: string,
    tenantId: string,
    ticket: string,
  ): Promise<CdpTarget | undefined> => {
    if (deps.host.isHosted(sessionId)) {
      const browser = deps.host.cdpClient(sessionId, 1);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        deps.host.cdpClient(sessionId, -1);
      };
      if (browser === undefined) {
        release();
        return undefined;
      }
      return { url: browser.cdpEndpoint, local: true, sessionId, downloadDir: browser.downloadDir, release };
    }
    const session = await deps.sessions.get(tenantId, sessionId);
    if (session?.status !== 'live' || session.endpoint === undefined || session.endpoint === deps.self()) {
      return undefined;
    }
    const forward = new URL(`${session.endpoint.replace(/^http/, 'ws')}/v1/sessions/${sessionId}/cdp`);
    forward.searchParams.set('ticket', ticket);
    return { url: forward.toString(), local: false, sessionId, release: () => {} };
  };

  /**
   * Pipes CDP messages both ways, unchanged, except client commands the guard refuses
   * (answered here, never forwarded) or rewrites; either side closing closes the other.
   * Each direction is bounded: a message past its limit closes the client with 1009, and a
   * side with too much queued towards it stops the other side being read (backpressure).
   */
  const bridge = (client: WebSocket, target: CdpTarget) => {
    sockets.add(client);
    const upstream = new WebSocket(target.url, {
      maxPayload: limits.browserMessageBytes,
      perMessageDeflate: false,
    });
    sockets.add(upstream);
    const toBrowser = relay(client, upstream, limits.highWatermarkBytes);
    const toClient = relay(upstream, client, limits.highWatermarkBytes);
    // Until the browser's side is open, the client is not read (so nothing piles up here).
    const pending: { data: RawData; binary: boolean }[] = [];
    client.pause();
    let closing: { code: number; reason: string } = { code: 1000, reason: 'session browser gone' };
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
      if (upstream.readyState === WebSocket.OPEN) toBrowser(out, binary);
      else pending.push({ data: out, binary });
    });
    upstream.on('open', () => {
      for (const m of pending.splice(0)) toBrowser(m.data, m.binary);
      client.resume();
    });
    upstream.on('message', (data, binary) => {
      if (client.readyState === WebSocket.OPEN) toClient(data, binary);
    });
    const closeBoth = () => {
      target.release();
      sockets.delete(client);
      sockets.delete(upstream);
      if (client.readyState === WebSocket.OPEN) client.close(closing.code, closing.reason);
      if (upstream.readyState === WebSocket.OPEN || upstream.readyState === WebSocket.CONNECTING)
        upstream.terminate();
    };
    client.on('close', closeBoth);
    upstream.on('close', closeBoth);
    client.on('error', (error) => {
      if (tooBig(error)) {
        deps.log('cdp message too large', { sessionId: target.sessionId, from: 'client' });
      }
      closeBoth();
    });
    upstream.on('error', (error) => {
      if (tooBig(error)) {
        deps.log('cdp message too large', { sessionId: target.sessionId, from: 'browser' });
        closing = {
          code: 1009,
          reason: `A CDP message from the browser is past ${limits.browserMessageBytes} bytes`,
        };
      }
      closeBoth();
    });
  };

  return {
    handleUpgrade,
    close: () => {
      for (const s of sockets) s.terminate();
      wss.close();
    },
  };
};
