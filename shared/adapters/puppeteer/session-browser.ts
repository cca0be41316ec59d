/**
 * A live session's browser, once launched (session-launcher.ts): its tabs and the active
 * one (a CDP client may close it and open another), its events and logs, its commands,
 * downloads and screencast, and its close — which takes Chromium and the session's egress
 * proxy with it.
 */
import type { Page } from 'puppeteer-core';
import type {
  BrowserCommandMethod,
  DownloadedFile,
  ScreencastFrame,
  ScreencastOptions,
  SessionBrowser,
  SessionBrowserEvents,
} from '../../session/ports.js';
import type { CommandParams } from '../../session/session-input.js';
import { withDeadline } from './command-deadline.js';
import { listDownloadDir, readDownloadFile } from './download-dir.js';
import { closeChromium, type LaunchedChromium } from './launch-chromium.js';
import { PageRefs } from './page-refs.js';
import { translateSessionCommandError } from './puppeteer-errors.js';
import { type EgressRefusals, PAGE_COMMANDS, type PageCommand } from './session-commands.js';
import { SessionLogs } from './session-logs.js';
import { CdpScreencast } from './session-screencast.js';
import { SessionTabs } from './session-tabs.js';

/** The egress proxy a session's browser goes through, as the browser sees it. */
export interface SessionProxy extends EgressRefusals {
  server: string;
  close(): Promise<unknown>;
}

/** What a session's browser is made of, as its launcher brought it up. */
export interface SessionBrowserParts {
  launched: LaunchedChromium;
  /** The page the session starts on. */
  page: Page;
  cdpEndpoint: string;
  /** Where the browser was told to write downloads (inside the session's profile dir). */
  downloadDir: string;
  proxy: SessionProxy;
  events: SessionBrowserEvents;
  /** Makes a new tab like the first: the session's viewport and emulation. */
  setupPage: (page: Page) => Promise<void>;
}

export class PuppeteerSessionBrowser implements SessionBrowser {
  readonly downloadDir: string;
  readonly cdpEndpoint: string;
  private readonly tabs: SessionTabs;
  private readonly logs: SessionLogs;
  private readonly screencast = new CdpScreencast(() => this.tabs.page);
  /** The snapshot refs: they live as long as the session, across its pages and documents. */
  private readonly refs = new PageRefs();
  private closing = false;
  private readonly launched: LaunchedChromium;
  private readonly proxy: SessionProxy;
  private readonly events: SessionBrowserEvents;

  constructor(parts: SessionBrowserParts) {
    this.launched = parts.launched;
    this.cdpEndpoint = parts.cdpEndpoint;
    this.downloadDir = parts.downloadDir;
    this.proxy = parts.proxy;
    this.events = parts.events;
    this.logs = new SessionLogs(parts.proxy);
    const browser = parts.launched.browser;
    browser.on('disconnected', () => {
      if (this.closing) return;
      // Chromium exits on its own when a CDP client calls Browser.close; anything else is a crash.
      const code = browser.process()?.exitCode;
      parts.events.onGone(code === 0 ? 'closed' : 'crashed');
    });
    this.tabs = new SessionTabs({
      browser,
      first: parts.page,
      setup: parts.setupPage,
      onTab: (page) => this.watch(page),
      // The viewers see the active tab.
      onActivated: () => this.screencast.follow(),
    });
  }

  /** Every tab is logged; the live events (navigation, console) are the active tab's. */
  private watch(page: Page): void {
    this.logs.watch(page);
    const active = () => page === this.tabs.page;
    page.on('framenavigated', (frame) => {
      if (active() && frame === page.mainFrame()) this.events.onNavigation(frame.url());
    });
    page.on('console', (message) => {
      if (active()) this.events.onConsole(message.type(), message.text());
    });
    page.on('pageerror', (error) => {
      if (active()) this.events.onPageError(error instanceof Error ? error.message : String(error));
    });
  }

  execute<M extends BrowserCommandMethod>(
    method: M,
    params: CommandParams<M>,
    timeoutMs: number,
  ): Promise<unknown> {
    const command: PageCommand<M> = PAGE_COMMANDS[method];
    const context = {
      page: this.tabs.page,
      proxy: this.proxy,
      timeoutMs,
      tabs: this.tabs,
      logs: this.logs,
      refs: this.refs,
    };
    return asCommand(command(context, params), timeoutMs, method);
  }

  async screenshot(
    p: CommandParams<'screenshot'>,
    timeoutMs: number,
  ): Promise<{ body: Uint8Array; contentType: string }> {
    const body = await asCommand(
      this.tabs.page.screenshot({
        type: p.format,
        fullPage: p.fullPage,
        ...(p.format !== 'png' && p.quality !== undefined ? { quality: p.quality } : {}),
      }),
      timeoutMs,
      'screenshot',
    );
    return { body, contentType: `image/${p.format}` };
  }

  downloads(): Promise<DownloadedFile[]> {
    return listDownloadDir(this.downloadDir);
  }

  readDownload(name: string, maxBytes: number): Promise<Uint8Array> {
    return readDownloadFile(this.downloadDir, name, maxBytes);
  }

  startScreencast(options: ScreencastOptions, onFrame: (frame: ScreencastFrame) => void): Promise<void> {
    return this.screencast.start(options, onFrame);
  }

  stopScreencast(): Promise<void> {
    return this.screencast.stop();
  }

  /** The browser process's id (the operating system's), for tests and logs. */
  get pid(): number | undefined {
    return this.launched.pid;
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
