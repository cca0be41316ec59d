/**
 * Starts a live session's browser: its own Chromium (not a context in the task pool's
 * browser), because a CDP client gets the whole browser it connects to — it must find
 * nothing of anyone else's there. Puppeteer drives it over a pipe, so if the worker dies,
 * even by SIGKILL, the pipe closes and Chromium exits with it; CDP clients reach it on a
 * loopback DevTools port, only through the worker's CDP router (which checks the ticket).
 *
 * With `spare`, one such browser is kept launched ahead of need, with the flags every
 * session of the default shape gets (see `takesSpare`), and handed to the next session of
 * that shape: a launch costs most of a session's start. It has never been anyone's, and a
 * session's browser is never anyone else's after (closed with its profile when it ends).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'puppeteer-core';
import type { SessionBrowser, SessionBrowserEvents, SessionLauncher } from '../../session/ports.js';
import type { Session, SessionOptions } from '../../session/session.js';
import { createSessionInputSchema } from '../../session/session-input.js';
import { closeChromium, type HostEnv, type LaunchedChromium, launchChromium } from './launch-chromium.js';
import { PuppeteerSessionBrowser, type SessionProxy } from './session-browser.js';
import { WarmSpare } from './warm-spare.js';

/** How long Chromium may take to write its DevTools port file after launch. */
const DEVTOOLS_PORT_WAIT_MS = 5_000;

export interface SessionLauncherOptions {
  hostEnv: HostEnv;
  executablePath?: string | undefined;
  /** A per-session egress proxy (the same guard as tasks); `close` when the session ends. */
  proxy: () => Promise<SessionProxy>;
  /**
   * Keep one browser launched ahead of need (after `warm()`), for the next session whose
   * launch flags are the default ones. One more idle Chromium (~150 MB) per worker.
   */
  spare?: boolean;
  /** The spare's life: ready, taken, closed unused (each with the browser's pid and profile dir). */
  log?: (event: string, details: Record<string, unknown>) => void;
}

/** A session's Chromium, up and listening, before any session's settings are applied. */
interface SessionChromium {
  launched: LaunchedChromium;
  proxy: SessionProxy;
  cdpEndpoint: string;
  downloadDir: string;
}

/** What decides a session browser's launch flags (the rest is set per page). */
interface LaunchShape {
  window: { width: number; height: number };
  locale: string | undefined;
}

/** The shape of a session created with no options: the spare's. */
const DEFAULT_SHAPE: LaunchShape = (() => {
  const { viewport, locale } = createSessionInputSchema.parse({});
  return { window: { width: viewport.width, height: viewport.height }, locale };
})();

/**
 * Whether a session can have the spare: its launch flags are the spare's. Its user agent,
 * time zone and device scale factor are set on its pages, so any value fits.
 */
export const takesSpare = (options: SessionOptions): boolean =>
  options.locale === DEFAULT_SHAPE.locale &&
  options.viewport.width === DEFAULT_SHAPE.window.width &&
  options.viewport.height === DEFAULT_SHAPE.window.height;

export class PuppeteerSessionLauncher implements SessionLauncher {
  private readonly spare: WarmSpare<SessionChromium> | undefined;

  constructor(private readonly options: SessionLauncherOptions) {
    const log = options.log ?? (() => {});
    this.spare =
      options.spare === true
        ? new WarmSpare({
            launch: async () => {
              const chromium = await this.launchChromium(DEFAULT_SHAPE);
              log('session spare ready', spareDetails(chromium));
              return chromium;
            },
            alive: ({ launched }) => {
              const child = launched.browser.process();
              return launched.browser.connected && child?.exitCode === null && child.signalCode === null;
            },
            watch: ({ launched }, gone) => launched.browser.once('disconnected', gone),
            discard: async (chromium) => {
              await closeSessionChromium(chromium);
              log('session spare closed', spareDetails(chromium));
            },
            log,
          })
        : undefined;
  }

  /** Launches the spare, if this launcher keeps one; sessions before it is up launch their own. */
  warm(): void {
    this.spare?.warm();
  }

  /** Closes the spare (one still launching too) and keeps none: the worker is stopping. */
  async close(): Promise<void> {
    await this.spare?.close();
  }

  async launch(session: Session, events: SessionBrowserEvents): Promise<SessionBrowser> {
    const spare = this.spare !== undefined && takesSpare(session.options) ? this.spare : undefined;
    try {
      const taken = await spare?.take();
      if (taken !== undefined) {
        try {
          const browser = await openSession(taken, session, events);
          this.options.log?.('session spare taken', { sessionId: session.id, ...spareDetails(taken) });
          return browser;
        } catch {
          // Died between the check and its first page (a kill, say): never handed out; the
          // session gets a browser of its own below.
          this.options.log?.('session spare discarded', { reason: 'failed setup', ...spareDetails(taken) });
          await closeSessionChromium(taken);
        }
      }
      const launched = await this.launchChromium({
        window: session.options.viewport,
        locale: session.options.locale,
      });
      try {
        return await openSession(launched, session, events);
      } catch (error) {
        await closeSessionChromium(launched);
        throw error;
      }
    } finally {
      // The replacement starts once this session's browser is up, not competing with it.
      spare?.warm();
    }
  }

  private async launchChromium(shape: LaunchShape): Promise<SessionChromium> {
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
          `--window-size=${shape.window.width},${shape.window.height}`,
          ...(shape.locale === undefined ? [] : [`--lang=${shape.locale}`]),
        ],
      });
      const { browser, profileDir } = launched;
      const cdpEndpoint = await readDevToolsEndpoint(profileDir);
      // Downloads go to the session's own dir (inside its profile, gone with it), where the
      // `downloads` command finds them; a CDP client's own settings are pointed there too.
      const downloadDir = join(profileDir, 'Downloads');
      mkdirSync(downloadDir, { recursive: true });
      // Chromium undoes a session's download setting when that session detaches: this one
      // stays attached for the browser's life (it costs nothing but its id).
      const cdp = await browser.target().createCDPSession();
      await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloadDir });
      return { launched, proxy, cdpEndpoint, downloadDir };
    } catch (error) {
      if (launched !== undefined) await closeChromium(launched);
      // The launch's own error is the answer; a proxy that fails to close holds no browser.
      await proxy.close().catch(() => {});
      throw error;
    }
  }
}

/** The session's settings on its first page (and on every tab after), and its browser. */
const openSession = async (
  chromium: SessionChromium,
  session: Session,
  events: SessionBrowserEvents,
): Promise<SessionBrowser> => {
  const { options } = session;
  const setupPage = async (page: Page) => {
    await page.setViewport(options.viewport);
    if (options.userAgent !== undefined) await page.setUserAgent({ userAgent: options.userAgent });
    if (options.timezoneId !== undefined) await page.emulateTimezone(options.timezoneId);
  };
  const { browser } = chromium.launched;
  const page = (await browser.pages())[0] ?? (await browser.newPage());
  await setupPage(page);
  return new PuppeteerSessionBrowser({ ...chromium, page, events, setupPage });
};

const closeSessionChromium = async ({ launched, proxy }: SessionChromium): Promise<void> => {
  await closeChromium(launched);
  // A proxy that fails to close holds no browser.
  await proxy.close().catch(() => {});
};

const spareDetails = ({ launched }: SessionChromium) => ({
  pid: launched.pid,
  profileDir: launched.profileDir,
});

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
