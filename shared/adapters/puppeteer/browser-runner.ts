/**
 * The browser runner on puppeteer-core: a small pool of one browser per worker, reused
 * across tasks, each task in a fresh incognito-style context that is closed on every path
 * (a context shares no cookies, storage or cache with any other, and closing it frees its
 * pages at once). The browser is recycled after K tasks, an age or an RSS watermark, and
 * relaunched after a crash; Chromium never outlives the worker.
 */
import type { Browser } from 'puppeteer-core';
import { failsOnHttpStatus } from '../../core/page-options.js';
import { BrowserfleetError, ERROR_CODES, isBrowserfleetError } from '../../errors.js';
import type { Metrics } from '../../metrics/metrics.js';
import { abortReasonToError } from '../../task/abort-reason.js';
import type { BrowserJob, BrowserOutput, BrowserRunner } from '../../task/ports.js';
import { capture } from './capture.js';
import { processGroupRss, removeStaleProfiles } from './chromium-processes.js';
import { guardedGoto } from './guarded-navigation.js';
import { closeChromium, type HostEnv, launchChromium } from './launch-chromium.js';
import { missingGlyphs } from './missing-glyphs.js';
import { setUpPage, waitAfterNavigation } from './page-setup.js';
import { translatePuppeteerError } from './puppeteer-errors.js';

export interface PoolPolicy {
  /** Relaunch after this many tasks: long-lived renderers fragment and grow. */
  recycleAfterTasks: number;
  /** …or after this long. */
  maxBrowserAgeMs: number;
  /** …or when Chromium's processes together hold more than this (bytes). */
  maxRssBytes: number;
}

/** Task types whose output is drawn glyphs, where a character without a font is a box. */
const RENDERED_TYPES: ReadonlySet<BrowserJob['type']> = new Set(['screenshot', 'pdf']);

export const DEFAULT_POOL_POLICY: PoolPolicy = {
  recycleAfterTasks: 500,
  maxBrowserAgeMs: 30 * 60_000,
  maxRssBytes: 1_500 * 1024 * 1024,
};

export interface PuppeteerRunnerOptions {
  /** The host's environment, of which Chromium gets what `chromiumEnvironment` keeps. */
  hostEnv: HostEnv;
  /** A Chromium binary to use instead of @sparticuz/chromium's (e.g. /usr/bin/chromium). */
  executablePath?: string | undefined;
  /** Where @sparticuz/chromium's compressed binaries live when not beside its code (a layer). */
  chromiumBinDir?: string | undefined;
  pool?: Partial<PoolPolicy>;
  /** Per-task proxy for the egress guard: where the task's context sends its traffic. */
  proxyFor?: (job: BrowserJob) => Promise<{
    server: string;
    blocked(): { url: string; reason: string }[];
    /** Answers the proxy couldn't parse as HTTP, by URL and parser code. */
    malformed?(): { url: string; code: string }[];
    close(): Promise<{ url: string; reason: string }[]>;
  }>;
  onEvent?: (event: string, details?: Record<string, unknown>) => void;
  /** Where `BrowserCrashes` goes (`where: task`); nowhere by default. */
  metrics?: Metrics;
}

interface PooledBrowser {
  browser: Browser;
  pid: number | undefined;
  profileDir: string;
  launchedAt: number;
  tasks: number;
  inFlight: number;
  retiring: boolean;
  closed?: Promise<void>;
}

export class PuppeteerBrowserRunner implements BrowserRunner {
  private current: Promise<PooledBrowser> | undefined;
  private readonly all = new Set<PooledBrowser>();
  private shutDown = false;
  private readonly policy: PoolPolicy;

  constructor(private readonly options: PuppeteerRunnerOptions) {
    this.policy = { ...DEFAULT_POOL_POLICY, ...options.pool };
    removeStaleProfiles();
  }

  async run(job: BrowserJob, signal: AbortSignal): Promise<BrowserOutput> {
    throwIfAborted(signal);
    const launchStarted = performance.now();
    const { pooled, launched } = await this.acquire();
    const launchMs = launched ? Math.round(performance.now() - launchStarted) : 0;
    const { browser } = pooled;
    const proxy = await this.options.proxyFor?.(job);
    const opened = performance.now();
    let timings = { launchMs, navigationMs: 0, captureMs: 0 };
    const aborted = new Promise<never>((_, reject) => {
      if (signal.aborted) reject(abortError(signal));
      signal.addEventListener('abort', () => reject(abortError(signal)), { once: true });
    });
    aborted.catch(() => {});
    let context: Awaited<ReturnType<Browser['createBrowserContext']>> | undefined;
    try {
      context = await Promise.race([
        browser.createBrowserContext(
          proxy === undefined ? {} : { proxyServer: proxy.server, proxyBypassList: ['<-loopback>'] },
        ),
        aborted,
      ]);
      const page = await Promise.race([context.newPage(), aborted]);
      const work = async () => {
        await setUpPage(page, job.url, job.options);
        const navStarted = performance.now();
        // Nothing else loads before a fresh context's first page: all the proxy refused so
        // far was on the page's way.
        const response = await guardedGoto(page, {
          url: job.url,
          waitUntil: job.options.waitUntil,
          // The task's deadline bounds the navigation (the abort race), not Puppeteer.
          timeoutMs: 0,
          guard:
            proxy === undefined
              ? undefined
              : { refused: () => proxy.blocked(), malformed: () => proxy.malformed?.() ?? [] },
        });
        if (failsOnHttpStatus(response?.status(), job.options.failOnHttpStatus)) {
          throw new BrowserfleetError(
            ERROR_CODES.HTTP_STATUS_FAILED,
            `The page answered HTTP ${response?.status()}, which failOnHttpStatus makes a failure.`,
          );
        }
        await waitAfterNavigation(page, job.options);
        const captureStarted = performance.now();
        const captured = await capture(page, job);
        // Only the rendered outputs show a missing glyph; data types carry the text itself.
        const missing = RENDERED_TYPES.has(job.type) ? await missingGlyphs(page) : undefined;
        timings = {
          launchMs,
          navigationMs: Math.round(captureStarted - navStarted),
          captureMs: Math.round(performance.now() - captureStarted),
        };
        return { captured, finalUrl: page.url(), httpStatus: response?.status(), missing };
      };
      const { captured, finalUrl, httpStatus, missing } = await Promise.race([work(), aborted]);
      const blocked = (await proxy?.close()) ?? [];
      return {
        artifacts: captured.artifacts,
        ...(captured.data === undefined ? {} : { data: captured.data }),
        finalUrl,
        httpStatus,
        timings,
        browserMs: Math.round(performance.now() - opened),
        ...(blocked.length > 0 ? { blockedRequests: blocked } : {}),
        ...(missing === undefined ? {} : { warnings: [missing] }),
      };
    } catch (error) {
      throw this.translate(error, browser, signal);
    } finally {
      // Closing the context also rejects whatever the page was still doing after a deadline.
      await context?.close().catch(() => {});
      await proxy?.close().catch(() => []);
      this.release(pooled);
    }
  }

  /** The warm browser, or a new one if there is none, it is retiring, or it crashed. */
  private async acquire(): Promise<{ pooled: PooledBrowser; launched: boolean }> {
    if (this.shutDown) {
      throw new BrowserfleetError(ERROR_CODES.WORKER_SHUTDOWN, 'The browser runner is shut down.');
    }
    let launched = false;
    if (this.current === undefined) {
      launched = true;
      const launching = this.launch();
      this.current = launching;
      launching.catch(() => {
        if (this.current === launching) this.current = undefined;
      });
    }
    const pooled = await this.current;
    if (pooled.retiring || !pooled.browser.connected) {
      if (this.current !== undefined && (await this.current) === pooled) this.current = undefined;
      return this.acquire();
    }
    pooled.tasks++;
    pooled.inFlight++;
    return { pooled, launched };
  }

  private release(pooled: PooledBrowser): void {
    pooled.inFlight--;
    if (!pooled.retiring) {
      const reason = this.recycleReason(pooled);
      if (reason !== undefined) this.retire(pooled, reason);
    }
    if (pooled.retiring && pooled.inFlight === 0) void this.closeBrowser(pooled);
  }

  private recycleReason(pooled: PooledBrowser): string | undefined {
    if (pooled.tasks >= this.policy.recycleAfterTasks) return 'task-count';
    if (Date.now() - pooled.launchedAt >= this.policy.maxBrowserAgeMs) return 'age';
    // Reading /proc for the whole process group is cheap, but not free: every 10th task.
    if (
      pooled.tasks % 10 === 0 &&
      pooled.pid !== undefined &&
      processGroupRss(pooled.pid) >= this.policy.maxRssBytes
    ) {
      return 'rss';
    }
    return undefined;
  }

  private retire(pooled: PooledBrowser, reason: string): void {
    pooled.retiring = true;
    void this.current?.then((c) => {
      if (c === pooled) this.current = undefined;
    });
    this.options.onEvent?.('browser-recycled', { pid: pooled.pid, reason, tasks: pooled.tasks });
  }

  private async launch(): Promise<PooledBrowser> {
    const started = Date.now();
    const { browser, pid, profileDir } = await launchChromium({
      hostEnv: this.options.hostEnv,
      executablePath: this.options.executablePath,
      chromiumBinDir: this.options.chromiumBinDir,
    });
    const pooled: PooledBrowser = {
      browser,
      pid,
      profileDir,
      launchedAt: Date.now(),
      tasks: 0,
      inFlight: 0,
      retiring: false,
    };
    this.all.add(pooled);
    browser.on('disconnected', () => {
      // A disconnect we didn't ask for (not a recycle, not shutdown) is a crash.
      if (!pooled.retiring && !this.shutDown) {
        this.options.onEvent?.('browser-disconnected', { pid: pooled.pid });
        this.options.metrics?.count('BrowserCrashes', 1, { where: 'task' });
        this.retire(pooled, 'crashed');
        if (pooled.inFlight === 0) void this.closeBrowser(pooled);
      }
    });
    this.options.onEvent?.('browser-launched', { pid: pooled.pid, launchMs: Date.now() - started });
    return pooled;
  }

  private closeBrowser(pooled: PooledBrowser): Promise<void> {
    if (pooled.closed === undefined) {
      pooled.closed = closeChromium(pooled).then(() => {
        this.all.delete(pooled);
      });
    }
    return pooled.closed;
  }

  /** Closes every browser; tasks still running fail as the worker shutting down. */
  async close(): Promise<void> {
    this.shutDown = true;
    this.current = undefined;
    await Promise.all([...this.all].map((p) => this.closeBrowser(p)));
  }

  /** Live Chromium processes of this runner (for tests and metrics). */
  browserPids(): number[] {
    return [...this.all].flatMap((p) => (p.pid === undefined ? [] : [p.pid]));
  }

  private translate(error: unknown, browser: Browser, signal: AbortSignal): unknown {
    if (isBrowserfleetError(error)) return error;
    if (browser.connected && signal.aborted) return abortError(signal);
    return translatePuppeteerError(error, { browserConnected: browser.connected });
  }
}

const throwIfAborted = (signal: AbortSignal): void => {
  if (signal.aborted) throw abortError(signal);
};

const abortError = abortReasonToError;
