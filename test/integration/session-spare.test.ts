/**
 * The warm spare session browser (session-launcher.ts), on real Chromium: a session of the
 * default shape gets the browser that was launched before it was created; a session of
 * another shape launches its own; two sessions in a row share nothing (cookies,
 * localStorage) however the spare is handed on; a spare killed before it is taken is never
 * handed out; and the worker's drain leaves no Chromium and no profile dir behind.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { systemDnsResolver } from '../../shared/adapters/dns-resolver.js';
import { startEgressProxy } from '../../shared/adapters/egress-proxy.js';
import type { PuppeteerSessionBrowser } from '../../shared/adapters/puppeteer/session-browser.js';
import { PuppeteerSessionLauncher } from '../../shared/adapters/puppeteer/session-launcher.js';
import { parseEgressAllowList } from '../../shared/egress/egress-policy.js';
import type { SessionBrowserEvents } from '../../shared/session/ports.js';
import { newSession } from '../../shared/session/session.js';
import { createSessionInputSchema } from '../../shared/session/session-input.js';
import { FAST_ENGINE_ENV } from '../support/engine-env.js';
import { apiClient, type FixtureServer, startFixtureServer } from '../support/fixtures.js';
import { startTestCloud, TEST_API_KEY } from '../support/local-cloud.js';
import { spawnWorker } from '../support/worker-process.js';
import { connectWs, isLive } from '../support/ws-client.js';

interface SpareLog {
  event: string;
  pid: number;
  profileDir: string;
  sessionId?: string;
}

/** A launcher with a spare, and its log: `find` answers the first matching line, past or future. */
const spareLauncher = (site: FixtureServer) => {
  const logs: SpareLog[] = [];
  const waiters: { match: (l: SpareLog) => boolean; resolve: (l: SpareLog) => void }[] = [];
  const launcher = new PuppeteerSessionLauncher({
    hostEnv: process.env,
    proxy: async () => {
      const proxy = await startEgressProxy({
        allow: parseEgressAllowList(new URL(site.url).host),
        resolve: systemDnsResolver,
      });
      return {
        server: proxy.url,
        blocked: proxy.blocked,
        blockedTotal: proxy.blockedTotal,
        close: proxy.close,
      };
    },
    spare: true,
    log: (event, details) => {
      const line = { event, ...details } as SpareLog;
      logs.push(line);
      for (const w of [...waiters]) {
        if (!w.match(line)) continue;
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    },
  });
  const find = (event: string, where: (l: SpareLog) => boolean = () => true): Promise<SpareLog> => {
    const match = (l: SpareLog) => l.event === event && where(l);
    const seen = logs.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => waiters.push({ match, resolve }));
  };
  return { launcher, logs, find };
};

const ignore: SessionBrowserEvents = {
  onNavigation: () => {},
  onConsole: () => {},
  onPageError: () => {},
  onGone: () => {},
};

let ids = 0;
const session = (options: Record<string, unknown> = {}) =>
  newSession({
    id: `spare-${++ids}`,
    tenantId: 't',
    options: createSessionInputSchema.parse(options),
    now: Date.now(),
  });

/** Live (not zombie) processes in `pid`'s process group: the browser and its children. */
const processGroup = (pid: number): number[] =>
  readdirSync('/proc').flatMap((entry) => {
    if (!/^\d+$/.test(entry)) return [];
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return state !== 'Z' && Number(pgrp) === pid ? [Number(entry)] : [];
    } catch {
      return [];
    }
  });

const evaluate = (browser: PuppeteerSessionBrowser, expression: string) =>
  browser.execute('evaluate', { expression, args: [] }, 10_000) as Promise<{ value: unknown }>;

let site: FixtureServer;
/** Cookie headers the fixture was sent, in order. */
const cookieHeaders: (string | undefined)[] = [];
const opened: PuppeteerSessionBrowser[] = [];
const launchers: PuppeteerSessionLauncher[] = [];

beforeAll(async () => {
  site = await startFixtureServer({ '/': '<title>spare</title><p>fixture</p>' }, (req: IncomingMessage) => {
    if (req.url === '/') cookieHeaders.push(req.headers.cookie);
  });
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((b) => b.close()));
  await Promise.all(launchers.splice(0).map((l) => l.close()));
});
afterAll(async () => {
  await site?.close();
});

const start = () => {
  const spare = spareLauncher(site);
  launchers.push(spare.launcher);
  spare.launcher.warm();
  return spare;
};
const open = async (launcher: PuppeteerSessionLauncher, options?: Record<string, unknown>) => {
  const browser = (await launcher.launch(session(options), ignore)) as PuppeteerSessionBrowser;
  opened.push(browser);
  return browser;
};

describe('the warm spare session browser', { timeout: 60_000 }, () => {
  it('goes to a session of the default shape, started before the session was; then is replaced', async () => {
    const { launcher, find } = start();
    const ready = await find('session spare ready');
    const browser = await open(launcher, { userAgent: 'spare-test', timezoneId: 'Asia/Tokyo' });
    expect(browser.pid).toBe(ready.pid);
    // The session's own settings are on its page all the same.
    expect((await evaluate(browser, 'navigator.userAgent')).value).toBe('spare-test');
    expect((await evaluate(browser, 'Intl.DateTimeFormat().resolvedOptions().timeZone')).value).toBe(
      'Asia/Tokyo',
    );
    const replacement = await find('session spare ready', (l) => l.pid !== ready.pid);
    expect(replacement.pid).not.toBe(ready.pid);
    expect(replacement.profileDir).not.toBe(ready.profileDir);
  });

  it('is not given to a session whose launch flags differ (locale, window size)', async () => {
    const { launcher, find, logs } = start();
    const ready = await find('session spare ready');
    const german = await open(launcher, { locale: 'de-DE' });
    const wide = await open(launcher, { viewport: { width: 1600, height: 900 } });
    expect(german.pid).not.toBe(ready.pid);
    expect(wide.pid).not.toBe(ready.pid);
    expect(logs.filter((l) => l.event === 'session spare taken')).toEqual([]);
    // Still there for the next session that fits.
    expect((await open(launcher)).pid).toBe(ready.pid);
  });

  it('never carries one session’s cookies or localStorage into the next', async () => {
    const { launcher, find } = start();
    const first = await open(launcher);
    const firstTaken = await find('session spare taken');
    expect(first.pid).toBe(firstTaken.pid);
    await first.execute('navigate', { url: `${site.url}/`, waitUntil: 'load' }, 10_000);
    await evaluate(
      first,
      '() => { document.cookie = "who=first; max-age=3600; path=/"; localStorage.setItem("who", "first"); }',
    );
    await first.execute('navigate', { url: `${site.url}/`, waitUntil: 'load' }, 10_000);
    expect(cookieHeaders.at(-1)).toBe('who=first');
    expect((await evaluate(first, 'localStorage.getItem("who")')).value).toBe('first');
    await first.close();
    expect(processGroup(firstTaken.pid)).toEqual([]);
    expect(existsSync(firstTaken.profileDir)).toBe(false);

    // The next session takes the replacement spare: a browser of its own, with nothing in it.
    const second = await open(launcher);
    const secondTaken = await find('session spare taken', (l) => l.pid !== firstTaken.pid);
    expect(second.pid).toBe(secondTaken.pid);
    expect(second.pid).not.toBe(first.pid);
    await second.execute('navigate', { url: `${site.url}/`, waitUntil: 'load' }, 10_000);
    expect(cookieHeaders.at(-1)).toBeUndefined();
    expect((await evaluate(second, 'document.cookie')).value).toBe('');
    expect((await evaluate(second, 'localStorage.length')).value).toBe(0);
  });

  it('is never handed out once killed, taken at once or left idle, and is replaced', async () => {
    const { launcher, find } = start();
    // Killed and taken at once, before anything has seen it die.
    const ready = await find('session spare ready');
    process.kill(ready.pid, 'SIGKILL');
    const browser = await open(launcher);
    expect(browser.pid).not.toBe(ready.pid);
    expect((await evaluate(browser, '6 * 7')).value).toBe(42);
    expect(existsSync(ready.profileDir)).toBe(false);

    // Killed while idle: discarded when its browser goes, and a new one launched.
    const used = [ready.pid, browser.pid];
    const idle = await find('session spare ready', (l) => !used.includes(l.pid));
    process.kill(idle.pid, 'SIGKILL');
    await find('session spare closed', (l) => l.pid === idle.pid);
    expect(existsSync(idle.profileDir)).toBe(false);
    const replacement = await find('session spare ready', (l) => ![...used, idle.pid].includes(l.pid));
    expect((await open(launcher)).pid).toBe(replacement.pid);
  });

  it('leaves no Chromium and no profile dir once closed, a spare still launching included', async () => {
    const up = start();
    const ready = await up.find('session spare ready');
    await up.launcher.close();
    expect(processGroup(ready.pid)).toEqual([]);
    expect(existsSync(ready.profileDir)).toBe(false);

    // Closed before its spare is up: the spare is closed the moment it is.
    const early = start();
    await early.launcher.close();
    const late = await early.find('session spare ready');
    await early.find('session spare closed', (l) => l.pid === late.pid);
    expect(processGroup(late.pid)).toEqual([]);
    expect(existsSync(late.profileDir)).toBe(false);
    // A closed launcher keeps no spare: a session launches its own.
    const own = await open(early.launcher);
    expect(own.pid).not.toBe(late.pid);
  });
});

describe("a fleet worker's spare", { timeout: 120_000 }, () => {
  let cloud: Awaited<ReturnType<typeof startTestCloud>>;
  beforeAll(async () => {
    cloud = await startTestCloud({ worker: false, lambdaTier: false, extraEnv: { ...FAST_ENGINE_ENV } });
  });
  afterAll(async () => {
    await cloud?.dispose();
  });

  it('is ready before the first session, goes to it, and drains with the worker', async () => {
    const worker = spawnWorker(cloud.env, 'spare-drain', { SESSION_SPARE_BROWSER: '1' });
    try {
      const spareLog = async (message: string, not?: number) =>
        (await worker.waitForLog((l) => l.message === message && l.pid !== not)) as unknown as SpareLog;
      const ready = await spareLog('session spare ready');
      const api = apiClient(cloud.url, TEST_API_KEY);
      const ws = await connectWs(cloud.wsUrl, { apiKey: TEST_API_KEY });
      const created = await api.call('POST', '/v1/sessions', {
        body: '{}',
        headers: { 'content-type': 'application/json' },
      });
      expect(created.status).toBe(201);
      ws.send({ action: 'attach', sessionId: created.body.id });
      await ws.next((m) => m.sessionId === created.body.id && isLive(m), 45_000);
      ws.close();
      const taken = await spareLog('session spare taken');
      expect(taken).toMatchObject({ sessionId: created.body.id, pid: ready.pid });
      const replacement = await spareLog('session spare ready', ready.pid);

      worker.kill('SIGTERM');
      expect(await worker.exited).toEqual({ code: 0, signal: null });
      // Closed by the drain: Chromium killed by the kernel as the worker exited would have
      // left its profile dir behind.
      expect(worker.logs).toContainEqual(
        expect.objectContaining({ message: 'session spare closed', pid: replacement.pid }),
      );
      for (const log of [ready, replacement]) {
        expect(processGroup(log.pid)).toEqual([]);
        expect(existsSync(log.profileDir)).toBe(false);
      }
    } finally {
      worker.kill('SIGKILL');
      await worker.exited;
    }
  });
});
