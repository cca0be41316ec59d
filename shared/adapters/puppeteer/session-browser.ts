/**
 * A live session's browser, once launched (session-launcher.ts): the page the session is on
 * (a CDP client may close it and open another), its events, its commands and screencast,
 * and its close — which takes Chromium and the session's egress proxy with it.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import type {
  BrowserCommandMethod,
  ScreencastFrame,
  ScreencastOptions,
  SessionBrowser,
  SessionBrowserEvents,
} from '../../session/ports.js';
import type { CommandParams } from '../../session/session-input.js';
import { withDeadline } from './command-deadline.js';
import { closeChromium, type LaunchedChromium } from './launch-chromium.js';
import { PageRefs } from './page-refs.js';
import { translateSessionCommandError } from './puppeteer-errors.js';
import { type EgressRefusals, PAGE_COMMANDS, type PageCommand } from './session-commands.js';
import { CdpScreencast } from './session-screencast.js';

/** The egress proxy a session's browser goes through, as the browser sees it. */
export interface SessionProxy extends EgressRefusals {
  server: string;
  close(): Promise<unknown>;
}

export class PuppeteerSessionBrowser implements SessionBrowser {
  /** Inside the session's own profile dir, which goes when the session does. */
  readonly downloadDir: string;
  private page: Page;
  private readonly screencast = new CdpScreencast(() => this.page);
  /** The snapshot refs: they live as long as the session, across its pages and documents. */
  private readonly refs = new PageRefs();
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
      // A target that closed before it could be read is no page to follow.
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

  execute<M extends BrowserCommandMethod>(
    method: M,
    params: CommandParams<M>,
    timeoutMs: number,
  ): Promise<unknown> {
    const command: PageCommand<M> = PAGE_COMMANDS[method];
    return asCommand(
      command({ page: this.page, proxy: this.proxy, timeoutMs, refs: this.refs }, params),
      timeoutMs,
      method,
    );
  }

  async screenshot(
    p: CommandParams<'screenshot'>,
    timeoutMs: number,
  ): Promise<{ body: Uint8Array; contentType: string }> {
    const body = await asCommand(
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
    // The proxy's sockets close with the browser's connections; a failed close leaks nothing.
    await this.proxy.close().catch(() => {});
  }
}

/** `work` as a session command: under its deadline, and what it throws in the error family. */
const asCommand = <T>(work: Promise<T>, ms: number, what: string): Promise<T> =>
  withDeadline(work, ms, what).catch((error: unknown) => {
    throw translateSessionCommandError(error, { what, timeoutMs: ms });
  });
