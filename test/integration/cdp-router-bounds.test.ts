/**
 * The worker's CDP router, bounded: a message past its direction's limit closes the client
 * with 1009, a client that doesn't read holds the browser back rather than the worker's
 * memory, and a CDP client whose handshake fails doesn't stay counted on its session
 * (which would never idle out). A real ws client and a stand-in browser socket on 127.0.0.1
 * against the real inbox server.
 */
import { connect } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import { type CdpRouterLimits, DEFAULT_CDP_ROUTER_LIMITS } from '../../container/cdp-router.js';
import { type RunningInbox, startInboxServer } from '../../container/inbox-server.js';
import { playwrightCoreServers } from '../../shared/adapters/playwright-server.js';
import { systemClock } from '../../shared/clock.js';
import { MAX_CDP_MESSAGE_BYTES } from '../../shared/output-caps.js';
import type { SessionHost } from '../../shared/session/host-session.js';
import { signInboxCall } from '../../shared/session/inbox-protocol.js';
import type { SessionStore } from '../../shared/session/ports.js';
import { issueTicket } from '../../shared/session/ticket.js';
import { CachedTicketKeys, fixedTicketSecret } from '../../shared/session/ticket-keys.js';

const SECRET = 'router-bounds-secret';
const MB = 1024 * 1024;

/** A stand-in for the session browser's DevTools socket: what it got, and its sockets. */
let browser: WebSocketServer;
let browserUrl: string;
const atBrowser: string[] = [];
let onBrowserConnection: (socket: WebSocket) => void = () => {};
beforeAll(async () => {
  browser = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 512 * MB });
  await new Promise<void>((resolve) => browser.once('listening', () => resolve()));
  browserUrl = `ws://127.0.0.1:${(browser.address() as { port: number }).port}/devtools/browser/x`;
  browser.on('connection', (socket) => {
    socket.on('message', (data) => atBrowser.push(data.toString()));
    onBrowserConnection(socket);
  });
});
afterAll(async () => {
  for (const c of browser.clients) c.terminate();
  await new Promise<void>((resolve) => browser.close(() => resolve()));
});

/** A session host with one session, `s1`, counting its CDP clients as the real one does. */
let cdpClients = 0;
const host = {
  isHosted: (id: string) => id === 's1',
  cdpClient: (_id: string, delta: 1 | -1) => {
    cdpClients += delta;
    return { cdpEndpoint: browserUrl, downloadDir: '/tmp/bf-router-downloads' };
  },
  count: () => 1,
  deliver: () => false,
} as unknown as SessionHost;

let inbox: RunningInbox | undefined;
const start = async (limits: Partial<CdpRouterLimits> = {}): Promise<string> => {
  inbox = await startInboxServer(
    {
      host,
      sessions: { get: async () => undefined } as unknown as SessionStore,
      keys: new CachedTicketKeys(fixedTicketSecret(SECRET), systemClock),
      self: () => 'http://127.0.0.1:1',
      log: () => {},
      servers: playwrightCoreServers,
    },
    { port: 0, host: '127.0.0.1', cdpLimits: limits },
  );
  const ticket = issueTicket(SECRET, {
    sid: 's1',
    tid: 't1',
    scope: 'cdp',
    exp: Math.floor(Date.now() / 1000) + 300,
  });
  return `/v1/sessions/s1/cdp?ticket=${encodeURIComponent(ticket)}`;
};
afterEach(async () => {
  await inbox?.close();
  inbox = undefined;
  onBrowserConnection = () => {};
  atBrowser.length = 0;
  await expect.poll(() => cdpClients).toBe(0);
});

const open = async (path: string): Promise<WebSocket> => {
  const client = new WebSocket(`ws://127.0.0.1:${inbox?.port}${path}`, { maxPayload: 512 * MB });
  await new Promise((resolve, reject) => {
    client.once('open', resolve);
    client.once('error', reject);
  });
  return client;
};
const closed = (client: WebSocket) =>
  new Promise<{ code: number; reason: string }>((resolve) =>
    client.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );

describe('CDP router bounds', () => {
  it('defaults: 8 MB from a client, the pipe limit (64 MB) from the browser, 16 MB queued', () => {
    expect(DEFAULT_CDP_ROUTER_LIMITS).toEqual({
      clientMessageBytes: 8 * MB,
      browserMessageBytes: MAX_CDP_MESSAGE_BYTES,
      highWatermarkBytes: 16 * MB,
    });
    expect(MAX_CDP_MESSAGE_BYTES).toBe(64 * MB);
  });

  it('a failed CDP handshake gives back its client count, so the session can still idle out', async () => {
    const path = await start();
    // A WebSocket upgrade without a Sec-WebSocket-Key: the ticket is good, the handshake isn't.
    const socket = connect(inbox?.port ?? 0, '127.0.0.1');
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        'Sec-WebSocket-Version: 13\r\n\r\n',
    );
    let answer = '';
    socket.on('data', (b) => {
      answer += b.toString();
    });
    await new Promise((resolve) => socket.once('close', resolve));
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    expect(cdpClients).toBe(0);

    // A good one counts while it is connected, and not after.
    const client = await open(path);
    expect(cdpClients).toBe(1);
    client.close();
    await expect.poll(() => cdpClients).toBe(0);
  });

  it('a client message past the limit closes the client with 1009 and never reaches the browser', async () => {
    const path = await start({ clientMessageBytes: 64 * 1024 });
    const client = await open(path);
    const end = closed(client);
    client.send(
      JSON.stringify({ id: 1, method: 'Runtime.evaluate', params: { expression: 'x'.repeat(70_000) } }),
    );
    expect((await end).code).toBe(1009);
    // Within the limit, a command goes through as before.
    const again = await open(path);
    const small = JSON.stringify({ id: 2, method: 'Runtime.evaluate', params: { expression: '1' } });
    again.send(small);
    await expect.poll(() => atBrowser).toEqual([small]);
    again.close();
  });

  it('a browser message past the limit closes the client with 1009, naming the limit', async () => {
    const path = await start({ browserMessageBytes: 256 * 1024 });
    onBrowserConnection = (socket) => {
      socket.send(JSON.stringify({ id: 1, result: { data: 'small' } }));
      socket.send(JSON.stringify({ id: 2, result: { data: 'x'.repeat(300 * 1024) } }));
    };
    const client = await open(path);
    const got: string[] = [];
    client.on('message', (data: RawData) => got.push(data.toString()));
    const { code, reason } = await closed(client);
    expect(code).toBe(1009);
    expect(reason).toBe('A CDP message from the browser is past 262144 bytes');
    expect(got).toEqual([JSON.stringify({ id: 1, result: { data: 'small' } })]);
  });

  it("a client that doesn't read holds the browser back, not the worker's memory; then gets everything in order", async () => {
    const watermark = 1 * MB;
    const path = await start({ highWatermarkBytes: watermark });
    const MESSAGES = 64;
    let flushed = 0;
    let browserSocket!: WebSocket;
    const sendAll = new Promise<void>((resolve) => {
      onBrowserConnection = (socket) => {
        browserSocket = socket;
        for (let i = 0; i < MESSAGES; i++) {
          const frame = JSON.stringify({
            method: 'Page.screencastFrame',
            params: { n: i, data: 'f'.repeat(MB) },
          });
          socket.send(frame, () => {
            flushed++;
          });
        }
        resolve();
      };
    });
    const client = await open(path);
    // The client stops reading at once, like a viewer on a stalled network.
    client.pause();
    await sendAll;
    // With nothing read downstream, the router takes in its watermark and what the kernel's
    // socket buffers hold (a few MB each way on loopback), and stops reading the browser;
    // without backpressure it would take in all 64 MB within a moment.
    const window = Date.now() + 2_000;
    let most = 0;
    while (Date.now() < window) {
      most = Math.max(most, flushed);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(most).toBeLessThan(MESSAGES / 2);
    expect(browserSocket.bufferedAmount).toBeGreaterThan((MESSAGES / 2) * MB);

    const got: number[] = [];
    client.on('message', (data: RawData) => {
      got.push((JSON.parse(data.toString()) as { params: { n: number } }).params.n);
    });
    client.resume();
    await expect.poll(() => got.length, { timeout: 30_000 }).toBe(MESSAGES);
    expect(got).toEqual(Array.from({ length: MESSAGES }, (_, i) => i));
    client.close();
  }, 60_000);
});

describe('the inbox, given a signed call it cannot deliver', () => {
  const post = async (body: string) => {
    const path = '/inbox/sessions/s1';
    const res = await fetch(`http://127.0.0.1:${inbox?.port}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...signInboxCall(SECRET, { path, body }, Date.now() / 1000),
      },
      body,
      signal: AbortSignal.timeout(5_000),
    });
    return res.status;
  };

  it('a body that is JSON but not a message is a 400, answered at once', async () => {
    await start();
    for (const body of ['null', '"x"', '{"tenantId":1}', '{"tenantId":"t1"}'])
      expect(await post(body)).toBe(400);
  });

  it('a host that throws on delivery is a 500, not a caller left waiting', async () => {
    await start();
    const deliver = host.deliver;
    host.deliver = () => {
      throw new Error('bug in delivery');
    };
    try {
      expect(await post(JSON.stringify({ tenantId: 't1', message: { kind: 'close' } }))).toBe(500);
    } finally {
      host.deliver = deliver;
    }
  });
});
