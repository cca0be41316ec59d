/**
 * A live session's console, network log, tabs and downloads, end to end: the local cloud,
 * the WebSocket API, the worker, real Chromium, fixture pages on 127.0.0.1. What an agent
 * driving a session over MCP reads back to see what its page did.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import puppeteer from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_SESSION_TABS } from '../../shared/session/session-input.js';
import { apiClient } from '../support/fixtures.js';
import { startTestCloud } from '../support/local-cloud.js';
import { connectWs, type WsClient } from '../support/ws-client.js';

/** The bytes the download fixture answers: not text, so a mangled copy can't pass. */
const CSV = Buffer.concat([Buffer.from('id,name\n1,alpha\n'), Buffer.from([0xe2, 0x82, 0xac, 0x0a])]);

let cloud: Awaited<ReturnType<typeof startTestCloud>>;
let site: Server;
let origin: string;
/** The same server by a name the egress guard refuses (only 127.0.0.1 is allowed). */
let refusedOrigin: string;

const pages = (): Record<string, string> => ({
  // The images are asked for only once the script has logged: its messages come first.
  '/': `<!doctype html><title>Home</title>
<script>
  console.log('one');
  console.warn('two');
  document.write('<img src="/missing.png"><img src="${refusedOrigin}/refused.png">' +
    '<img src="https://10.0.0.1/tunnel.png">');
  throw new Error('boom in the page');
</script>
<a id="dl" href="/report.csv">report</a>
<button id="pop" onclick="window.open('/two')">popup</button>`,
  '/two': '<!doctype html><title>Two</title><p>two</p>',
  '/three': '<!doctype html><title>Three</title><p>three</p>',
});

beforeAll(async () => {
  site = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/report.csv') {
      res.writeHead(200, {
        'content-type': 'text/csv',
        'content-disposition': 'attachment; filename="report.csv"',
      });
      res.end(CSV);
      return;
    }
    const page = pages()[path];
    res.writeHead(page === undefined ? 404 : 200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(page ?? 'not found');
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  const { port } = site.address() as AddressInfo;
  origin = `http://127.0.0.1:${port}`;
  refusedOrigin = `http://localhost:${port}`;
  cloud = await startTestCloud({ lambdaTier: false });
});
afterAll(async () => {
  await cloud?.dispose();
  site?.closeAllConnections();
  await new Promise((resolve) => site?.close(resolve));
});

/** A live session with a client attached to it. */
const liveSession = async (): Promise<{ id: string; cdpUrl: string; ws: WsClient }> => {
  const api = apiClient(cloud.url, cloud.apiKey);
  const created = await api.call('POST', '/v1/sessions', {
    body: JSON.stringify({ viewport: { width: 800, height: 600 } }),
    headers: { 'content-type': 'application/json' },
  });
  expect(created.status).toBe(201);
  const deadline = Date.now() + 45_000;
  let row = created.body;
  while (row.status !== 'live') {
    if (Date.now() > deadline) throw new Error(`session still ${row.status}`);
    await new Promise((r) => setTimeout(r, 50));
    row = (await api.call('GET', `/v1/sessions/${created.body.id}`)).body;
  }
  const ws = await connectWs(cloud.wsUrl, { apiKey: cloud.apiKey });
  ws.send({ action: 'attach', sessionId: row.id });
  await ws.next((m) => m.type === 'attached');
  return { id: row.id, cdpUrl: row.cdpUrl, ws };
};

interface ConsoleMessage {
  seq: number;
  level: string;
  text: string;
  at: string;
  url?: string;
}
interface NetworkRequest {
  seq: number;
  method: string;
  url: string;
  resourceType: string;
  status?: number;
  failure?: string;
  blockedByEgress?: boolean;
}
interface Tab {
  index: number;
  url: string;
  title: string;
  active: boolean;
}
type LogPage<K extends string, T> = { [key in K]: T[] } & { nextCursor: number; dropped?: number };

const close = async (id: string, ws: WsClient) => {
  ws.close();
  await apiClient(cloud.url, cloud.apiKey).call('DELETE', `/v1/sessions/${id}`);
};

/** Asks `command` again until `done` holds of its answer: state the page reaches on its own. */
const until = async <T>(ask: () => Promise<T>, done: (answer: T) => boolean, what: string): Promise<T> => {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const answer = await ask();
    if (done(answer)) return answer;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(answer)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

describe('what a live session saw', () => {
  it('console since a cursor, the network log with statuses and refusals, and downloads', async () => {
    const { id, ws } = await liveSession();
    try {
      await ws.command('navigate', { url: `${origin}/` });
      // The page's own error is its last word while loading.
      await ws.next((m) => m.type === 'pageerror');

      const first: LogPage<'messages', ConsoleMessage> = await ws.command('console', { limit: 3 });
      expect(first.messages.map((m) => [m.level, m.text.split('\n')[0]])).toEqual([
        ['log', 'one'],
        ['warn', 'two'],
        // A page error, as the error it is.
        ['error', 'Error: boom in the page'],
      ]);
      expect(first.messages[0]?.url).toBe(`${origin}/`);
      // The rest, after the cursor: Chromium's own words on the page's failed loads.
      const rest: LogPage<'messages', ConsoleMessage> = await ws.command('console', {
        cursor: first.nextCursor,
      });
      expect(rest.messages.every((m) => m.seq > first.nextCursor)).toBe(true);
      expect(rest.messages.map((m) => m.text)).toContainEqual(expect.stringMatching(/404/));
      await ws.command('evaluate', { expression: "console.log('x'.repeat(5000)), 1" });
      const later = await ws.command('console', { cursor: rest.nextCursor });
      expect(later.messages).toHaveLength(1);
      // Cut, and saying so.
      expect(later.messages[0].text).toHaveLength(2_000);
      expect(later.messages[0].text).toMatch(/truncated\]$/);
      expect((await ws.command('console', { cursor: later.nextCursor })).messages).toEqual([]);

      const network: LogPage<'requests', NetworkRequest> = await ws.command('network', {});
      const byUrl = new Map(network.requests.map((r) => [r.url, r]));
      expect(byUrl.get(`${origin}/`)).toMatchObject({ method: 'GET', resourceType: 'document', status: 200 });
      expect(byUrl.get(`${origin}/missing.png`)).toMatchObject({ resourceType: 'image', status: 404 });
      expect(byUrl.get(`${origin}/missing.png`)?.blockedByEgress).toBeUndefined();
      expect(byUrl.get(`${refusedOrigin}/refused.png`)).toMatchObject({ status: 403, blockedByEgress: true });
      expect(byUrl.get('https://10.0.0.1/tunnel.png')).toMatchObject({
        failure: 'net::ERR_TUNNEL_CONNECTION_FAILED',
        blockedByEgress: true,
      });
      const seqs = network.requests.map((r) => r.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect((await ws.command('network', { cursor: network.nextCursor })).requests).toEqual([]);

      expect(await ws.command('downloads')).toEqual({ downloads: [] });
      await ws.command('click', { selector: '#dl' });
      const listed = await until<{ downloads: { name: string; url: string }[] }>(
        () => ws.command('downloads'),
        (a) => a.downloads.length === 1,
        'the download',
      );
      const [download] = listed.downloads;
      expect(download).toMatchObject({
        name: 'report.csv',
        size: CSV.length,
        contentType: 'text/csv',
      });
      const fetched = await fetch(download?.url ?? '');
      expect(fetched.status).toBe(200);
      expect(Buffer.from(await fetched.arrayBuffer()).equals(CSV)).toBe(true);
      // Stored once: asked again, the same object.
      const again = await ws.command('downloads');
      expect(again.downloads[0].url.split('?')[0]).toBe(download?.url.split('?')[0]);
      expect(new URL(download?.url ?? '').pathname).toContain(`/session-downloads/${id}/`);
    } finally {
      await close(id, ws);
    }
  });

  it('tabs: open, select and close, commands on the active one, popups listed, a bound', async () => {
    const { id, cdpUrl, ws } = await liveSession();
    try {
      const title = async () => (await ws.command('evaluate', { expression: 'document.title' })).value;
      await ws.command('navigate', { url: `${origin}/` });
      expect((await ws.command('tabs', { action: 'list' })).tabs).toEqual([
        { index: 0, url: `${origin}/`, title: 'Home', active: true },
      ]);

      const opened = await ws.command('tabs', { action: 'open', url: `${origin}/three` });
      expect((opened.tabs as Tab[]).map((t) => [t.index, t.title, t.active])).toEqual([
        [0, 'Home', false],
        [1, 'Three', true],
      ]);
      expect(await title()).toBe('Three');
      // An open the egress guard refuses fails, and leaves no tab behind.
      const refused = await ws.commandError('tabs', { action: 'open', url: `${refusedOrigin}/two` });
      expect(refused.error.code).toBe('DESTINATION_BLOCKED');
      expect((await ws.command('tabs', { action: 'list' })).tabs).toHaveLength(2);
      expect(await title()).toBe('Three');

      await ws.command('tabs', { action: 'select', index: 0 });
      expect(await title()).toBe('Home');
      // The page opens a tab itself: it is listed, and the active tab stays.
      await ws.command('click', { selector: '#pop' });
      const withPopup = await until<{ tabs: Tab[] }>(
        () => ws.command('tabs', { action: 'list' }),
        (a) => a.tabs.length === 3 && a.tabs[2]?.title === 'Two',
        'the popup',
      );
      expect(withPopup.tabs.map((t) => t.active)).toEqual([true, false, false]);
      const shot = await ws.command('screenshot', {});
      expect(shot.contentType).toBe('image/png');

      // Closing the active tab: the newest left takes over.
      const closed = await ws.command('tabs', { action: 'close', index: 0 });
      expect((closed.tabs as Tab[]).map((t) => [t.title, t.active])).toEqual([
        ['Three', false],
        ['Two', true],
      ]);
      expect(await title()).toBe('Two');
      expect((await ws.commandError('tabs', { action: 'select', index: 5 })).error.code).toBe('NOT_FOUND');

      // The bound: as many tabs as allowed, then a clear refusal.
      for (let open = 2; open < MAX_SESSION_TABS; open++) await ws.command('tabs', { action: 'open' });
      const over = await ws.commandError('tabs', { action: 'open' });
      expect(over.error).toMatchObject({
        code: 'QUOTA_EXCEEDED',
        message: expect.stringContaining('close one'),
      });

      // Closing every tab leaves a blank one: a session always has a page.
      for (let left = MAX_SESSION_TABS; left > 0; left--)
        await ws.command('tabs', { action: 'close', index: 0 });
      const last = await ws.command('tabs', { action: 'list' });
      expect(last.tabs).toEqual([{ index: 0, url: 'about:blank', title: '', active: true }]);
      await ws.command('navigate', { url: `${origin}/two` });
      expect(await title()).toBe('Two');

      // The screencast shows the active tab: told apart here by each tab's viewport width.
      ws.send({ action: 'screencast', enabled: true });
      await ws.next((m) => m.type === 'frame' && m.metadata.width === 800);
      await ws.command('tabs', { action: 'open', url: `${origin}/two` });
      await ws.command('setViewport', { width: 400, height: 300 });
      // Chromium sends a frame when the page repaints: this one does.
      await ws.command('evaluate', { expression: "document.body.style.background = 'red'" });
      await ws.next((m) => m.type === 'frame' && m.metadata.width === 400);
      const seen = Math.max(...ws.messages.filter((m) => m.type === 'frame').map((m) => m.seq as number));
      await ws.command('tabs', { action: 'select', index: 0 });
      await ws.next((m) => m.type === 'frame' && m.seq > seen && m.metadata.width === 800);
      ws.send({ action: 'screencast', enabled: false });
      await ws.command('tabs', { action: 'close', index: 1 });

      // A CDP client closes the session's page and opens another: commands follow it.
      const browser = await puppeteer.connect({ browserWSEndpoint: cdpUrl, defaultViewport: null });
      const [ours] = await browser.pages();
      await ours!.close();
      const theirs = await browser.newPage();
      await theirs.goto(`${origin}/three`);
      await browser.disconnect();
      expect(await title()).toBe('Three');
    } finally {
      await close(id, ws);
    }
  });
});
