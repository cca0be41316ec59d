/**
 * One task's work in a browser it was lent: a fresh incognito-style context behind the
 * task's egress proxy (it shares no cookies, storage or cache with any other, and closing
 * it frees its pages at once), the page set up, the guarded navigation, the capture, and
 * the timings. The context is closed on every path, the deadline included.
 */
import type { Browser, BrowserContext } from 'puppeteer-core';
import { failsOnHttpStatus } from '../../core/page-options.js';
import { BrowserfleetError, ERROR_CODES, isBrowserfleetError } from '../../errors.js';
import { abortReasonToError } from '../../task/abort-reason.js';
import type { BrowserJob, BrowserOutput } from '../../task/ports.js';
import { capture } from './capture.js';
import { guardedGoto } from './guarded-navigation.js';
import { missingGlyphs } from './missing-glyphs.js';
import { setUpPage, waitAfterNavigation } from './page-setup.js';
import { translatePuppeteerError } from './puppeteer-errors.js';

/** Task types whose output is drawn glyphs, where a character without a font is a box. */
const RENDERED_TYPES: ReadonlySet<BrowserJob['type']> = new Set(['screenshot', 'pdf']);

/** The task's egress proxy: where its context sends its traffic, and what it refused. */
export interface JobProxy {
  server: string;
  blocked(): { url: string; reason: string }[];
  /** Answers the proxy couldn't parse as HTTP, by URL and parser code. */
  malformed?(): { url: string; code: string }[];
  close(): Promise<{ url: string; reason: string }[]>;
}

export interface BrowserJobRun {
  browser: Browser;
  job: BrowserJob;
  /** Per-task proxy for the egress guard; none: the context goes direct. */
  proxyFor?: ((job: BrowserJob) => Promise<JobProxy>) | undefined;
  signal: AbortSignal;
  /** How long getting the browser took (0 when it was warm), for the timings. */
  launchMs: number;
}

export const runBrowserJob = async ({
  browser,
  job,
  proxyFor,
  signal,
  launchMs,
}: BrowserJobRun): Promise<BrowserOutput> => {
  const proxy = await proxyFor?.(job);
  const opened = performance.now();
  let timings = { launchMs, navigationMs: 0, captureMs: 0 };
  const aborted = new Promise<never>((_, reject) => {
    if (signal.aborted) reject(abortReasonToError(signal));
    signal.addEventListener('abort', () => reject(abortReasonToError(signal)), { once: true });
  });
  // Raced against each step, which handles the rejection; after the last step nobody is
  // listening, and an abort then must not be an unhandled rejection.
  aborted.catch(() => {});
  let context: BrowserContext | undefined;
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
    throw translate(error, browser, signal);
  } finally {
    // Closing the context also rejects whatever the page was still doing after a deadline.
    // A context that won't close dies with its browser (a crash retires it); the task's own
    // outcome is already decided.
    await context?.close().catch(() => {});
    // Closed once already on success; on failure the task's error is the answer, not this.
    await proxy?.close().catch(() => []);
  }
};

/** Ours as they are; the deadline as itself while the browser lives; Puppeteer's translated. */
const translate = (error: unknown, browser: Browser, signal: AbortSignal): unknown => {
  if (isBrowserfleetError(error)) return error;
  if (browser.connected && signal.aborted) return abortReasonToError(signal);
  return translatePuppeteerError(error, { browserConnected: browser.connected });
};
