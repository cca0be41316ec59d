/**
 * A local stand-in for API Gateway's WebSocket API: it authenticates the handshake by
 * invoking the `$connect` handler, routes each message by `$request.body.action` to its
 * handler (or `$default`), invokes `$disconnect` when a socket closes, and serves the
 * `@connections` management API (POST to send, GET to describe, DELETE to close) that the
 * real `ApiGatewayManagementApiClient` calls. API Gateway's limits hold here too: 128 KB
 * messages, 32 KB frames, a 10-minute idle timeout and a 2-hour connection limit.
 * No business logic lives here.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { WsEvent, WsHandler } from '../functions/ws/ws-route.js';
import { WEBSOCKET } from '../shared/contracts.js';

export interface WsGatewayRoute {
  routeKey: string;
  handler: WsHandler;
}

export interface RunningWsGateway {
  /** `ws://127.0.0.1:<port>`: where clients connect. */
  url: string;
  /** `http://127.0.0.1:<port>`: the management API's endpoint. */
  managementUrl: string;
  connections(): number;
  close(): Promise<void>;
}

interface Live {
  socket: WebSocket;
  connectedAt: number;
  lastActiveAt: number;
  sourceIp: string;
  timers: NodeJS.Timeout[];
}

export const startWsGateway = async (options: {
  port: number;
  routes: WsGatewayRoute[];
  /** API Gateway's values unless a test shortens them. */
  idleTimeoutMs?: number;
  maxConnectionMs?: number;
  onError?: (error: unknown) => void;
}): Promise<RunningWsGateway> => {
  const routes = new Map(options.routes.map((r) => [r.routeKey, r.handler]));
  const live = new Map<string, Live>();
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: WEBSOCKET.maxMessageBytes,
    perMessageDeflate: false,
  });
  const idleMs = options.idleTimeoutMs ?? WEBSOCKET.idleTimeoutMs;
  const maxMs = options.maxConnectionMs ?? WEBSOCKET.maxConnectionMs;

  const invoke = async (routeKey: string, event: WsEvent) => {
    const handler = routes.get(routeKey) ?? routes.get('$default');
    if (handler === undefined) return { statusCode: 200 };
    try {
      return await handler(event);
    } catch (error) {
      options.onError?.(error);
      return { statusCode: 500 };
    }
  };

  const touch = (c: Live) => {
    c.lastActiveAt = Date.now();
    const idle = c.timers.shift();
    clearTimeout(idle);
    c.timers.unshift(setTimeout(() => c.socket.close(1001, 'Going away: idle timeout'), idleMs));
  };

  /** Sends one message as API Gateway does: text, in frames of at most 32 KB. */
  const sendFramed = (socket: WebSocket, data: Buffer) => {
    if (data.length <= WEBSOCKET.maxFrameBytes) {
      socket.send(data, { binary: false });
      return;
    }
    for (let offset = 0; offset < data.length; offset += WEBSOCKET.maxFrameBytes) {
      const end = Math.min(offset + WEBSOCKET.maxFrameBytes, data.length);
      socket.send(data.subarray(offset, end), { binary: false, fin: end === data.length });
    }
  };

  const server: Server = createServer((req, res) => {
    // The management API: /@connections/{id} (an optional stage prefix is ignored).
    const match = /\/@connections\/([^/?]+)$/.exec(new URL(req.url ?? '/', 'http://gw').pathname);
    const id = match?.[1] === undefined ? undefined : decodeURIComponent(match[1]);
    const c = id === undefined ? undefined : live.get(id);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (id === undefined) {
        res.writeHead(404).end();
        return;
      }
      if (c === undefined || c.socket.readyState !== WebSocket.OPEN) {
        res.writeHead(410, { 'content-type': 'application/json', 'x-amzn-errortype': 'GoneException' });
        res.end(JSON.stringify({ message: 'Gone' }));
        return;
      }
      if (req.method === 'POST') {
        const data = Buffer.concat(chunks);
        if (data.length > WEBSOCKET.maxMessageBytes) {
          res.writeHead(413, {
            'content-type': 'application/json',
            'x-amzn-errortype': 'PayloadTooLargeException',
          });
          res.end(JSON.stringify({ message: 'Message too long' }));
          return;
        }
        sendFramed(c.socket, data);
        res.writeHead(200).end();
      } else if (req.method === 'GET') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            ConnectedAt: new Date(c.connectedAt).toISOString(),
            LastActiveAt: new Date(c.lastActiveAt).toISOString(),
            Identity: { SourceIp: c.sourceIp },
          }),
        );
      } else if (req.method === 'DELETE') {
        c.socket.close(1000, 'Closed by the server');
        res.writeHead(204).end();
      } else {
        res.writeHead(405).end();
      }
    });
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // As API Gateway: a client's reset ends its connection, not the gateway.
    socket.on('error', () => {});
    const url = new URL(req.url ?? '/', 'http://gw');
    const connectionId = randomBytes(12).toString('base64url');
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers))
      if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(',') : v;
    const query = Object.fromEntries(url.searchParams);
    void invoke('$connect', {
      requestContext: { connectionId, routeKey: '$connect', eventType: 'CONNECT' },
      headers,
      queryStringParameters: Object.keys(query).length > 0 ? query : null,
    }).then((result) => {
      if (result.statusCode !== 200) {
        const body = typeof result.body === 'string' ? result.body : '';
        socket.end(
          `HTTP/1.1 ${result.statusCode} Refused\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
        );
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) =>
        accept(ws, connectionId, req.socket.remoteAddress ?? '127.0.0.1'),
      );
    });
  });

  const accept = (ws: WebSocket, connectionId: string, sourceIp: string) => {
    const c: Live = { socket: ws, connectedAt: Date.now(), lastActiveAt: Date.now(), sourceIp, timers: [] };
    c.timers.push(
      setTimeout(() => {}, 0),
      setTimeout(() => ws.close(1001, 'Going away: connection limit'), maxMs),
    );
    live.set(connectionId, c);
    touch(c);
    ws.on('message', (data, isBinary) => {
      touch(c);
      const body = Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[]);
      let routeKey = '$default';
      try {
        const action = (JSON.parse(body.toString('utf8')) as { action?: unknown }).action;
        if (typeof action === 'string' && routes.has(action)) routeKey = action;
      } catch {
        // Not JSON: `$default` answers it.
      }
      void invoke(routeKey, {
        requestContext: { connectionId, routeKey, eventType: 'MESSAGE' },
        body: isBinary ? body.toString('base64') : body.toString('utf8'),
        isBase64Encoded: isBinary,
      }).then((result) => {
        // Two-way routes: the integration's answer goes back to the client (a route response).
        if (typeof result.body === 'string' && ws.readyState === WebSocket.OPEN) {
          sendFramed(ws, Buffer.from(result.body));
        }
      });
    });
    // The close that follows an error is what the gateway acts on ($disconnect).
    ws.on('error', () => {});
    ws.on('close', () => {
      for (const t of c.timers) clearTimeout(t);
      live.delete(connectionId);
      void invoke('$disconnect', {
        requestContext: { connectionId, routeKey: '$disconnect', eventType: 'DISCONNECT' },
      });
    });
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  return {
    url: `ws://127.0.0.1:${port}`,
    managementUrl: `http://127.0.0.1:${port}`,
    connections: () => live.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of live.values()) {
          for (const t of c.timers) clearTimeout(t);
          c.socket.terminate();
        }
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
