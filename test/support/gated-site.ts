/**
 * A fixture site on 127.0.0.1 whose pages answer only when the test says so, and which
 * counts every request per path: a test can hold tasks mid-run (the browser is waiting on
 * the page), act at that moment, and check afterwards how often each page was loaded.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface GatedSite {
  url: string;
  /** Requests of `path` so far. */
  hits(path: string): number;
  /** Resolves once `path` has had `count` requests; rejects after `timeoutMs`. */
  waitForHits(path: string, count?: number, timeoutMs?: number): Promise<void>;
  /** Answers the held requests of `path`, and its later requests at once. */
  release(path: string): void;
  /** Answers every held request, and every later one at once. */
  open(): void;
  close(): Promise<void>;
}

/** Every path is an HTML page naming itself, held until released (`/favicon.ico` is a 404). */
export const startGatedSite = async (): Promise<GatedSite> => {
  const hits = new Map<string, number>();
  const held = new Map<string, ServerResponse[]>();
  const released = new Set<string>();
  let opened = false;
  const waiters = new Set<() => void>();

  const answer = (path: string, res: ServerResponse) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<html><head><title>${path}</title></head><body><h1>page ${path}</h1></body></html>`);
  };
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    for (const wake of waiters) wake();
    if (path === '/favicon.ico') {
      res.writeHead(404).end();
      return;
    }
    if (opened || released.has(path)) return answer(path, res);
    held.set(path, [...(held.get(path) ?? []), res]);
    res.on('close', () =>
      held.set(
        path,
        (held.get(path) ?? []).filter((r) => r !== res),
      ),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const release = (path: string) => {
    released.add(path);
    for (const res of held.get(path) ?? []) answer(path, res);
    held.delete(path);
  };
  return {
    url: `http://127.0.0.1:${port}`,
    hits: (path) => hits.get(path) ?? 0,
    waitForHits: (path, count = 1, timeoutMs = 30_000) =>
      new Promise((resolve, reject) => {
        const wake = () => {
          if ((hits.get(path) ?? 0) < count) return;
          waiters.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(wake);
          reject(
            new Error(`${path}: ${hits.get(path) ?? 0} requests after ${timeoutMs} ms, wanted ${count}`),
          );
        }, timeoutMs);
        waiters.add(wake);
        wake();
      }),
    release,
    open: () => {
      opened = true;
      for (const path of [...held.keys()]) release(path);
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
