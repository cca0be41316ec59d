/**
 * The egress proxy on its own: it connects to exactly the address its check resolved (so a
 * DNS answer that changes between the check and the connection, rebinding, has nothing to
 * rebind), for plain requests and CONNECT tunnels alike, and refuses and records a host
 * whose answer is private. The resolver is a fake: `*.test` names exist only in it, so a
 * proxy that looked a name up again would fail to connect.
 */
import { createServer, request, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type EgressProxy,
  refusalBehindNavigationError,
  startEgressProxy,
} from '../../shared/adapters/egress-proxy.js';
import { parseEgressAllowList } from '../../shared/egress/egress-policy.js';

let target: Server;
let port: number;
let hits = 0;
let proxy: EgressProxy;
const lookups: string[] = [];
let neverArrived: () => void = () => {};
let neverReleased: () => void = () => {};

beforeAll(async () => {
  target = createServer((req, res) => {
    hits++;
    // `/never`: accepted, never answered; says when the proxy lets go of it.
    if (req.url === '/never') {
      neverArrived();
      req.socket.once('close', neverReleased);
      return;
    }
    // `/late`: an answer slower than the proxy's connect timeout, which must not cut it off.
    if (req.url === '/late') setTimeout(() => res.end('late but whole'), 1_000);
    else res.end('reached the target');
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  port = (target.address() as AddressInfo).port;
  const answers: Record<string, string[]> = { 'pinned.test': ['127.0.0.1'], 'inside.test': ['127.0.0.1'] };
  proxy = await startEgressProxy({
    connectTimeoutMs: 300,
    allow: parseEgressAllowList(`pinned.test:${port}`),
    resolve: async (host) => {
      lookups.push(host);
      return answers[host] ?? [];
    },
  });
});
afterAll(async () => {
  await proxy?.close();
  target?.closeAllConnections();
  await new Promise((r) => target?.close(r));
});

const proxyPort = () => Number(new URL(proxy.url).port);

/** A plain-HTTP request through the proxy, in absolute form as a browser sends it. */
const viaProxy = (url: string) =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port: proxyPort(),
      path: url,
      headers: { host: new URL(url).host },
    });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });

/** A CONNECT tunnel through the proxy, then a GET inside it; answers the first bytes back. */
const tunnel = (authority: string) =>
  new Promise<string>((resolve, reject) => {
    const socket = connect(proxyPort(), '127.0.0.1');
    let seen = '';
    socket.on('data', (c: Buffer) => {
      seen += c.toString();
      if (seen.startsWith('HTTP/1.1 200') && seen.includes('\r\n\r\n') && !seen.includes('GET sent')) {
        seen += 'GET sent\n';
        socket.write(`GET / HTTP/1.1\r\nhost: ${authority}\r\nconnection: close\r\n\r\n`);
      }
    });
    socket.on('end', () => resolve(seen));
    socket.on('error', reject);
    socket.write(`CONNECT ${authority} HTTP/1.1\r\nhost: ${authority}\r\n\r\n`);
  });

describe('egress proxy', () => {
  it('adds its listeners to a pooled upstream connection once, however many requests it carries', async () => {
    const leaks: Error[] = [];
    const onWarning = (warning: Error) => {
      if (warning.name === 'MaxListenersExceededWarning') leaks.push(warning);
    };
    process.on('warning', onWarning);
    try {
      // Node warns past 10 listeners of one kind on one socket; 30 requests reuse one.
      for (let i = 0; i < 30; i++) {
        expect((await viaProxy(`http://pinned.test:${port}/`)).status).toBe(200);
      }
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(leaks).toEqual([]);
  });

  it('reaches an allowed name at the address its check resolved (one lookup, no second)', async () => {
    lookups.length = 0;
    const res = await viaProxy(`http://pinned.test:${port}/`);
    expect(res).toEqual({ status: 200, body: 'reached the target' });
    expect(lookups).toEqual(['pinned.test']);
  });

  it('bounds connecting only: a server slower to answer than the connect timeout is waited for', async () => {
    expect(await viaProxy(`http://pinned.test:${port}/late`)).toEqual({
      status: 200,
      body: 'late but whole',
    });
  });

  it('lets go of the upstream when the browser gives up on a request that is never answered', async () => {
    const arrived = new Promise<void>((r) => {
      neverArrived = r;
    });
    const released = new Promise<void>((r) => {
      neverReleased = r;
    });
    const req = request({
      host: '127.0.0.1',
      port: proxyPort(),
      path: `http://pinned.test:${port}/never`,
      headers: { host: `pinned.test:${port}` },
    });
    req.on('error', () => {});
    req.end();
    await arrived;
    req.destroy();
    // The target's side of the upstream connection closes: nothing is left hanging.
    await released;
  });

  it('tunnels CONNECT to the checked address too', async () => {
    lookups.length = 0;
    const seen = await tunnel(`pinned.test:${port}`);
    expect(seen).toMatch(/^HTTP\/1\.1 200 Connection Established/);
    expect(seen).toContain('reached the target');
    expect(lookups).toEqual(['pinned.test']);
  });

  it('refuses and records a name that resolves to a private address, plain and tunnelled', async () => {
    const before = hits;
    const res = await viaProxy(`http://inside.test:${port}/admin`);
    expect(res.status).toBe(403);
    expect(res.body).toMatch(/Blocked by the egress guard/);
    expect(await tunnel(`inside.test:${port}`)).toMatch(/^HTTP\/1\.1 403/);
    expect(hits).toBe(before);
    expect(proxy.blocked()).toEqual([
      { url: `http://inside.test:${port}/admin`, reason: 'loopback' },
      { url: `inside.test:${port}`, reason: 'loopback' },
    ]);
  });
});

describe('egress proxy on a web that drops connections', () => {
  let flaky: Server;
  let flakyPort: number;
  let served = 0;
  let dropped = 0;
  const proxies: EgressProxy[] = [];
  const start = async () => {
    const p = await startEgressProxy({
      allow: parseEgressAllowList('127.0.0.1'),
      resolve: async () => [],
    });
    proxies.push(p);
    return p;
  };
  const get = (p: EgressProxy, url: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: Number(new URL(p.url).port), path: url });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (c: Buffer) => {
          body += c.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });

  beforeAll(async () => {
    // Every connection's second request finds it closed before any byte of an answer: the
    // race of a keep-alive socket the server timed out just as the client reused it.
    flaky = createServer((req, res) => {
      const socket = req.socket as typeof req.socket & { requests?: number };
      socket.requests = (socket.requests ?? 0) + 1;
      if (socket.requests > 1) {
        dropped++;
        socket.destroy();
        return;
      }
      served++;
      res.end('fresh connection');
    });
    await new Promise<void>((r) => flaky.listen(0, '127.0.0.1', r));
    flakyPort = (flaky.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await Promise.all(proxies.map((p) => p.close()));
    flaky?.closeAllConnections();
    await new Promise((r) => flaky?.close(r));
  });

  it('sends a bodiless request again when a reused connection closes before answering', async () => {
    const p = await start();
    for (let i = 0; i < 10; i++) {
      expect(await get(p, `http://127.0.0.1:${flakyPort}/page-${i}`)).toEqual({
        status: 200,
        body: 'fresh connection',
      });
    }
    // Every request after the first met a dropped pooled connection and was sent again.
    expect(dropped).toBeGreaterThanOrEqual(9);
    expect(served).toBe(10);
  });

  it("one task's proxy closing doesn't cut another's request on a pooled connection", async () => {
    // A server of its own, so the only pooled connection to it is the one `a` leaves behind.
    let lateArrived: () => void = () => {};
    const arrived = new Promise<void>((r) => {
      lateArrived = r;
    });
    const own = createServer((req, res) => {
      if (req.url !== '/late') return void res.end('first');
      lateArrived();
      setTimeout(() => res.end('late but whole'), 300);
    });
    await new Promise<void>((r) => own.listen(0, '127.0.0.1', r));
    const ownPort = (own.address() as AddressInfo).port;
    const connections: unknown[] = [];
    own.on('connection', (c) => connections.push(c));
    const a = await start();
    const b = await start();
    expect((await get(a, `http://127.0.0.1:${ownPort}/`)).status).toBe(200);
    // By now `a`'s upstream connection is back in its pool: Node frees a keep-alive socket
    // on the tick after its answer ends, before the proxy's copy of it can reach us.
    const late = get(b, `http://127.0.0.1:${ownPort}/late`);
    await arrived;
    await a.close();
    const answer = await late.catch((error: Error) => ({ status: 0, body: error.message }));
    own.closeAllConnections();
    await new Promise((r) => own.close(r));
    expect(answer).toEqual({ status: 200, body: 'late but whole' });
    // Each proxy kept its own connection.
    expect(connections).toHaveLength(2);
  });
});

describe('which refusal a failed navigation is put down to', () => {
  const tunnelRefused = new Error('net::ERR_TUNNEL_CONNECTION_FAILED at https://10.0.0.1/');
  const loopback = { url: '127.0.0.1:8443', reason: 'loopback' };
  const metadata = { url: '169.254.169.254:443', reason: 'metadata' };
  const unresolvable = { url: 'gone.test:443', reason: 'unresolvable' };

  it('the newest refusal, when the guard refused the tunnel', () => {
    expect(refusalBehindNavigationError(tunnelRefused, [loopback, metadata])).toEqual(metadata);
  });

  it('none for a host that did not resolve (a network error, retried) or for any other failure', () => {
    expect(refusalBehindNavigationError(tunnelRefused, [unresolvable])).toBeUndefined();
    expect(refusalBehindNavigationError(tunnelRefused, [loopback, unresolvable])).toEqual(loopback);
    expect(
      refusalBehindNavigationError(new Error('net::ERR_CONNECTION_RESET at https://a.test/'), [loopback]),
    ).toBeUndefined();
    expect(refusalBehindNavigationError(tunnelRefused, [])).toBeUndefined();
  });
});
