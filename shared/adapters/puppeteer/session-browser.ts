/**
 * A live session's browser, once launched (session-launcher.ts): the page the session is on
 * (a CDP client may close it and open another), its events, its commands and screencast,
 * and its close — which takes Chromium and the session's egress proxy with it.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import type { z } from 'zod';
import { BrowserfleetError, ERROR_CODES } from '../../errors.js';
import type {
  ScreencastFrame,
  ScreencastOptions,
  SessionBrowser,
  SessionBrowserEvents,
} from '../../session/ports.js';
import {
  type COMMAND_PARAMS,
  type CommandMethod,
  MAX_EVALUATE_RESULT_BYTES,
} from '../../session/session-input.js';
import { blockedNavigationError, refusalBehindNavigationError } from '../egress-proxy.js';
import { compiledInPage, evaluateBounded, jsonOf } from './bounded-evaluate.js';
import { withDeadline } from './command-deadline.js';
import { closeChromium, type LaunchedChromium } from './launch-chromium.js';
import { translateSessionCommandError } from './puppeteer-errors.js';
import { CdpScreencast } from './session-screencast.js';

type Params<M extends CommandMethod> = z.output<(typeof COMMAND_PARAMS)[M]>;

/** The egress proxy a session's browser goes through, as the browser sees it. */
export interface SessionProxy {
  server: string;
  blocked(): { url: string; reason: string }[];
  blockedTotal(): number;
  close(): Promise<unknown>;
}

export class PuppeteerSessionBrowser implements SessionBrowser {
  /** Inside the session's own profile dir, which goes when the session does. */
  readonly downloadDir: string;
  private page: Page;
  private readonly screencast = new CdpScreencast(() => this.page);
  private closing = false;
  private readonly browser: Browser;

  constructor(
    private readonly launched: LaunchedChromium,
    page: Page,
    readonly cdpEndpoint: string,
    private readonly proxy: SessionProxy,
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

  startScreencast(options: ScreencastOptions, onFrame: (frame: ScreencastFrame) => void): Promise<void> {
    return this.screencast.start(options, onFrame);
  }

  stopScreencast(): Promise<void> {
    return this.screencast.stop();
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
