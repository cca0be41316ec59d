/** Test helpers: fixture pages on 127.0.0.1, PNG header reading, an API client. */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FixtureServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves the given pages (path → HTML) on an ephemeral loopback port. `/slow?ms=N` answers
 * after N ms, for tasks that must still be running when a test acts on them; `/basic-auth`
 * wants user `bf`, password `secret`; any other unknown path is a 404.
 */
export const startFixtureServer = async (
  pages: Record<string, string>,
  onRequest?: (req: IncomingMessage) => void,
): Promise<FixtureServer> => {
  const seen = new Set<string>();
  const server: Server = createServer((req, res) => {
    onRequest?.(req);
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/redirect') {
      res.writeHead(302, { location: url.searchParams.get('to') ?? '/' });
      res.end();
      return;
    }
    if (url.pathname === '/basic-auth') {
      // HTTP basic auth as a server asks for it: a 401 challenge, then the page for bf:secret.
      const expected = `Basic ${Buffer.from('bf:secret').toString('base64')}`;
      if (req.headers.authorization !== expected) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="fixture"', 'content-type': 'text/plain' });
        res.end('who are you?');
        return;
      }
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<h1 id="who">welcome, bf</h1>');
      return;
    }
    if (url.pathname === '/slow') {
      // `once=K`: only the first request for K is slow (a page that is slow "this time").
      const once = url.searchParams.get('once');
      const slow = once === null || !seen.has(once);
      if (once !== null) seen.add(once);
      const timer = setTimeout(
        () => {
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
          res.end(`<html><body><h1>slow ${url.searchParams.get('ms')}</h1></body></html>`);
        },
        slow ? Number(url.searchParams.get('ms') ?? 1000) : 0,
      );
      res.on('close', () => clearTimeout(timer));
      return;
    }
    const page = pages[url.pathname];
    if (page === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(page);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};

/** Width and height from a PNG's IHDR chunk; throws if the bytes are not a PNG. */
export const pngSize = (bytes: Uint8Array): { width: number; height: number } => {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (!signature.every((b, i) => bytes[i] === b)) throw new Error('not a PNG');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
};

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/** A tiny client for the platform's HTTP API, as a user's program would write it. */
export const apiClient = (baseUrl: string, apiKey: string) => {
  const call = async (
    method: string,
    path: string,
    init: { body?: string; headers?: Record<string, string> } = {},
  ) => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${apiKey}`, ...init.headers },
      ...(init.body === undefined ? {} : { body: init.body }),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {}
    return { status: res.status, headers: res.headers, body } as ApiResponse;
  };
  const submit = (task: unknown) =>
    call('POST', '/v1/tasks', {
      body: JSON.stringify(task),
      headers: { 'content-type': 'application/json' },
    });
  /** Holds on the API's own long-poll (`?wait=`) until the task ends, however long that takes. */
  const waitForEnd = async (id: string, timeoutMs = 90_000): Promise<ApiResponse> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const res = await call('GET', `/v1/tasks/${encodeURIComponent(id)}?wait=25`);
      if (['succeeded', 'failed', 'cancelled'].includes(res.body?.status)) return res;
      if (res.status !== 200 || Date.now() > deadline)
        throw new Error(`task ${id} still ${res.body?.status ?? res.status} after ${timeoutMs} ms`);
    }
  };
  return {
    call,
    submit,
    get: (id: string) => call('GET', `/v1/tasks/${encodeURIComponent(id)}`),
    waitForEnd,
    /** Submits a task and answers it once it has ended (or the refusal, if it wasn't accepted). */
    run: async (task: unknown): Promise<ApiResponse> => {
      const submitted = await submit(task);
      return submitted.status === 202 ? waitForEnd(submitted.body.id) : submitted;
    },
  };
};
