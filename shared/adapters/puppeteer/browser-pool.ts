/**
 * The task runner's pool: one warm browser, reused across tasks until it has run K tasks,
 * reached an age or outgrown an RSS watermark, then retired (closed once its last task
 * ends) for a fresh one. A disconnect nobody asked for is a crash: counted, the browser
 * retired, the next task launches anew. Chromium never outlives the pool's `close()`.
 */
import type { Browser } from 'puppeteer-core';
import { BrowserfleetError, ERROR_CODES } from '../../errors.js';
import type { Metrics } from '../../metrics/metrics.js';
import { processGroupRss, removeStaleProfiles } from './chromium-processes.js';
import { closeChromium, type LaunchOptions, launchChromium } from './launch-chromium.js';

export interface PoolPolicy {
  /** Relaunch after this many tasks: long-lived renderers fragment and grow. */
  recycleAfterTasks: number;
  /** …or after this long. */
  maxBrowserAgeMs: number;
  /** …or when Chromium's processes together hold more than this (bytes). */
  maxRssBytes: number;
}

export const DEFAULT_POOL_POLICY: PoolPolicy = {
  recycleAfterTasks: 500,
  maxBrowserAgeMs: 30 * 60_000,
  maxRssBytes: 1_500 * 1024 * 1024,
};

export interface BrowserPoolOptions {
  launch: Pick<LaunchOptions, 'hostEnv' | 'executablePath' | 'chromiumBinDir'>;
  policy: PoolPolicy;
  onEvent?: ((event: string, details?: Record<string, unknown>) => void) | undefined;
  /** Where `BrowserCrashes` goes (`where: task`); nowhere by default. */
  metrics?: Metrics | undefined;
}

/** One pooled browser; hand it back to `release` when the task is done with it. */
export interface PooledBrowser {
  browser: Browser;
  pid: number | undefined;
  profileDir: string;
  launchedAt: number;
  tasks: number;
  inFlight: number;
  retiring: boolean;
  closed?: Promise<void>;
}

export class BrowserPool {
  private current: Promise<PooledBrowser> | undefined;
  private readonly all = new Set<PooledBrowser>();
  private shutDown = false;

  constructor(private readonly options: BrowserPoolOptions) {
    removeStaleProfiles();
  }

  /** The warm browser, or a new one if there is none, it is retiring, or it crashed. */
  async acquire(): Promise<{ pooled: PooledBrowser; launched: boolean }> {
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

  /** A task is done with `pooled`: retire it if it is due, close it if retired and idle. */
  release(pooled: PooledBrowser): void {
    pooled.inFlight--;
    if (!pooled.retiring) {
      const reason = this.recycleReason(pooled);
      if (reason !== undefined) this.retire(pooled, reason);
    }
    if (pooled.retiring && pooled.inFlight === 0) void this.closeBrowser(pooled);
  }

  /** Closes every browser; tasks still running fail as the worker shutting down. */
  async close(): Promise<void> {
    this.shutDown = true;
    this.current = undefined;
    await Promise.all([...this.all].map((p) => this.closeBrowser(p)));
  }

  /** Live Chromium processes of this pool. */
  pids(): number[] {
    return [...this.all].flatMap((p) => (p.pid === undefined ? [] : [p.pid]));
  }

  private recycleReason(pooled: PooledBrowser): string | undefined {
    const { policy } = this.options;
    if (pooled.tasks >= policy.recycleAfterTasks) return 'task-count';
    if (Date.now() - pooled.launchedAt >= policy.maxBrowserAgeMs) return 'age';
    // Reading /proc for the whole process group is cheap, but not free: every 10th task.
    if (
      pooled.tasks % 10 === 0 &&
      pooled.pid !== undefined &&
      processGroupRss(pooled.pid) >= policy.maxRssBytes
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
    const { browser, pid, profileDir } = await launchChromium(this.options.launch);
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
}
