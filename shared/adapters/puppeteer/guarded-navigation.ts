/**
 * A page navigation under the egress guard's rules, in one place so tasks and live sessions
 * can apply the same ones: a refusal by the guard fails the navigation as
 * DESTINATION_BLOCKED (not as a network error to retry), and an answer the proxy couldn't
 * parse as HTTP fails it as NAVIGATION_FAILED, not retried. Anything else Puppeteer throws
 * (a timeout, a closed target) is rethrown as it is, for the caller's translation, which
 * knows whether the browser is still there.
 */
import type { GoToOptions, HTTPResponse, Page } from 'puppeteer-core';
import { BrowserfleetError, ERROR_CODES } from '../../errors.js';
import {
  type BlockedRequest,
  blockedNavigationError,
  type MalformedAnswer,
  refusalBehindNavigationError,
} from '../egress-proxy.js';

/** What the egress proxy saw that may lie on this navigation's way. */
export interface NavigationGuard {
  /** The requests it refused, oldest first. */
  refused(): readonly BlockedRequest[];
  /** The answers it couldn't parse as HTTP, when the proxy reports them. */
  malformed?(): readonly MalformedAnswer[];
}

export interface GuardedNavigation {
  url: string;
  waitUntil: NonNullable<GoToOptions['waitUntil']>;
  /** Puppeteer's own navigation timeout; 0 when the caller's deadline (an abort) bounds it. */
  timeoutMs: number;
  /** Absent when the page's traffic goes through no egress proxy. */
  guard?: NavigationGuard | undefined;
}

/** `page.goto` with the guard's refusals and malformed answers turned into their errors. */
export const guardedGoto = async (page: Page, nav: GuardedNavigation): Promise<HTTPResponse | null> => {
  const { guard } = nav;
  const response = await page
    .goto(nav.url, { waitUntil: nav.waitUntil, timeout: nav.timeoutMs })
    .catch((error: unknown) => {
      const refused = refusalBehindNavigationError(error, guard?.refused() ?? []);
      if (refused !== undefined) throw blockedNavigationError(refused);
      // Chromium names the URL it failed on (the one asked for, or a redirect's).
      const failedOn = error instanceof Error ? error.message : '';
      const broken = guard?.malformed?.().find((m) => m.url === nav.url || failedOn.includes(` at ${m.url}`));
      if (broken !== undefined) {
        // The same site answers the same way next time: not retried.
        throw new BrowserfleetError(
          ERROR_CODES.NAVIGATION_FAILED,
          `Navigation failed: ${broken.url} answered with a malformed HTTP response (${broken.code}).`,
          { retryable: false, cause: error },
        );
      }
      throw error;
    });
  // An http page (or a redirect on its way) the guard refused is its 403 answer.
  const refused = guard
    ?.refused()
    .find((b) => b.url === response?.url() || b.url === page.url() || b.url === nav.url);
  if (refused !== undefined) throw blockedNavigationError(refused);
  return response;
};
