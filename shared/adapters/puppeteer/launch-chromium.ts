/**
 * Launching and closing Chromium, one way for the task pool and for live sessions: the
 * flags, a profile dir per browser (swept when its worker is gone), CDP over a pipe, and a
 * close with a deadline that then kills the whole process group.
 */
import { chmodSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import chromium from '@sparticuz/chromium';
import puppeteer, { type Browser } from 'puppeteer-core';
import { MAX_CDP_MESSAGE_BYTES } from '../../output-caps.js';
import { deployedFontDir, fontEnvironment } from '../fonts/font-set.js';
import { limitCdpPipe, limitLogLines } from './bounded-chromium-output.js';
import { killProcessGroup, PROFILE_PREFIX } from './chromium-processes.js';

/**
 * Chromium flags, chosen one by one. @sparticuz/chromium's own list is tuned for one page
 * per Lambda; several of its flags are wrong for a multi-tenant platform (see below).
 * Puppeteer adds its defaults (no first run, no sync, no background networking, muted
 * audio, hidden scrollbars) on top of these.
 */
export const CHROMIUM_FLAGS = [
  // Lambda and containers run us as root, where Chromium's setuid/namespace sandbox
  // cannot start. Tenants are kept apart by browser contexts and site isolation instead.
  '--no-sandbox',
  '--disable-setuid-sandbox',
  // Docker and Lambda give /dev/shm 64 MB or less; shared memory there crashes renderers.
  '--disable-dev-shm-usage',
  // Bounds what a task can leave in the temp dir's disk cache (32 MiB).
  '--disk-cache-size=33554432',
  // Same glyph metrics on every machine, so screenshots don't shift between hosts.
  '--font-render-hinting=none',
  // No calls home: the network is closed here and the tenant didn't ask for that traffic.
  '--disable-domain-reliability',
  '--no-pings',
  '--disable-component-update',
  '--no-default-browser-check',
  '--disable-print-preview',
  '--ash-no-nudges',
  // WebRTC may not send UDP around the egress proxy (to a private address, say).
  '--force-webrtc-ip-handling-policy=disable_non_proxied_udp',
  // Deliberately absent from the Sparticuz list: --single-process and --no-zygote (with
  // them, createBrowserContext() kills the browser); --disable-web-security,
  // --allow-running-insecure-content and --disable-site-isolation-trials (they switch off
  // the same-origin policy between pages of different tenants).
] as const;

/** Chromium's log lines as Puppeteer keeps them: long enough for any real diagnostic. */
const MAX_LOG_LINE_BYTES = 4 * 1024;
/** How long `browser.close()` may take before the process group is killed. */
const CLOSE_DEADLINE_MS = 5_000;
/** util-linux's setpriv: sets the parent-death signal, then execs Chromium (same pid). */
const SETPRIV = '/usr/bin/setpriv';

/**
 * With a DevTools port open, Chromium no longer exits when its pipe closes, so a worker
 * killed by SIGKILL would leave the session's browser behind. Started through setpriv
 * with `--pdeathsig KILL`, the browser is killed by the kernel the moment the worker dies
 * (its renderers follow when the browser's IPC goes). Where setpriv is missing (macOS),
 * Chromium is started directly.
 */
const dieWithParentLauncher = (executablePath: string): string => {
  if (!existsSync(SETPRIV)) return executablePath;
  // Named like the profile dirs, so a dead worker's leftovers are swept the same way.
  const script = join(tmpdir(), `${PROFILE_PREFIX}${process.pid}-launch.sh`);
  writeFileSync(
    script,
    `#!/bin/sh\nexec ${SETPRIV} --pdeathsig KILL -- '${executablePath.replace(/'/g, `'\\''`)}' "$@"\n`,
  );
  chmodSync(script, 0o700);
  return script;
};

export interface LaunchedChromium {
  browser: Browser;
  pid: number | undefined;
  profileDir: string;
}

/** The host's environment, as a composition root read it. */
export type HostEnv = Readonly<Record<string, string | undefined>>;

/**
 * What of the host's environment Chromium sees: what it needs to find its libraries, a
 * home, a temp dir and a locale, and nothing else. The worker's own environment holds AWS
 * credentials and (locally) the ticket key, which a compromised renderer must not find in
 * its parent's environment.
 */
const CHROMIUM_ENV_KEYS = [
  'PATH',
  'HOME',
  'TMPDIR',
  'LANG',
  'LC_ALL',
  'TZ',
  // @sparticuz/chromium points this at its unpacked libraries on Lambda.
  'LD_LIBRARY_PATH',
  'XDG_CONFIG_HOME',
  'XDG_CACHE_HOME',
  'XDG_RUNTIME_DIR',
] as const;

export const chromiumEnvironment = (hostEnv: HostEnv): Record<string, string> =>
  Object.fromEntries(
    CHROMIUM_ENV_KEYS.flatMap((key) => {
      const value = hostEnv[key];
      return value === undefined ? [] : [[key, value]];
    }),
  );

export interface LaunchOptions {
  /** The host's environment; Chromium gets only `CHROMIUM_ENV_KEYS` of it (and its fonts). */
  hostEnv: HostEnv;
  /** A Chromium binary to use instead of @sparticuz/chromium's (e.g. /usr/bin/chromium). */
  executablePath?: string | undefined;
  /** Where @sparticuz/chromium's compressed binaries live when not beside its code (a layer). */
  chromiumBinDir?: string | undefined;
  /** Flags after the common ones. */
  extraArgs?: string[];
  /**
   * Kill Chromium when this process dies even though something other than the pipe keeps
   * it alive (a DevTools port): see `dieWithParentLauncher`.
   */
  dieWithParent?: boolean;
  /** `null`: pages take the window's size instead of Puppeteer's 800×600. */
  defaultViewport?: null;
  /**
   * A staged font set (see shared/adapters/fonts/font-set.ts). Default: the deployed one at /opt/fonts (the
   * Lambda layer, the fleet image), else a copy staged from the npm packages in the temp dir.
   */
  fontDir?: string | undefined;
}

let launcherScript: string | undefined;

/**
 * The first call unpacks the binary (~2 s), and the package only checks that the file
 * exists, so a second launch during the unpack would run a half-written binary: a worker
 * starts its warm spare session browser and its first task's browser at the same time.
 */
const unpacking = new Map<string | undefined, Promise<string>>();
const sparticuzExecutable = (binDir: string | undefined): Promise<string> => {
  let path = unpacking.get(binDir);
  if (path === undefined) {
    path = chromium.executablePath(binDir);
    // A failed unpack is not remembered: the next launch tries again.
    path.catch(() => unpacking.delete(binDir));
    unpacking.set(binDir, path);
  }
  return path;
};

export const launchChromium = async (options: LaunchOptions): Promise<LaunchedChromium> => {
  // The Sparticuz binary's bundled GL stack adds ~650 ms to the first screenshot and
  // buys nothing for screenshots of ordinary pages.
  chromium.setGraphicsMode = false;
  let executablePath = options.executablePath ?? (await sparticuzExecutable(options.chromiumBinDir));
  if (options.dieWithParent === true) {
    launcherScript ??= dieWithParentLauncher(executablePath);
    executablePath = launcherScript;
  }
  // Our font set and nothing else: the same glyphs on a laptop, in the image and on Lambda,
  // whatever fonts the host has (or lacks).
  const fonts = await fontEnvironment(options.fontDir ?? deployedFontDir());
  const profileDir = await mkdtemp(join(tmpdir(), `${PROFILE_PREFIX}${process.pid}-`));
  try {
    const browser = await puppeteer.launch({
      executablePath,
      env: { ...chromiumEnvironment(options.hostEnv), ...fonts },
      args: [...CHROMIUM_FLAGS, ...(options.extraArgs ?? [])],
      // The Sparticuz binary is chrome-headless-shell; a full Chromium runs new headless.
      headless: options.executablePath === undefined ? 'shell' : true,
      userDataDir: profileDir,
      // We close on our own terms (see closeChromium); a signal from the terminal is the
      // worker's to handle, not Puppeteer's.
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
      // CDP over a pipe instead of a debugging port: if this process dies, even by SIGKILL,
      // the pipe closes and Chromium exits with it, so a killed worker leaves no orphans.
      pipe: true,
      ...(options.defaultViewport === null ? { defaultViewport: null } : {}),
    });
    // Nothing a page makes Chromium send (a console line, an exception, a screenshot)
    // reaches the worker larger than these.
    const child = browser.process();
    const pipe = child?.stdio[4];
    if (child === null || pipe === undefined || pipe === null || !('on' in pipe)) {
      // Refusing to run it unbounded is the answer (thrown below); a failed close changes nothing.
      await browser.close().catch(() => {});
      throw new Error("Chromium's CDP pipe is missing: launch it with --remote-debugging-pipe.");
    }
    limitCdpPipe(pipe as Readable, MAX_CDP_MESSAGE_BYTES);
    for (const log of [child.stdout, child.stderr]) if (log !== null) limitLogLines(log, MAX_LOG_LINE_BYTES);
    return { browser, pid: browser.process()?.pid, profileDir };
  } catch (error) {
    rmSync(profileDir, { recursive: true, force: true });
    throw error;
  }
};

/**
 * Closes one browser. `browser.close()` can hang on a wedged renderer, so it gets a
 * deadline; then the whole process group (renderers, GPU and network processes) is
 * killed and the profile dir removed.
 */
export const closeChromium = async (launched: LaunchedChromium): Promise<void> => {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), CLOSE_DEADLINE_MS);
  });
  // A close that fails or hangs ends the same way: the process group is killed below.
  await Promise.race([launched.browser.close().catch(() => {}), deadline]);
  clearTimeout(timer);
  // Renderers can linger a moment after the browser process exits.
  if (launched.pid !== undefined) killProcessGroup(launched.pid);
  rmSync(launched.profileDir, { recursive: true, force: true });
};
