/**
 * Playwright servers, one per `playwrightUrl` client, from the playwright-core package of
 * the client's minor version (PLAYWRIGHT_SERVERS in the contracts: each minor speaks only its
 * own protocol). Each connects over CDP to the session's browser and serves one client on
 * a loopback port with an unguessable path, in `launchServerShared` mode: the client sees
 * the session's own context and page (as with connectOverCDP), may not launch browsers
 * (Playwright's `denyLaunch`), and its `browser.close()` only disconnects.
 *
 * A Playwright instance per server, not one per version: a pre-launched server closes every
 * other browser of its Playwright instance when a client connects.
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { PLAYWRIGHT_SERVERS } from '../contracts.js';
import type { PlaywrightMinor } from '../session/playwright-versions.js';
import type { PlaywrightServer, PlaywrightServers } from '../session/ports.js';

/** The part of `playwright-core/lib/coreBundle` used here (the same in 1.63 to 1.65). */
interface CoreBundle {
  server: {
    createPlaywright(options: { sdkLanguage: 'javascript'; isServer: boolean }): {
      chromium: {
        connectOverCDP(
          progress: unknown,
          params: { endpointURL: string; downloadsPath: string },
        ): Promise<{ close(progress: unknown, options: { reason: string }): Promise<void> }>;
      };
    };
    nullProgress: unknown;
  };
  remote: {
    PlaywrightServer: new (options: {
      mode: 'launchServerShared';
      path: string;
      maxConnections: number;
      preLaunchedBrowser: unknown;
    }) => { listen(port: number, host: string): Promise<string>; close(): Promise<void> };
  };
}

const require = createRequire(import.meta.url);
const bundles = new Map<PlaywrightMinor, CoreBundle>();
/** Loaded at the first client of a version (each bundle is ~3.5 MB of JavaScript). */
const bundleOf = (minor: PlaywrightMinor): CoreBundle => {
  let bundle = bundles.get(minor);
  if (bundle === undefined) {
    bundle = require(`${PLAYWRIGHT_SERVERS[minor]}/lib/coreBundle`) as CoreBundle;
    bundles.set(minor, bundle);
  }
  return bundle;
};

const timeout = (ms: number) =>
  new Promise<never>((_, reject) => {
    setTimeout(
      () => reject(new Error(`The session's browser did not answer over CDP within ${ms} ms.`)),
      ms,
    ).unref();
  });

export const playwrightCoreServers: PlaywrightServers = {
  async start(minor, target): Promise<PlaywrightServer> {
    const core = bundleOf(minor);
    const playwright = core.server.createPlaywright({ sdkLanguage: 'javascript', isServer: true });
    const connecting = playwright.chromium.connectOverCDP(core.server.nullProgress, {
      endpointURL: target.cdpEndpoint,
      // Where Playwright looks for downloads: the session's own dir, the one the CDP guard
      // points the browser at anyway.
      downloadsPath: target.downloadsPath,
    });
    // nullProgress has no deadline of its own; a connect that answers late is closed then.
    const browser = await Promise.race([connecting, timeout(target.timeoutMs)]).catch((error: unknown) => {
      void connecting.then((b) => b.close(core.server.nullProgress, { reason: 'Too late' })).catch(() => {});
      throw error;
    });
    const server = new core.remote.PlaywrightServer({
      mode: 'launchServerShared',
      path: `/${randomBytes(16).toString('hex')}`,
      maxConnections: 1,
      preLaunchedBrowser: browser,
    });
    let wsEndpoint: string;
    try {
      wsEndpoint = String(await server.listen(0, '127.0.0.1'));
    } catch (error) {
      await server.close().catch(() => {});
      throw error;
    }
    let closing: Promise<void> | undefined;
    return {
      wsEndpoint,
      // The server's close closes its Playwright's browsers: for one connected over CDP,
      // that is its CDP connection, not the browser.
      close: () => {
        closing ??= server.close().catch(() => {});
        return closing;
      },
    };
  },
};
