/**
 * A web server that fails the way real sites and networks do, for the web-side fault tests.
 * Every path answers a small HTML page, except where its name says how it misbehaves:
 *
 * - `/drops-reuse`: a connection's second request finds it closed before any byte of an
 *   answer (a keep-alive socket the server timed out just as the client reused it).
 * - `/closes-early`: answers with `Connection: keep-alive` and then closes the socket
 *   right after the answer anyway.
 * - `/slow?ms=N`: answers after N ms.
 * - `/stalls`: sends the headers and half the body, then nothing, for ever.
 * - `/bad-chunks`: a chunked answer whose chunk size isn't hexadecimal.
 * - `/resets-mid-body`: half the body, then a TCP reset.
 * - `/resets`: every connection is reset before any byte of an answer.
 *
 * `hits(path)` counts requests per path, so a test can tell a retried task from one that
 * ran once.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface FaultySite {
  url: string;
  port: number;
  hits(path: string): number;
  close(): Promise<void>;
}

const page = (title: string) =>
  `<!doctype html><html><head><title>${title}</title></head><body><h1>${title}</h1>${'<p>text</p>'.repeat(50)}</body></html>`;

export const startFaultySite = async (): Promise<FaultySite> => {
  const counts = new Map<string, number>();
  const sockets = new Set<Socket>();
  const requestsOn = new WeakMap<Socket, number>();
  const server: Server = createServer((req: IncomingMessage, res) => {
    const url = new URL(req.url ?? '/', 'http://site');
    counts.set(url.pathname, (counts.get(url.pathname) ?? 0) + 1);
    const socket = req.socket;
    const nth = (requestsOn.get(socket) ?? 0) + 1;
    requestsOn.set(socket, nth);
    const body = page(url.pathname);
    switch (url.pathname) {
      case '/drops-reuse':
        if (nth > 1) return void socket.destroy();
        return void res.writeHead(200, { 'content-type': 'text/html' }).end(body);
      case '/closes-early':
        res.writeHead(200, { 'content-type': 'text/html', connection: 'keep-alive' });
        return void res.end(body, () => socket.destroy());
      case '/slow': {
        const ms = Number(url.searchParams.get('ms') ?? 1_000);
        const timer = setTimeout(() => res.writeHead(200, { 'content-type': 'text/html' }).end(body), ms);
        return void res.on('close', () => clearTimeout(timer));
      }
      case '/stalls':
        res.writeHead(200, { 'content-type': 'text/html', 'content-length': String(body.length) });
        return void res.write(body.slice(0, body.length / 2));
      case '/bad-chunks':
        socket.write(
          'HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nnot hex\r\n0\r\n\r\n',
        );
        return void socket.end();
      case '/resets-mid-body':
        res.writeHead(200, { 'content-type': 'text/html', 'content-length': String(body.length) });
        res.write(body.slice(0, body.length / 2));
        return void setTimeout(() => socket.resetAndDestroy(), 50);
      case '/resets':
        return void socket.resetAndDestroy();
      default:
        return void res.writeHead(200, { 'content-type': 'text/html' }).end(body);
    }
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    hits: (path) => counts.get(path) ?? 0,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
};
