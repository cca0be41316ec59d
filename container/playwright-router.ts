/**
 * The worker's Playwright router: `GET /v1/sessions/{id}/playwright?ticket=…` (WebSocket
 * upgrade), Playwright's own protocol for `chromium.connect(playwrightUrl)`. The ticket is
 * the session's CDP ticket. The client's version comes from its User-Agent: a minor outside
 * the window (PLAYWRIGHT_SERVERS) is answered 428 with what to use instead.
 *
 * A session hosted here gets a Playwright server of the client's version (one per client),
 * which connects over CDP to the session's browser through this worker's own CDP router,
 * with a ticket the worker signs itself: every CDP command it sends passes the CDP guard, so
 * each refusal there holds for Playwright by construction. The calls the Playwright server
 * would answer from the worker itself are refused here (shared/egress/playwright-command-
 * guard.ts). A session hosted elsewhere is proxied to the worker that owns it, whose router
 * judges the messages.
 *
 * The client's disconnect closes its server and the server's CDP connection, never the
 * browser (it is the session's); the session's end closes the browser, whose CDP
 * connection going closes the server and the client (1001). A client counts as attached
 * for the idle timeout, like a CDP client.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import { CDP_ROUTE, PLAYWRIGHT_ROUTE, SESSIONS } from '../shared/contracts.js';
import { checkPlaywrightClient, type PlaywrightMinor } from '../shared/session/playwright-versions.js';
import type { PlaywrightServer, PlaywrightServers } from '../shared/session/ports.js';
import { issueSessionTicket } from '../shared/session/ticket.js';
import { verifyTicketWithKeys } from '../shared/session/ticket-keys.js';
import type { CdpRouterDeps, CdpRouterLimits } from './cdp-router.js';
import { bridgePlaywright, type PlaywrightTarget } from './playwright-bridge.js';
import { refuseUpgrade } from './ws-relay.js';

/** How long the Playwright server may take to connect to the session's browser. */
const SERVER_START_TIMEOUT_MS = 15_000;

export interface PlaywrightRouterDeps extends CdpRouterDeps {
  servers: PlaywrightServers;
}

export interface PlaywrightRouter {
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void>;
  /** Terminates every bridged socket and closes every Playwright server it started. */
  close(): Promise<void>;
}

const PLAYWRIGHT_PATH = /^\/v1\/sessions\/([\w-]{1,64})\/playwright$/;

/** Whether an upgrade is for this router (the inbox server hands it the ones that are). */
export const isPlaywrightPath = (pathname: string): boolean => PLAYWRIGHT_PATH.test(pathname);

export const createPlaywrightRouter = (
  deps: PlaywrightRouterDeps,
  options: {
    limits: CdpRouterLimits;
    /** This worker's own CDP router on loopback (`ws://127.0.0.1:<port>`), once listening. */
    cdpLoopback: () => string;
  },
): PlaywrightRouter => {
  const { limits } = options;
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: limits.clientMessageBytes,
    perMessageDeflate: false,
  });
  const sockets = new Set<WebSocket>();
  const targets = new Set<PlaywrightTarget>();
  /** Playwright clients per session hosted here (SESSIONS.maxPlaywrightClients at most). */
  const clientsOf = new Map<string, number>();

  const handleUpgrade = async (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {});
    const url = new URL(req.url ?? '/', 'http://worker');
    const sessionId = PLAYWRIGHT_PATH.exec(url.pathname)?.[1];
    if (sessionId === undefined) return refuseUpgrade(socket, 404, 'Not Found');
    const ticket = url.searchParams.get('ticket') ?? '';
    const check = await verifyTicketWithKeys(deps.keys, ticket, {
      scope: 'cdp',
      nowSeconds: Math.floor(Date.now() / 1000),
      sessionId,
    }).catch(() => undefined);
    if (check === undefined) return refuseUpgrade(socket, 503, 'Service Unavailable');
    if (!check.ok) {
      deps.log('playwright connect refused', { sessionId, reason: check.reason });
      return refuseUpgrade(socket, 401, 'Unauthorized');
    }
    const userAgent = req.headers['user-agent'];
    const client = checkPlaywrightClient(userAgent);
    if (!client.ok) {
      deps.log('playwright client refused', { sessionId, version: client.version ?? null });
      // The session's cdpUrl, as this request reached us (the load balancer's name and scheme).
      const secure = req.headers['x-forwarded-proto'] === 'https';
      const cdpUrl = `${secure ? 'wss' : 'ws'}://${req.headers.host ?? '127.0.0.1'}${CDP_ROUTE.path(sessionId)}?ticket=${encodeURIComponent(ticket)}`;
      return refuseUpgrade(socket, 428, 'Precondition Required', {
        error: {
          code: 'VALIDATION_FAILED',
          message: `${client.message} This session's cdpUrl: ${cdpUrl}`,
          cdpUrl,
        },
      });
    }
    let target: PlaywrightTarget | 'full' | undefined;
    try {
      target = await route(sessionId, check.claims.tid, ticket, client.minor);
    } catch (error) {
      deps.log('playwright server failed to start', { sessionId, error: String(error) });
      return refuseUpgrade(socket, 503, 'Service Unavailable');
    }
    if (target === undefined) return refuseUpgrade(socket, 404, 'Not Found');
    if (target === 'full') {
      return refuseUpgrade(socket, 429, 'Too Many Requests', {
        error: {
          code: 'QUOTA_EXCEEDED',
          message: `This session already has ${SESSIONS.maxPlaywrightClients} Playwright clients; close one first (one client can open many pages and contexts).`,
        },
      });
    }
    const found = target;
    // A handshake that never completes gives back what the route took (count, server).
    let bridged = false;
    const unclaimed = () => {
      if (!bridged) void found.release();
    };
    if (socket.destroyed) return unclaimed();
    socket.once('close', unclaimed);
    wss.handleUpgrade(req, socket, head, (ws) => {
      bridged = true;
      socket.off('close', unclaimed);
      // Only what the server reads of it: a header the client sent may not be one we can send.
      bridgePlaywright(ws, found, `Playwright/${client.version}`, { limits, sockets, log: deps.log });
    });
  };

  const route = async (
    sessionId: string,
    tenantId: string,
    ticket: string,
    minor: PlaywrightMinor,
  ): Promise<PlaywrightTarget | 'full' | undefined> => {
    if (deps.host.isHosted(sessionId)) {
      // Checked and taken with no await between: two connects can't both take the last one.
      const clients = clientsOf.get(sessionId) ?? 0;
      if (clients >= SESSIONS.maxPlaywrightClients) return 'full';
      clientsOf.set(sessionId, clients + 1);
      const browser = deps.host.cdpClient(sessionId, 1);
      let counted = true;
      const uncount = () => {
        if (!counted) return;
        counted = false;
        deps.host.cdpClient(sessionId, -1);
        const left = (clientsOf.get(sessionId) ?? 1) - 1;
        if (left > 0) clientsOf.set(sessionId, left);
        else clientsOf.delete(sessionId);
      };
      if (browser === undefined) {
        uncount();
        return undefined;
      }
      let server: PlaywrightServer;
      try {
        // Through the CDP router, as any CDP client: a ticket of our own, for this session.
        const own = issueSessionTicket(
          await deps.keys.signingKey(),
          { id: sessionId, tenantId },
          'cdp',
          Date.now(),
        );
        server = await deps.servers.start(minor, {
          cdpEndpoint: `${options.cdpLoopback()}${CDP_ROUTE.path(sessionId)}?ticket=${own.ticket}`,
          downloadsPath: browser.downloadDir,
          timeoutMs: SERVER_START_TIMEOUT_MS,
        });
      } catch (error) {
        uncount();
        throw error;
      }
      let released: Promise<void> | undefined;
      const target: PlaywrightTarget = {
        url: server.wsEndpoint,
        local: true,
        sessionId,
        release: () => {
          released ??= (async () => {
            targets.delete(target);
            uncount();
            await server.close();
          })();
          return released;
        },
      };
      targets.add(target);
      return target;
    }
    const session = await deps.sessions.get(tenantId, sessionId);
    if (session?.status !== 'live' || session.endpoint === undefined || session.endpoint === deps.self()) {
      return undefined;
    }
    const forward = new URL(`${session.endpoint.replace(/^http/, 'ws')}${PLAYWRIGHT_ROUTE.path(sessionId)}`);
    forward.searchParams.set('ticket', ticket);
    return { url: forward.toString(), local: false, sessionId, release: async () => {} };
  };

  return {
    handleUpgrade,
    close: async () => {
      for (const s of sockets) s.terminate();
      wss.close();
      await Promise.all([...targets].map((t) => t.release()));
    },
  };
};
