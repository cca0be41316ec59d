/**
 * The browser runner on puppeteer-core: each task borrows the pool's warm browser
 * (browser-pool.ts) and runs in a fresh context of its own (run-browser-job.ts). The pool
 * recycles the browser after K tasks, an age or an RSS watermark, and relaunches it after a
 * crash; Chromium never outlives the worker.
 */
import type { Metrics } from '../../metrics/metrics.js';
import { abortReasonToError } from '../../task/abort-reason.js';
import type { BrowserJob, BrowserOutput, BrowserRunner } from '../../task/ports.js';
import { BrowserPool, DEFAULT_POOL_POLICY, type PoolPolicy } from './browser-pool.js';
import type { HostEnv } from './launch-chromium.js';
import { type JobProxy, runBrowserJob } from './run-browser-job.js';

export interface PuppeteerRunnerOptions {
  /** The host's environment, of which Chromium gets what `chromiumEnvironment` keeps. */
  hostEnv: HostEnv;
  /** A Chromium binary to use instead of @sparticuz/chromium's (e.g. /usr/bin/chromium). */
  executablePath?: string | undefined;
  /** Where @sparticuz/chromium's compressed binaries live when not beside its code (a layer). */
  chromiumBinDir?: string | undefined;
  pool?: Partial<PoolPolicy>;
  /** Per-task proxy for the egress guard: where the task's context sends its traffic. */
  proxyFor?: (job: BrowserJob) => Promise<JobProxy>;
  onEvent?: (event: string, details?: Record<string, unknown>) => void;
  /** Where `BrowserCrashes` goes (`where: task`); nowhere by default. */
  metrics?: Metrics;
}

export class PuppeteerBrowserRunner implements BrowserRunner {
  private readonly pool: BrowserPool;

  constructor(private readonly options: PuppeteerRunnerOptions) {
    this.pool = new BrowserPool({
      launch: {
        hostEnv: options.hostEnv,
        executablePath: options.executablePath,
        chromiumBinDir: options.chromiumBinDir,
      },
      policy: { ...DEFAULT_POOL_POLICY, ...options.pool },
      onEvent: options.onEvent,
      metrics: options.metrics,
    });
  }

  async run(job: BrowserJob, signal: AbortSignal): Promise<BrowserOutput> {
    if (signal.aborted) throw abortReasonToError(signal);
    const launchStarted = performance.now();
    const { pooled, launched } = await this.pool.acquire();
    const launchMs = launched ? Math.round(performance.now() - launchStarted) : 0;
    try {
      return await runBrowserJob({
        browser: pooled.browser,
        job,
        proxyFor: this.options.proxyFor,
        signal,
        launchMs,
      });
    } finally {
      this.pool.release(pooled);
    }
  }

  /** Closes every browser; tasks still running fail as the worker shutting down. */
  async close(): Promise<void> {
    await this.pool.close();
  }

  /** Live Chromium processes of this runner (for tests and metrics). */
  browserPids(): number[] {
    return this.pool.pids();
  }
}
