/**
 * Starts a live session's browser: its own Chromium (not a context in the task pool's
 * browser), because a CDP client gets the whole browser it connects to — it must find
 * nothing of anyone else's there. Puppeteer drives it over a pipe, so if the worker dies,
 * even by SIGKILL, the pipe closes and Chromium exits with it; CDP clients reach it on a
 * loopback DevTools port, only through the worker's CDP router (which checks the ticket).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'puppeteer-core';
import type { SessionBrowser, SessionBrowserEvents, SessionLauncher } from '../../session/ports.js';
import type { Session } from '../../session/session.js';
import { closeChromium, type HostEnv, type LaunchedChromium, launchChromium } from './launch-chromium.js';
import { PuppeteerSessionBrowser, type SessionProxy } from './session-browser.js';

/** How long Chromium may take to write its DevTools port file after launch. */
const DEVTOOLS_PORT_WAIT_MS = 5_000;

export interface SessionLauncherOptions {
  hostEnv: HostEnv;
  executablePath?: string | undefined;
  /** A per-session egress proxy (the same guard as tasks); `close` when the session ends. */
  proxy: () => Promise<SessionProxy>;
}

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
      // Downloads go to the session's own dir (inside its profile, gone with it), where the
      // `downloads` command finds them; a CDP client's own settings are pointed there too.
      const downloadDir = join(profileDir, 'Downloads');
      mkdirSync(downloadDir, { recursive: true });
      // Chromium undoes a session's download setting when that session detaches: this one
      // stays attached for the browser's life (it costs nothing but its id).
      const cdp = await browser.target().createCDPSession();
      await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloadDir });
      const { options } = session;
      const setupPage = async (page: Page) => {
        await page.setViewport(options.viewport);
        if (options.userAgent !== undefined) await page.setUserAgent({ userAgent: options.userAgent });
        if (options.timezoneId !== undefined) await page.emulateTimezone(options.timezoneId);
      };
      const page = (await browser.pages())[0] ?? (await browser.newPage());
      await setupPage(page);
      return new PuppeteerSessionBrowser({
        launched,
        page,
        cdpEndpoint,
        downloadDir,
        proxy,
        events,
        setupPage,
      });
    } catch (error) {
      if (launched !== undefined) await closeChromium(launched);
      // The launch's own error is the answer; a proxy that fails to close holds no browser.
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
