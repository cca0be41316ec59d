/**
 * The worker's inbox and CDP router, on one port:
 *
 * - `POST /inbox/sessions/{id}`: a client's message for a session hosted here, from a
 *   `ws-*` function (signed with the deployment's secret). Answers 202 at once; results go
 *   back to the client through PostToConnection.
 * - `POST /inbox/sessions/{id}/calls`: one command, from an HTTP function (signed the same
 *   way). Answers 200's headers at once and its `CommandOutcome` once the command has run.
 * - `GET /v1/sessions/{id}/cdp?ticket=…` (WebSocket upgrade): handed to the CDP router
 *   (container/cdp-router.ts).
 * - `GET /v1/sessions/{id}/playwright?ticket=…` (WebSocket upgrade): handed to the
 *   Playwright router (container/playwright-router.ts), whose servers reach the session's
 *   browser through the CDP router on this same port, over loopback.
 * - `GET /health`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  decodeInboxBody,
  decodeInboxCallBody,
  encodeCommandOutcome,
  INBOX_SIGNATURE_HEADER,
  INBOX_TIMESTAMP_HEADER,
  MAX_INBOX_BODY_BYTES,
  sessionIdOfInboxCallPath,
  sessionIdOfInboxPath,
} from '../shared/session/inbox-protocol.js';
import type { CommandOutcome } from '../shared/session/ports.js';
import { verifyInboxCallWithKeys } from '../shared/session/ticket-keys.js';
import { type CdpRouterLimits, createCdpRouter, DEFAULT_CDP_ROUTER_LIMITS } from './cdp-router.js';
import { createPlaywrightRouter, isPlaywrightPath, type PlaywrightRouterDeps } from './playwright-router.js';

/**
 * The routers' deps; of them the inbox uses `host`, `keys` (inbox calls are verified with
 * them too) and `log`.
 */
export type InboxServerDeps = PlaywrightRouterDeps;

export interface RunningInbox {
  port: number;
  close(): Promise<void>;
}

export const startInboxServer = async (
  deps: InboxServerDeps,
  options: { port: number; host: string; cdpLimits?: Partial<CdpRouterLimits> },
): Promise<RunningInbox> => {
  const router = createCdpRouter(deps, options.cdpLimits);
  let port = options.port;
  const playwright = createPlaywrightRouter(deps, {
    limits: { ...DEFAULT_CDP_ROUTER_LIMITS, ...options.cdpLimits },
    // Loopback reaches this server whether it listens on 127.0.0.1 or on every interface.
    cdpLoopback: () => `ws://127.0.0.1:${port}`,
  });

  /** A call: 404 at once if the session isn't here, else 200 now and the outcome once run. */
  const answerCall = (sessionId: string, body: string, res: ServerResponse): void => {
    const parsed = decodeInboxCallBody(body);
    if (parsed === undefined) {
      res.writeHead(400).end();
      return;
    }
    let outcome: Promise<CommandOutcome> | undefined;
    try {
      outcome = deps.host.call(sessionId, parsed.tenantId, parsed.command);
    } catch (error) {
      deps.log('inbox call failed', { sessionId, error: String(error) });
      res.writeHead(500).end();
      return;
    }
    if (outcome === undefined) {
      res.writeHead(404).end();
      return;
    }
    // The headers go now: the caller knows the worker has the command, however long it runs.
    res.writeHead(200, { 'content-type': 'application/json' });
    res.flushHeaders();
    // The runner answers every command, never throwing; a caller that left is no one to tell.
    void outcome
      .catch((error: unknown): CommandOutcome => {
        deps.log('inbox call failed', { sessionId, error: String(error) });
        return {
          ok: false,
          error: { code: 'INTERNAL', message: 'Internal error. The call can be retried.' },
        };
      })
      .then((answer) => {
        if (!res.destroyed) res.end(encodeCommandOutcome(answer));
      });
  };

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://worker');
    if (req.method === 'GET' && url.pathname === '/health') {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ status: 'ok', sessions: deps.host.count() }));
      return;
    }
    const callSessionId = sessionIdOfInboxCallPath(url.pathname);
    const sessionId = callSessionId ?? sessionIdOfInboxPath(url.pathname);
    if (req.method !== 'POST' || sessionId === undefined) {
      req.resume();
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_INBOX_BODY_BYTES) req.destroy();
      else chunks.push(chunk);
    });
    req.on('end', async () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const signed = {
        signature: String(req.headers[INBOX_SIGNATURE_HEADER] ?? ''),
        timestamp: String(req.headers[INBOX_TIMESTAMP_HEADER] ?? ''),
      };
      // The secret unreadable (and never read): the caller may retry, the call is not refused.
      const valid = await verifyInboxCallWithKeys(
        deps.keys,
        { path: url.pathname, body },
        signed,
        Date.now() / 1000,
      ).catch(() => undefined);
      if (valid !== true) {
        res.writeHead(valid === undefined ? 503 : 401).end();
        return;
      }
      if (callSessionId !== undefined) {
        answerCall(callSessionId, body, res);
        return;
      }
      // Signed, but still checked for shape: this listener is async, and a throw here would
      // be an unhandled rejection with the caller left waiting for an answer.
      const parsed = decodeInboxBody(body);
      if (parsed === undefined) {
        res.writeHead(400).end();
        return;
      }
      try {
        const taken = deps.host.deliver(sessionId, parsed.tenantId, parsed.message);
        res.writeHead(taken ? 202 : 404).end();
      } catch (error) {
        deps.log('inbox delivery failed', { sessionId, error: String(error) });
        res.writeHead(500).end();
      }
    });
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    let pathname: string;
    try {
      pathname = new URL(req.url ?? '/', 'http://worker').pathname;
    } catch {
      socket.on('error', () => {});
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    // Whatever a client sends, an upgrade ends as an answer or a closed socket, never a throw.
    (isPlaywrightPath(pathname) ? playwright : router)
      .handleUpgrade(req, socket, head)
      .catch((error: unknown) => {
        deps.log('upgrade failed', { path: pathname, error: String(error) });
        socket.destroy();
      });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  port = typeof address === 'object' && address !== null ? address.port : options.port;
  return {
    port,
    close: async () => {
      await playwright.close();
      await new Promise<void>((resolve) => {
        router.close();
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
};
