/**
 * Live sessions end to end, through the real protocols: the HTTP API, the WebSocket API on
 * the local gateway (a `ws` client), the worker's inbox, PostToConnection, real Chromium.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium as playwright } from 'playwright-core';
import puppeteer, { type ElementHandle } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients, destroyAwsClients } from '../../shared/adapters/aws-clients.js';
import { DynamoDbTenantStore } from '../../shared/adapters/dynamodb-tenant-store.js';
import { systemClock } from '../../shared/clock.js';
import { issueTicket } from '../../shared/session/ticket.js';
import { createApiKey, upsertTenant } from '../../shared/tenancy/manage-tenants.js';
import type { TenantLimits } from '../../shared/tenancy/tenant.js';
import { apiClient, type FixtureServer, pngSize, startFixtureServer } from '../support/fixtures.js';
import { startTestCloud } from '../support/local-cloud.js';
import { connectWs, isLive } from '../support/ws-client.js';

const PAGE = `<!doctype html><html><head><title>Fixture session page</title></head><body>
<h1 id="h">before</h1>
<button id="b" style="position:absolute;left:40px;top:120px;width:200px;height:60px"
  onclick="document.getElementById('h').textContent='clicked ' + (++window.clicks)">Press</button>
<input id="i" style="position:absolute;left:40px;top:220px">
<script>window.clicks = 0; console.log('fixture says hi');</script>
</body></html>`;

let cloud: Awaited<ReturnType<typeof startTestCloud>>;
let fixtures: FixtureServer;
let admin: { tenants: DynamoDbTenantStore; clock: typeof systemClock; random: typeof randomBytes };
let disposeClients: () => void;

beforeAll(async () => {
  fixtures = await startFixtureServer({ '/': PAGE, '/two': '<title>Two</title><p>two</p>' });
  cloud = await startTestCloud({ lambdaTier: false });
  const clients = createAwsClients({ region: 'us-east-1', endpoints: cloud.endpoints });
  disposeClients = () => destroyAwsClients(clients);
  admin = {
    tenants: new DynamoDbTenantStore(clients.dynamo, cloud.names.stateTable),
    clock: systemClock,
    random: randomBytes,
  };
});
afterAll(async () => {
  disposeClients?.();
  await cloud?.dispose();
  await fixtures?.close();
});

const tenantWith = async (tenantId: string, limits: Partial<TenantLimits> = {}) => {
  await upsertTenant(admin, { tenantId, limits: { requestsPerSecond: 1000, burst: 1000, ...limits } });
  const { key } = await createApiKey(admin, { tenantId });
  return { key, api: apiClient(cloud.url, key) };
};

const createSession = async (api: ReturnType<typeof apiClient>, body: Record<string, unknown> = {}) => {
  const res = await api.call('POST', '/v1/sessions', {
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
};

/** Polls the session (the HTTP API has no wait for sessions) until it reaches `status`. */
const untilStatus = async (
  api: ReturnType<typeof apiClient>,
  id: string,
  status: string,
  // Each session starts a Chromium of its own: generous for a loaded machine.
  timeoutMs = 45_000,
) => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await api.call('GET', `/v1/sessions/${id}`);
    if (res.body.status === status) return res.body;
    if (Date.now() > deadline) throw new Error(`session ${id} still ${res.body.status}, wanted ${status}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe('a live session over the WebSocket API', () => {
  it('create → attach → navigate → click → type → evaluate → screenshot → close, with events', async () => {
    const api = apiClient(cloud.url, cloud.apiKey);
    const created = await createSession(api, {
      viewport: { width: 800, height: 600 },
      idleTimeoutMs: 60_000,
    });
    expect(created).toMatchObject({
      status: 'pending',
      timeoutMs: 900_000,
      idleTimeoutMs: 60_000,
      websocketUrl: cloud.wsUrl,
    });
    const live = await untilStatus(api, created.id, 'live');
    expect(live.cdpUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/v1\/sessions\/.+\/cdp\?ticket=/);

    const ws = await connectWs(cloud.wsUrl, { apiKey: cloud.apiKey });
    ws.send({ action: 'attach', sessionId: created.id });
    expect(await ws.next((m) => m.type === 'attached')).toMatchObject({
      sessionId: created.id,
      status: 'live',
    });

    const nav = await ws.command('navigate', { url: `${fixtures.url}/` });
    expect(nav).toEqual({ url: `${fixtures.url}/`, status: 200 });
    await ws.next((m) => m.type === 'navigation' && m.url === `${fixtures.url}/`);
    expect(await ws.next((m) => m.type === 'console')).toMatchObject({
      level: 'log',
      text: 'fixture says hi',
    });

    await ws.command('click', { selector: '#b' });
    await ws.command('click', { x: 100, y: 150 });
    expect(
      (await ws.command('evaluate', { expression: "() => document.getElementById('h').textContent" })).value,
    ).toBe('clicked 2');

    await ws.command('click', { selector: '#i' });
    await ws.command('type', { text: 'hello' });
    await ws.command('press', { key: 'Enter' });
    expect(
      (
        await ws.command('evaluate', {
          expression: '(sel) => document.querySelector(sel).value',
          args: ['#i'],
        })
      ).value,
    ).toBe('hello');

    const shot = await ws.command('screenshot', { format: 'png' });
    expect(shot.contentType).toBe('image/png');
    const png = new Uint8Array(await (await fetch(shot.url)).arrayBuffer());
    expect(png.length).toBe(shot.size);
    expect(pngSize(png)).toEqual({ width: 800, height: 600 });

    await ws.command('navigate', { url: `${fixtures.url}/two` });
    expect((await ws.command('back')).url).toBe(`${fixtures.url}/`);
    expect((await ws.command('forward')).url).toBe(`${fixtures.url}/two`);
    await ws.command('setViewport', { width: 640, height: 480 });
    expect((await ws.command('evaluate', { expression: 'innerWidth' })).value).toBe(640);

    // Bad input answers an error with the command's id, and the session lives on.
    const bad = await ws.commandError('navigate', { url: 'file:///etc/passwd' });
    expect(bad.error.code).toBe('VALIDATION_FAILED');
    expect(bad.error.message).toContain('params.url');
    // The egress guard holds for sessions too: the metadata endpoint (http and https), a private address.
    for (const url of [
      'http://169.254.169.254/latest/meta-data/',
      'https://169.254.169.254/',
      'http://10.0.0.1/',
    ]) {
      const blocked = await ws.commandError('navigate', { url });
      expect(blocked.error.code, url).toBe('DESTINATION_BLOCKED');
    }
    const thrown = await ws.commandError('evaluate', { expression: '() => { throw new Error("boom") }' });
    expect(thrown.error.code).toBe('SCRIPT_ERROR');
    ws.send({ action: 'dance' });
    expect((await ws.next((m) => m.type === 'error' && m.error.message.includes('dance'))).error.code).toBe(
      'VALIDATION_FAILED',
    );

    const closed = await api.call('DELETE', `/v1/sessions/${created.id}`);
    expect(closed.status).toBe(200);
    expect(closed.body).toMatchObject({ status: 'closed', endReason: { code: 'CLOSED_BY_CLIENT' } });
    expect((await ws.next((m) => m.type === 'closed')).reason.code).toBe('CLOSED_BY_CLIENT');
    const after = await ws.commandError('evaluate', { expression: '1' });
    expect(after.error.code).toBe('SESSION_NOT_LIVE');
    ws.close();
  });

  it("refuses another tenant's session: 404 over HTTP, NOT_FOUND on attach", async () => {
    const alpha = await tenantWith('s-alpha');
    const beta = await tenantWith('s-beta');
    const mine = await createSession(alpha.api);
    expect((await beta.api.call('GET', `/v1/sessions/${mine.id}`)).status).toBe(404);
    expect((await beta.api.call('DELETE', `/v1/sessions/${mine.id}`)).status).toBe(404);
    expect((await beta.api.call('GET', '/v1/sessions')).body.sessions).toEqual([]);
    expect(
      (await alpha.api.call('GET', '/v1/sessions')).body.sessions.map((s: { id: string }) => s.id),
    ).toEqual([mine.id]);

    const ws = await connectWs(cloud.wsUrl, { apiKey: beta.key });
    ws.send({ action: 'attach', sessionId: mine.id });
    const refused = await ws.next((m) => m.type === 'error');
    expect(refused.error).toEqual({ code: 'NOT_FOUND', message: `Session ${mine.id} not found.` });
    // Not attached, so commands go nowhere.
    expect((await ws.commandError('evaluate', { expression: '1' })).error.code).toBe('NOT_ATTACHED');
    ws.close();
    await alpha.api.call('DELETE', `/v1/sessions/${mine.id}`);
  });

  it('refuses a WebSocket handshake without a valid key or ticket', async () => {
    await expect(connectWs(cloud.wsUrl)).rejects.toMatchObject({ status: 401 });
    await expect(connectWs(cloud.wsUrl, { apiKey: 'bf_nope_nope' })).rejects.toMatchObject({ status: 401 });
    await expect(connectWs(`${cloud.wsUrl}?ticket=forged.ticket`)).rejects.toMatchObject({ status: 401 });
    // A connect counts against the tenant's request rate.
    // One token per 100 s: however slowly the four arrive, none refills in between.
    const slow = await tenantWith('s-slow', { requestsPerSecond: 0.01, burst: 2 });
    const results = await Promise.allSettled(
      [1, 2, 3, 4].map(() => connectWs(cloud.wsUrl, { apiKey: slow.key })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
    for (const r of results) {
      if (r.status === 'rejected') expect(r.reason).toMatchObject({ status: 429 });
      else r.value.close();
    }
  });

  it('enforces the live-session quota at create', async () => {
    const t = await tenantWith('s-quota', { maxLiveSessions: 2 });
    const created = await Promise.all(
      [1, 2, 3, 4].map(() =>
        t.api.call('POST', '/v1/sessions', { body: '{}', headers: { 'content-type': 'application/json' } }),
      ),
    );
    const statuses = created.map((r) => r.status).sort();
    expect(statuses).toEqual([201, 201, 429, 429]);
    const refused = created.find((r) => r.status === 429);
    expect(refused?.body.error.code).toBe('QUOTA_EXCEEDED');
    expect(refused?.headers.get('retry-after')).toBe('5');
    const limits = await t.api.call('GET', '/v1/limits');
    expect(limits.body.usage.liveSessions).toBe(2);
    for (const r of created.filter((c) => c.status === 201))
      await t.api.call('DELETE', `/v1/sessions/${r.body.id}`);
    expect((await t.api.call('GET', '/v1/limits')).body.usage.liveSessions).toBe(0);
  });

  it('ends an idle session with IDLE_TIMEOUT, and a session at its timeout with SESSION_TIMEOUT told to the client', async () => {
    const api = apiClient(cloud.url, cloud.apiKey);
    const idle = await createSession(api, { idleTimeoutMs: 1_000 });
    const ended = await untilStatus(api, idle.id, 'closed');
    expect(ended.endReason).toEqual({
      code: 'IDLE_TIMEOUT',
      message: 'No command and no attached client for the idle timeout.',
    });

    const timed = await createSession(api, { timeoutMs: 3_000, idleTimeoutMs: 1_000 });
    const ws = await connectWs(cloud.wsUrl, { apiKey: cloud.apiKey });
    ws.send({ action: 'attach', sessionId: timed.id });
    // The timeout runs from when it went live (its own Chromium may take a while to start).
    await ws.next(isLive, 45_000);
    // Attached, so not idle: it runs to its absolute timeout and the client is told why.
    const closed = await ws.next((m) => m.type === 'closed', 15_000);
    expect(closed.reason.code).toBe('SESSION_TIMEOUT');
    expect((await untilStatus(api, timed.id, 'closed')).endReason.code).toBe('SESSION_TIMEOUT');
    ws.close();
  });

  it('lets a client reconnect and re-attach', async () => {
    const api = apiClient(cloud.url, cloud.apiKey);
    const s = await createSession(api);
    await untilStatus(api, s.id, 'live');
    const first = await connectWs(cloud.wsUrl, { apiKey: cloud.apiKey });
    first.send({ action: 'attach', sessionId: s.id });
    await first.next((m) => m.type === 'attached');
    await first.command('navigate', { url: `${fixtures.url}/two` });
    first.socket.terminate();
    await first.closed;

    const second = await connectWs(cloud.wsUrl, { apiKey: cloud.apiKey });
    second.send({ action: 'attach', sessionId: s.id });
    expect((await second.next((m) => m.type === 'attached')).status).toBe('live');
    // Same browser, same page: the state survived the reconnect.
    expect((await second.command('evaluate', { expression: 'document.title' })).value).toBe('Two');
    second.send({ action: 'ping' });
    expect((await second.next((m) => m.type === 'pong')).at).toBeGreaterThan(0);
    // A fresh live-view ticket, good for a connection of its own (a viewer reconnecting
    // after the one it was opened with expired).
    second.send({ action: 'ticket' });
    const renewed = await second.next((m) => m.type === 'ticket');
    expect(renewed).toMatchObject({ sessionId: s.id, ticket: expect.any(String) });
    expect(Date.parse(renewed.expiresAt)).toBeGreaterThan(Date.now() + 5 * 60_000);
    const viaTicket = await connectWs(`${cloud.wsUrl}?ticket=${encodeURIComponent(renewed.ticket)}`);
    viaTicket.send({ action: 'attach', sessionId: s.id });
    expect((await viaTicket.next((m) => m.type === 'attached')).status).toBe('live');
    viaTicket.close();
    second.send({ action: 'detach' });
    expect(await second.next((m) => m.type === 'detached')).toMatchObject({ sessionId: s.id });
    second.close();
    await api.call('DELETE', `/v1/sessions/${s.id}`);
  });
});

describe('bad input over the WebSocket API', () => {
  it('answers every malformed message with an error naming the problem, and keeps the connection', async () => {
    const api = apiClient(cloud.url, cloud.apiKey);
    const s = await createSession(api);
    await untilStatus(api, s.id, 'live');
    const ws = await connectWs(cloud.wsUrl, { apiKey: cloud.apiKey });
    const errors = () => ws.messages.filter((m) => m.type === 'error');
    const bad: (string | Buffer)[] = [
      'not json',
      '[]',
      'null',
      '42',
      JSON.stringify({ action: 7 }),
      JSON.stringify({ action: 'attach' }),
      JSON.stringify({ action: 'attach', sessionId: 'x'.repeat(500) }),
      JSON.stringify({ action: 'attach', sessionId: s.id, extra: true }),
      JSON.stringify({
        action: 'command',
        id: 'n1',
        method: 'navigate',
        params: { url: 'https://example.com/' },
      }),
      JSON.stringify({ action: 'screencast', enabled: 'yes' }),
      Buffer.from([0xff, 0x00, 0x12]),
    ];
    for (const m of bad) ws.socket.send(m);
    await expect.poll(() => errors().length, { timeout: 10_000 }).toBe(bad.length);
    const codes = errors().map((e) => e.error.code);
    expect(new Set(codes)).toEqual(new Set(['MALFORMED_JSON', 'VALIDATION_FAILED', 'NOT_ATTACHED']));
    expect(errors().find((e) => e.id === 'n1')?.error.code).toBe('NOT_ATTACHED');
    expect(errors().some((e) => e.error.message.includes('extra: is not a recognized field'))).toBe(true);
    // Attached now, the bad command params are named too.
    ws.send({ action: 'attach', sessionId: s.id });
    await ws.next((m) => m.type === 'attached');
    for (const [method, params, field] of [
      ['click', { selector: '' }, 'params'],
      ['scroll', { deltaY: 'far' }, 'params.deltaY'],
      ['setViewport', { width: 99_999, height: 10 }, 'params.width'],
      ['evaluate', { expression: '1', args: 'nope' }, 'params.args'],
    ] as const) {
      const answer = await ws.commandError(method, params as Record<string, unknown>);
      expect(answer.error.code, method).toBe('VALIDATION_FAILED');
      expect(answer.error.message, method).toContain(field);
    }
    ws.send({ action: 'command', id: 'm1', method: 'fly', params: {} });
    expect((await ws.next((m) => m.type === 'error' && m.id === 'm1')).error.message).toContain('method');
    ws.send({ action: 'ping' });
    await ws.next((m) => m.type === 'pong');
    // Over API Gateway's 128 KB message limit: the connection is closed, as API Gateway does.
    ws.socket.send('x'.repeat(129 * 1024));
    expect((await ws.closed).code).toBe(1009);
    // The session itself is untouched.
    expect((await api.call('GET', `/v1/sessions/${s.id}`)).body.status).toBe('live');
    await api.call('DELETE', `/v1/sessions/${s.id}`);
  });
});

describe('CDP connect', () => {
  it('puppeteer.connect to cdpUrl drives the session; forged and expired tickets are refused', async () => {
    const api = apiClient(cloud.url, cloud.apiKey);
    const s = await createSession(api);
    const live = await untilStatus(api, s.id, 'live');
    const browser = await puppeteer.connect({ browserWSEndpoint: live.cdpUrl, defaultViewport: null });
    const [page] = await browser.pages();
    await page!.goto(`${fixtures.url}/`);
    expect(await page!.title()).toBe('Fixture session page');
    await browser.disconnect();

    // The WebSocket API sees what the CDP client did: one browser, one page.
    const ws = await connectWs(cloud.wsUrl, { apiKey: cloud.apiKey });
    ws.send({ action: 'attach', sessionId: s.id });
    await ws.next((m) => m.type === 'attached');
    expect((await ws.command('evaluate', { expression: 'document.title' })).value).toBe(
      'Fixture session page',
    );
    ws.close();

    const base = live.cdpUrl.split('?')[0];
    const secret = cloud.env.SESSION_TICKET_SECRET!;
    const forged = issueTicket('x'.repeat(64), {
      sid: s.id,
      tid: 'local',
      scope: 'cdp',
      exp: Math.floor(Date.now() / 1000) + 60,
    });
    const expired = issueTicket(secret, {
      sid: s.id,
      tid: 'local',
      scope: 'cdp',
      exp: Math.floor(Date.now() / 1000) - 1,
    });
    const liveScope = issueTicket(secret, {
      sid: s.id,
      tid: 'local',
      scope: 'live',
      exp: Math.floor(Date.now() / 1000) + 60,
    });
    const otherSession = issueTicket(secret, {
      sid: 'another-session',
      tid: 'local',
      scope: 'cdp',
      exp: Math.floor(Date.now() / 1000) + 60,
    });
    for (const ticket of [forged, expired, liveScope, otherSession, 'garbage']) {
      await expect(
        puppeteer.connect({ browserWSEndpoint: `${base}?ticket=${ticket}`, protocolTimeout: 5_000 }),
      ).rejects.toThrow(/401/);
    }
    await api.call('DELETE', `/v1/sessions/${s.id}`);
  });

  it('refuses a browser context with its own proxy (it would skip the egress guard); a plain context stays behind the guard', async () => {
    const api = apiClient(cloud.url, cloud.apiKey);
    const s = await createSession(api);
    const live = await untilStatus(api, s.id, 'live');
    const browser = await puppeteer.connect({ browserWSEndpoint: live.cdpUrl, defaultViewport: null });
    await expect(browser.createBrowserContext({ proxyServer: 'direct://' })).rejects.toThrow(/egress guard/);
    await expect(
      browser.createBrowserContext({ proxyServer: 'http://127.0.0.1:1', proxyBypassList: ['localhost'] }),
    ).rejects.toThrow(/egress guard/);
    expect(browser.browserContexts()).toHaveLength(1);

    // The connection and the session's page carry on.
    const [page] = await browser.pages();
    await page!.goto(`${fixtures.url}/`);
    expect(await page!.title()).toBe('Fixture session page');

    // A plain context inherits the session's proxy: an allowed address loads, and the same
    // fixture server as `localhost` (loopback, not in EGRESS_ALLOW) is refused by the guard.
    // Were the context off the proxy, `localhost` would load the page.
    const context = await browser.createBrowserContext();
    const inContext = await context.newPage();
    await inContext.goto(`${fixtures.url}/two`);
    expect(await inContext.title()).toBe('Two');
    const blocked = await inContext.goto(`${fixtures.url.replace('127.0.0.1', 'localhost')}/two`);
    expect(blocked?.status()).toBe(403);
    expect(await inContext.evaluate(() => document.body.innerText)).toMatch(/Blocked by the egress guard/);
    await context.close();

    expect(await page!.title()).toBe('Fixture session page');
    await browser.disconnect();
    expect((await api.call('GET', `/v1/sessions/${s.id}`)).body.status).toBe('live');
    await api.call('DELETE', `/v1/sessions/${s.id}`);
  });

  it("sends a CDP client's downloads to the session's own dir, not the path it names", async () => {
    const api = apiClient(cloud.url, cloud.apiKey);
    const s = await createSession(api);
    const live = await untilStatus(api, s.id, 'live');
    const browser = await puppeteer.connect({ browserWSEndpoint: live.cdpUrl, defaultViewport: null });
    const planted = mkdtempSync(join(tmpdir(), 'bf-planted-'));
    try {
      const cdp = await browser.target().createCDPSession();
      await cdp.send('Browser.setDownloadBehavior', {
        behavior: 'allow',
        downloadPath: planted,
        eventsEnabled: true,
      });
      const completed = new Promise<void>((resolve) => {
        cdp.on('Browser.downloadProgress', (e) => {
          if (e.state === 'completed') resolve();
        });
      });
      const [page] = await browser.pages();
      await page!.goto(`${fixtures.url}/`);
      await page!.evaluate(() => {
        const a = document.createElement('a');
        a.href = 'data:text/plain,planted?';
        a.download = 'planted.txt';
        document.body.append(a);
        a.click();
      });
      await completed;
      // Written, but not where the client asked: the path it named stays empty.
      expect(readdirSync(planted)).toEqual([]);
      await browser.disconnect();
    } finally {
      rmSync(planted, { recursive: true, force: true });
      await api.call('DELETE', `/v1/sessions/${s.id}`);
    }
  });

  it("refuses CDP commands that would read the worker's disk: a file: navigation, a file upload", async () => {
    const api = apiClient(cloud.url, cloud.apiKey);
    const s = await createSession(api);
    const live = await untilStatus(api, s.id, 'live');
    const browser = await puppeteer.connect({ browserWSEndpoint: live.cdpUrl, defaultViewport: null });
    const [page] = await browser.pages();
    await expect(page!.goto('file:///etc/passwd')).rejects.toThrow(/disk/);
    await page!.setContent('<input type="file" id="f">');
    const input = (await page!.$('input#f')) as ElementHandle<HTMLInputElement> | null;
    await expect(input!.uploadFile('/etc/passwd')).rejects.toThrow(/disk/);
    expect(await page!.$eval('#f', (el) => (el as HTMLInputElement).files?.length)).toBe(0);
    // New pages (about:blank) and web navigations still work.
    const second = await browser.newPage();
    await second.goto(`${fixtures.url}/two`);
    expect(await second.title()).toBe('Two');
    await browser.disconnect();
    await api.call('DELETE', `/v1/sessions/${s.id}`);
  });

  it("Playwright's connectOverCDP drives the session too", async () => {
    const api = apiClient(cloud.url, cloud.apiKey);
    const s = await createSession(api);
    const live = await untilStatus(api, s.id, 'live');
    const browser = await playwright.connectOverCDP(live.cdpUrl, { timeout: 30_000 });
    const page = browser.contexts()[0]?.pages()[0];
    expect(page).toBeDefined();
    await page!.goto(`${fixtures.url}/two`);
    expect(await page!.title()).toBe('Two');
    // Closing Playwright's side of the connection leaves the session running.
    await browser.close();
    expect((await api.call('GET', `/v1/sessions/${s.id}`)).body.status).toBe('live');
    await api.call('DELETE', `/v1/sessions/${s.id}`);
  });
});
