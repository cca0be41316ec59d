/**
 * Applies a task's page options to a fresh page, before navigation. Puppeteer adapter code:
 * the option names are Puppeteer's own.
 */
import { KnownDevices, type Page } from 'puppeteer-core';
import type { PageOptions } from '../../task/task-input.js';
import { pinLanguage } from './in-page/page-setup-scripts.js';

/** Sets the page up; answers a cleanup to run before the context closes. */
export const setUpPage = async (page: Page, url: string, options: PageOptions): Promise<void> => {
  if (options.device !== undefined) {
    await page.emulate(KnownDevices[options.device as keyof typeof KnownDevices]);
  } else {
    await page.setViewport(options.viewport);
  }
  if (options.userAgent !== undefined) await page.setUserAgent({ userAgent: options.userAgent });
  const headers = {
    ...options.extraHTTPHeaders,
    ...(options.locale === undefined ? {} : { 'accept-language': options.locale }),
  };
  if (Object.keys(headers).length > 0) await page.setExtraHTTPHeaders(headers);
  if (options.authenticate !== undefined) await page.authenticate(options.authenticate);
  if (!options.javaScriptEnabled) await page.setJavaScriptEnabled(false);
  if (options.emulateMediaType !== undefined) await page.emulateMediaType(options.emulateMediaType);
  if (options.timezoneId !== undefined) await page.emulateTimezone(options.timezoneId);
  if (options.locale !== undefined) {
    const locale = options.locale;
    await page.evaluateOnNewDocument(pinLanguage, locale);
  }
  if (options.cookies !== undefined && options.cookies.length > 0) {
    const host = new URL(url).hostname;
    await page.browserContext().setCookie(
      ...options.cookies.map((c) => ({
        ...c,
        domain: c.domain ?? host,
        path: c.path ?? '/',
      })),
    );
  }
  const rejected = new Set<string>(options.rejectResourceTypes ?? []);
  if (rejected.size > 0) {
    await page.setRequestInterception(true);
    page.on('request', (request) => {
      if (request.isInterceptResolutionHandled()) return;
      // Either call fails only once the page or its context has closed: nothing left to decide.
      if (rejected.has(request.resourceType())) void request.abort('blockedbyclient').catch(() => {});
      else void request.continue().catch(() => {});
    });
  }
};

/** The waits after navigation: a selector, then a fixed pause. Both bounded by the deadline. */
export const waitAfterNavigation = async (page: Page, options: PageOptions): Promise<void> => {
  if (options.waitForSelector !== undefined) {
    await page.waitForSelector(options.waitForSelector.selector, {
      visible: options.waitForSelector.visible,
      hidden: options.waitForSelector.hidden,
      timeout: 0,
    });
  }
  if (options.waitForTimeout !== undefined && options.waitForTimeout > 0) {
    await new Promise((resolve) => setTimeout(resolve, options.waitForTimeout));
  }
};
