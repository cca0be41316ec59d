/**
 * The browser runner on puppeteer-core. One Chromium per worker, reused across tasks, and
 * a fresh incognito-style context per task, closed on every path: a context shares no
 * cookies, storage or cache with any other, and closing it frees its pages at once.
 */
import chromium from '@sparticuz/chromium';
import puppeteer, { type Browser, TimeoutError } from 'puppeteer-core';
import { BrowserfleetError, ERROR_CODES, isBrowserfleetError } from '../errors.js';
import { abortReasonToError } from '../task/abort-reason.js';
import type { BrowserJob, BrowserOutput, BrowserRunner } from '../task/ports.js';
import { screenshotContentType } from '../task/task-input.js';

/**
 * Chromium flags, chosen one by one. @sparticuz/chromium's own list is tuned for one page
 * per Lambda; several of its flags are wrong for a multi-tenant platform (see below).
 * Puppeteer adds its defaults (no first run, no sync, no background networking, muted
 * audio, hidden scrollbars) on top of these.
 */
const CHROMIUM_FLAGS = [
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
  // Deliberately absent from the Sparticuz list: --single-process and --no-zygote (with
  // them, createBrowserContext() kills the browser); --disable-web-security,
  // --allow-running-insecure-content and --disable-site-isolation-trials (they switch off
  // the same-origin policy between pages of different tenants).
] as const;

/** How long `browser.close()` may take before the process group is killed. */
const CLOSE_DEADLINE_MS = 5_000;

export interface PuppeteerRunnerOptions {
  /** A Chromium binary to use instead of @sparticuz/chromium's (e.g. /usr/bin/chromium). */
  executablePath?: string | undefined;
  onEvent?: (event: string, details?: Record<string, unknown>) => void;
}

export class PuppeteerBrowserRunner implements BrowserRunner {
  private browser: Promise<Browser> | undefined;
  private closed = false;

  constructor(private readonly options: PuppeteerRunnerOptions = {}) {}

  async run(job: BrowserJob, signal: AbortSignal): Promise<BrowserOutput> {
    throwIfAborted(signal);
    const browser = await this.getBrowser();
    throwIfAborted(signal);
    const context = await browser.createBrowserContext();
    const aborted = new Promise<never>((_, reject) => {
      signal.addEventListener('abort', () => reject(abortError(signal)), { once: true });
    });
    aborted.catch(() => {});
    try {
      return await Promise.race([this.capture(context, job), aborted]);
    } catch (error) {
      throw this.translate(error, browser, signal);
    } finally {
      // Closing the context also rejects whatever the page was still doing after a deadline.
      await context.close().catch(() => {});
    }
  }

  private async capture(
    context: Awaited<ReturnType<Browser['createBrowserContext']>>,
    job: BrowserJob,
  ): Promise<BrowserOutput> {
    const { options } = job;
    const page = await context.newPage();
    await page.setViewport(options.viewport);
    const response = await page.goto(job.url, {
      waitUntil: options.waitUntil,
      timeout: options.timeoutMs,
    });
    const body = await page.screenshot({
      type: options.format,
      fullPage: options.fullPage,
      ...(options.quality === undefined ? {} : { quality: options.quality }),
    });
    return {
      artifacts: [
        {
          name: `screenshot.${options.format}`,
          contentType: screenshotContentType(options.format),
          body,
        },
      ],
      finalUrl: page.url(),
      httpStatus: response?.status(),
    };
  }

  private translate(error: unknown, browser: Browser, signal: AbortSignal): unknown {
    if (isBrowserfleetError(error)) return error;
    if (!browser.connected) {
      return new BrowserfleetError(
        ERROR_CODES.BROWSER_CRASHED,
        'The browser crashed while running the task.',
        {
          retryable: true,
          cause: error,
        },
      );
    }
    if (signal.aborted) return abortError(signal);
    if (error instanceof TimeoutError) {
      return new BrowserfleetError(
        ERROR_CODES.TIMEOUT,
        `The page did not finish loading in time: ${error.message}`,
        {
          retryable: true,
          cause: error,
        },
      );
    }
    const message = error instanceof Error ? error.message : String(error);
    if (/net::ERR_|NS_ERROR_|Navigation/i.test(message)) {
      return new BrowserfleetError(ERROR_CODES.NAVIGATION_FAILED, `Navigation failed: ${message}`, {
        retryable: true,
        cause: error,
      });
    }
    return error;
  }

  private getBrowser(): Promise<Browser> {
    if (this.closed) {
      return Promise.reject(
        new BrowserfleetError(ERROR_CODES.WORKER_SHUTDOWN, 'The browser runner is shut down.', {
          retryable: true,
        }),
      );
    }
    if (this.browser === undefined) {
      const launching = this.launch();
      this.browser = launching;
      launching.catch(() => {
        if (this.browser === launching) this.browser = undefined;
      });
    }
    return this.browser;
  }

  private async launch(): Promise<Browser> {
    const started = Date.now();
    // The Sparticuz binary's bundled GL stack adds ~650 ms to the first screenshot and
    // buys nothing for screenshots of ordinary pages.
    chromium.setGraphicsMode = false;
    const executablePath = this.options.executablePath ?? (await chromium.executablePath());
    const browser = await puppeteer.launch({
      executablePath,
      args: [...CHROMIUM_FLAGS],
      // The Sparticuz binary is chrome-headless-shell; a full Chromium runs new headless.
      headless: this.options.executablePath === undefined ? 'shell' : true,
      // We close on our own terms (see close()); a signal from the terminal is the
      // worker's to handle, not Puppeteer's.
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
      // CDP over a pipe instead of a debugging port: if this process dies, even by SIGKILL,
      // the pipe closes and Chromium exits with it, so a killed worker leaves no orphans.
      pipe: true,
    });
    browser.on('disconnected', () => {
      this.options.onEvent?.('browser-disconnected', { pid: browser.process()?.pid });
    });
    browser.process()?.once('exit', () => {
      if (this.browser !== undefined) {
        void this.browser.then((b) => {
          if (b === browser) this.browser = undefined;
        });
      }
    });
    this.options.onEvent?.('browser-launched', {
      pid: browser.process()?.pid,
      launchMs: Date.now() - started,
    });
    return browser;
  }

  /**
   * Closes the browser. `browser.close()` can hang on a wedged renderer, so it gets a
   * deadline, after which the whole process group (Chromium's zygote, renderers, GPU
   * process) is killed: no Chromium outlives its worker.
   */
  async close(): Promise<void> {
    this.closed = true;
    const pending = this.browser;
    this.browser = undefined;
    if (pending === undefined) return;
    const browser = await pending.catch(() => undefined);
    if (browser === undefined) return;
    const child = browser.process();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), CLOSE_DEADLINE_MS);
    });
    const outcome = await Promise.race([browser.close().then(() => 'closed' as const), deadline]).catch(
      () => 'failed' as const,
    );
    clearTimeout(timer);
    if (child?.pid !== undefined && outcome !== 'closed') {
      killProcessGroup(child.pid);
    } else if (child?.pid !== undefined) {
      // Renderers can linger a moment after the browser process exits.
      killProcessGroup(child.pid);
    }
  }
}

const killProcessGroup = (pid: number): void => {
  try {
    // Puppeteer starts Chromium detached, as the leader of its own process group.
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
};

const throwIfAborted = (signal: AbortSignal): void => {
  if (signal.aborted) throw abortError(signal);
};

const abortError = abortReasonToError;
