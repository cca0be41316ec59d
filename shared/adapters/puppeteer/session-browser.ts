/**
 * A live session's browser: its own Chromium (not a context in the task pool's browser),
 * because a CDP client gets the whole browser it connects to — it must find nothing of
 * anyone else's there. Puppeteer drives it over a pipe, so if the worker dies, even by
 * SIGKILL, the pipe closes and Chromium exits with it; CDP clients reach it on a loopback
 * DevTools port, only through the worker's CDP router (which checks the ticket).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, CDPSession, Page } from 'puppeteer-core';
import type { z } from 'zod';
import { BrowserfleetError, ERROR_CODES } from '../../errors.js';
import type {
  ScreencastFrame,
  SessionBrowser,
  SessionBrowserEvents,
  SessionLauncher,
} from '../../session/ports.js';
import type { Session } from '../../session/session.js';
import {
  type COMMAND_PARAMS,
  type CommandMethod,
  MAX_EVALUATE_RESULT_BYTES,
} from '../../session/session-input.js';
import { blockedNavigationError, refusalBehindNavigationError } from '../egress-proxy.js';
import { compiledInPage, evaluateBounded, jsonOf } from './bounded-evaluate.js';
import { withDeadline } from './command-deadline.js';
import { closeChromium, type HostEnv, type LaunchedChromium, launchChromium } from './launch-chromium.js';
import { translateSessionCommandError } from './puppeteer-errors.js';

/** How long Chromium may take to write its DevTools port file after launch. */
const DEVTOOLS_PORT_WAIT_MS = 5_000;
/** A keyframe waits for the page's next paint; mid-navigation that can take a moment, not more. */
const KEYFRAME_TIMEOUT_MS = 3_000;

/** A screenshot shaped like a screencast frame: JPEG, scaled down to the caps, CSS-pixel size. */
const captureKeyframe = async (
  session: CDPSession,
  caps: { quality: number; maxWidth: number; maxHeight: number },
): Promise<ScreencastFrame> => {
  const { cssVisualViewport: v } = await session.send('Page.getLayoutMetrics');
  const scale = Math.min(1, caps.maxWidth / v.clientWidth, caps.maxHeight / v.clientHeight);
  const { data } = await session.send('Page.captureScreenshot', {
    format: 'jpeg',
    quality: caps.quality,
    clip: { x: v.pageX, y: v.pageY, width: v.clientWidth, height: v.clientHeight, scale },
    optimizeForSpeed: true,
  });
  return { data, width: v.clientWidth, height: v.clientHeight, timestamp: Date.now() / 1000 };
};

export interface SessionLauncherOptions {
  hostEnv: HostEnv;
  executablePath?: string | undefined;
  /** A per-session egress proxy (the same guard as tasks); `close` when the session ends. */
  proxy: () => Promise<{
    server: string;
    blocked(): { url: string; reason: string }[];
    blockedTotal(): number;
    close(): Promise<unknown>;
  }>;
}

type Params<M extends CommandMethod> = z.output<(typeof COMMAND_PARAMS)[M]>;

export class PuppeteerSessionLauncher implements SessionLauncher {
  constructor(private readonly options: SessionLauncherOptions) {}

  async launch(session: Session, events: SessionBrowserEvents): Promise<SessionBrowser> {
    const proxy = await this.options.proxy();
    let launched: LaunchedChromium | undefined;
    try {
      launched = await launchChromium({
        hostEnv: this.options.hostEnv,
        executablePath: this.options.executablePath,
        dieWithParent: true,
        defaultViewport: null,
        extraArgs: [
          // Puppeteer's own CDP stays on the pipe (it would take the port instead once one is
          // named), where every message Chromium sends it is size-limited (launch-chromium.ts).
          '--remote-debugging-pipe',
          // The CDP endpoint for `puppeteer.connect`, on loopback only; port 0 = any free one.
          '--remote-debugging-port=0',
          '--remote-debugging-address=127.0.0.1',
          // Everything the session's pages load goes through the egress guard, loopback too.
          `--proxy-server=${proxy.server}`,
          '--proxy-bypass-list=<-loopback>',
          `--window-size=${session.options.viewport.width},${session.options.viewport.height}`,
          ...(session.options.locale === undefined ? [] : [`--lang=${session.options.locale}`]),
        ],
      });
      const { browser, profileDir } = launched;
      const cdpEndpoint = await readDevToolsEndpoint(profileDir);
      const page = (await browser.pages())[0] ?? (await browser.newPage());
      await page.setViewport(session.options.viewport);
      if (session.options.userAgent !== undefined)
        await page.setUserAgent({ userAgent: session.options.userAgent });
      if (session.options.timezoneId !== undefined) await page.emulateTimezone(session.options.timezoneId);
      return new PuppeteerSessionBrowser(launched, page, cdpEndpoint, proxy, events);
    } catch (error) {
      if (launched !== undefined) await closeChromium(launched);
      await proxy.close().catch(() => {});
      throw error;
    }
  }
}

/** Chromium writes `<port>\n<path>` to DevToolsActivePort in the profile once it listens. */
const readDevToolsEndpoint = async (profileDir: string): Promise<string> => {
  const deadline = Date.now() + DEVTOOLS_PORT_WAIT_MS;
  while (Date.now() < deadline) {
    try {
      const [port, path] = readFileSync(join(profileDir, 'DevToolsActivePort'), 'utf8').trim().split('\n');
      if (port !== undefined && path !== undefined) return `ws://127.0.0.1:${port}${path}`;
    } catch {
      // Not written yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('Chromium did not open its DevTools port.');
};

class PuppeteerSessionBrowser implements SessionBrowser {
  /** Inside the session's own profile dir, which goes when the session does. */
  readonly downloadDir: string;
  private page: Page;
  private screencastSession: CDPSession | undefined;
  private closing = false;
  private readonly browser: Browser;

  constructor(
    private readonly launched: LaunchedChromium,
    page: Page,
    readonly cdpEndpoint: string,
    private readonly proxy: {
      blocked(): { url: string; reason: string }[];
      blockedTotal(): number;
      close(): Promise<unknown>;
    },
    private readonly events: SessionBrowserEvents,
  ) {
    this.page = page;
    this.downloadDir = join(launched.profileDir, 'Downloads');
    const browser = launched.browser;
    this.browser = browser;
    this.watch(page);
    browser.on('disconnected', () => {
      if (this.closing) return;
      // Chromium exits on its own when a CDP client calls Browser.close; anything else is a crash.
      const code = browser.process()?.exitCode;
      events.onGone(code === 0 ? 'closed' : 'crashed');
    });
    // A CDP client may close our page and open another: follow the newest page.
    browser.on('targetcreated', async (target) => {
      if (target.type() !== 'page') return;
      const created = await target.page().catch(() => null);
      if (created !== null && this.page.isClosed()) {
        this.page = created;
        this.watch(created);
      }
    });
  }

  private watch(page: Page): void {
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) this.events.onNavigation(frame.url());
    });
    page.on('console', (message) => this.events.onConsole(message.type(), message.text()));
    page.on('pageerror', (error) =>
      this.events.onPageError(error instanceof Error ? error.message : String(error)),
    );
  }

  async execute(method: CommandMethod, params: unknown, timeoutMs: number): Promise<unknown> {
    const page = this.page;
    const run = async (): Promise<unknown> => {
      switch (method) {
        case 'navigate': {
          const p = params as Params<'navigate'>;
          const before = this.proxy.blockedTotal();
          /** What the proxy refused since this navigation began (the session's proxy lives on). */
          const since = () => {
            const fresh = Math.min(this.proxy.blockedTotal() - before, 200);
            return fresh === 0 ? [] : this.proxy.blocked().slice(-fresh);
          };
          const refusal = (url: string | undefined) => {
            const refused = since().find((b) => b.url === url || b.url === page.url() || b.url === p.url);
            return refused === undefined ? undefined : blockedNavigationError(refused);
          };
          let response: Awaited<ReturnType<Page['goto']>>;
          try {
            response = await page.goto(p.url, { waitUntil: p.waitUntil, timeout: timeoutMs });
          } catch (error) {
            const refused = refusalBehindNavigationError(error, since());
            throw refused === undefined ? error : blockedNavigationError(refused);
          }
          // The page itself (or a redirect on its way) was refused by the egress guard.
          const blocked = refusal(response?.url());
          if (blocked !== undefined) throw blocked;
          return { url: page.url(), status: response?.status() ?? null };
        }
        case 'click': {
          const p = params as Params<'click'>;
          if ('selector' in p) {
            const handle = await page.$(p.selector);
            if (handle === null) {
              throw new BrowserfleetError(
                ERROR_CODES.SELECTOR_NOT_FOUND,
                `No element matches ${p.selector}.`,
              );
            }
            await handle.click({ count: p.clickCount });
            await handle.dispose();
          } else {
            await page.mouse.click(p.x, p.y, { count: p.clickCount });
          }
          return { url: page.url() };
        }
        case 'type': {
          const p = params as Params<'type'>;
          if (p.selector !== undefined) await page.type(p.selector, p.text);
          else await page.keyboard.type(p.text);
          return {};
        }
        case 'press': {
          const p = params as Params<'press'>;
          await page.keyboard.press(p.key as Parameters<Page['keyboard']['press']>[0]);
          return {};
        }
        case 'scroll': {
          const p = params as Params<'scroll'>;
          if (p.x !== undefined && p.y !== undefined) await page.mouse.move(p.x, p.y);
          await page.mouse.wheel({ deltaX: p.deltaX, deltaY: p.deltaY });
          return {};
        }
        case 'evaluate': {
          const p = params as Params<'evaluate'>;
          // The expression runs in the page, as a function of the JSON arguments when it is
          // one; its answer is serialized and measured there, so one too big never leaves it.
          const value = `(async () => {
            const fn = ${compiledInPage(p.expression)};
            return typeof fn === 'function' ? fn(...${JSON.stringify(p.args)}) : fn;
          })()`;
          const answer = await evaluateBounded(page, jsonOf(value, MAX_EVALUATE_RESULT_BYTES), {
            bytes: MAX_EVALUATE_RESULT_BYTES,
            what: "The expression's JSON result",
            hint: 'Return less: the values you need, or take a screenshot.',
          });
          if ('threw' in answer) {
            throw new BrowserfleetError(
              ERROR_CODES.SCRIPT_ERROR,
              `The script failed in the page: ${answer.threw}`,
            );
          }
          return { value: JSON.parse(answer.text) as unknown };
        }
        case 'setViewport': {
          const p = params as Params<'setViewport'>;
          await page.setViewport(p);
          return {};
        }
        case 'back':
        case 'forward': {
          const response =
            method === 'back'
              ? await page.goBack({ timeout: timeoutMs })
              : await page.goForward({ timeout: timeoutMs });
          return { url: page.url(), status: response?.status() ?? null };
        }
        case 'reload': {
          const p = params as Params<'reload'>;
          const response = await page.reload({ waitUntil: p.waitUntil, timeout: timeoutMs });
          return { url: page.url(), status: response?.status() ?? null };
        }
        case 'screenshot':
          throw new Error('screenshot is answered by screenshot()');
      }
    };
    return withTimeout(run(), timeoutMs, method);
  }

  async screenshot(params: unknown, timeoutMs: number): Promise<{ body: Uint8Array; contentType: string }> {
    const p = params as Params<'screenshot'>;
    const body = await withTimeout(
      this.page.screenshot({
        type: p.format,
        fullPage: p.fullPage,
        ...(p.format !== 'png' && p.quality !== undefined ? { quality: p.quality } : {}),
      }),
      timeoutMs,
      'screenshot',
    );
    return { body, contentType: `image/${p.format}` };
  }

  async startScreencast(
    options: { quality: number; maxFps: number; maxWidth: number; maxHeight: number },
    onFrame: (frame: ScreencastFrame) => void,
  ): Promise<void> {
    if (this.screencastSession !== undefined) return;
    const session = await this.page.createCDPSession();
    this.screencastSession = session;
    session.on('Page.screencastFrame', (event) => {
      // Ack at once: Chromium sends the next frame only after the previous one is acked.
      void session.send('Page.screencastFrameAck', { sessionId: event.sessionId }).catch(() => {});
      onFrame({
        data: event.data,
        width: event.metadata.deviceWidth,
        height: event.metadata.deviceHeight,
        timestamp: event.metadata.timestamp ?? Date.now() / 1000,
      });
    });
    await session.send('Page.startScreencast', {
      format: 'jpeg',
      quality: options.quality,
      maxWidth: options.maxWidth,
      maxHeight: options.maxHeight,
      everyNthFrame: 1,
    });
    // The first frame: the page as it is now, in the screencast's own format and size caps.
    const keyframe = await withDeadline(
      captureKeyframe(session, options),
      KEYFRAME_TIMEOUT_MS,
      'keyframe',
    ).catch(() => undefined);
    if (keyframe !== undefined && this.screencastSession === session) onFrame(keyframe);
  }

  async stopScreencast(): Promise<void> {
    const session = this.screencastSession;
    this.screencastSession = undefined;
    if (session === undefined) return;
    await session.send('Page.stopScreencast').catch(() => {});
    await session.detach().catch(() => {});
  }

  async close(): Promise<void> {
    this.closing = true;
    await closeChromium(this.launched);
    await this.proxy.close().catch(() => {});
  }
}

/** `work` under its deadline, its failure translated into the family. */
const withTimeout = <T>(work: Promise<T>, ms: number, what: string): Promise<T> =>
  withDeadline(work, ms, what).catch((error: unknown) => {
    throw translateSessionCommandError(error, { what, timeoutMs: ms });
  });
