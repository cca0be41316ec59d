/**
 * The one translation of what puppeteer-core and Chromium throw into the error family, for
 * tasks and live sessions alike. Retryability stays the code's default (the table in
 * `shared/task/retry-policy.ts`) except where the failure itself says more: a navigation
 * that failed on a certificate or a redirect loop fails the same way next time, while one
 * that failed on a reset connection may not.
 */
import { TimeoutError } from 'puppeteer-core';
import { BrowserfleetError, ERROR_CODES, isBrowserfleetError } from '../../errors.js';

/**
 * Chromium's net errors that the same URL would hit again: a retry only costs the tenant
 * another attempt. Everything else `net::ERR_…` (reset, refused, empty response, timed out,
 * a name that didn't resolve this time) is transient network trouble, retried with backoff.
 */
const PERMANENT_NET_ERROR =
  /net::ERR_(CERT_[A-Z_]+|SSL_[A-Z_]+|BAD_SSL_CLIENT_AUTH_CERT|TOO_MANY_REDIRECTS|UNSAFE_PORT|UNSAFE_REDIRECT|INVALID_URL|INVALID_REDIRECT|DISALLOWED_URL_SCHEME|UNKNOWN_URL_SCHEME|BLOCKED_BY_CLIENT|BLOCKED_BY_RESPONSE|BLOCKED_BY_ADMINISTRATOR|INVALID_CHUNKED_ENCODING|CONTENT_DECODING_FAILED|RESPONSE_HEADERS_TOO_BIG|INVALID_HTTP_RESPONSE|ABORTED)\b/;

/**
 * What Chromium answers when a CDP command's parameters are bad (a header value with CR/LF,
 * a cookie it can't set, a user agent it refuses): the input is at fault, not the browser.
 */
const INVALID_PARAMETERS =
  /Protocol error \(([A-Za-z.]+)\): (Invalid [^\n]*|[^\n]*[Ii]nvalid (parameters|header|cookie)[^\n]*)/;

/** A selector the page's engine can't parse: the same input fails again. */
const INVALID_SELECTOR = /is not a valid selector|Unknown selector type|Invalid selector/i;

export interface TranslationContext {
  /** Whether the browser was still connected after the failure (a disconnect is a crash). */
  browserConnected: boolean;
  /** What timed out, for the message (`The page`, `navigate`, …). */
  what?: string;
}

/** The family's form of `error`; errors of the family pass through unchanged. */
export const translatePuppeteerError = (error: unknown, context: TranslationContext): BrowserfleetError => {
  if (isBrowserfleetError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (!context.browserConnected) {
    return new BrowserfleetError(ERROR_CODES.BROWSER_CRASHED, 'The browser crashed while running the work.', {
      cause: error,
    });
  }
  if (error instanceof TimeoutError) {
    return new BrowserfleetError(
      ERROR_CODES.TIMEOUT,
      `${context.what ?? 'The page'} did not finish in time: ${message}`,
      { cause: error },
    );
  }
  if (/net::ERR_|NS_ERROR_/.test(message)) {
    return new BrowserfleetError(ERROR_CODES.NAVIGATION_FAILED, `Navigation failed: ${message}`, {
      cause: error,
      ...(PERMANENT_NET_ERROR.test(message) ? { retryable: false } : {}),
    });
  }
  const invalid = INVALID_PARAMETERS.exec(message);
  if (invalid !== null) {
    return new BrowserfleetError(
      ERROR_CODES.VALIDATION_FAILED,
      `Chromium refused the task's options (${invalid[1]}): ${invalid[2]}`,
      { cause: error },
    );
  }
  if (INVALID_SELECTOR.test(message)) {
    return new BrowserfleetError(
      ERROR_CODES.VALIDATION_FAILED,
      `A selector is not valid: ${firstLine(message)}`,
      {
        cause: error,
      },
    );
  }
  if (/Target closed|Session closed|detached|Protocol error/i.test(message)) {
    return new BrowserfleetError(ERROR_CODES.BROWSER_CRASHED, `The page crashed: ${firstLine(message)}`, {
      cause: error,
    });
  }
  if (/Navigation/i.test(message)) {
    return new BrowserfleetError(ERROR_CODES.NAVIGATION_FAILED, `Navigation failed: ${firstLine(message)}`, {
      cause: error,
    });
  }
  return new BrowserfleetError(ERROR_CODES.INTERNAL, 'The browser work failed unexpectedly.', {
    cause: error,
  });
};

const firstLine = (message: string): string => (message.split('\n')[0] ?? '').slice(0, 500);

/** What a session command's failure means the same way as a task's (see `translatePuppeteerError`). */
const SHARED_MEANINGS = new Set<string>([ERROR_CODES.NAVIGATION_FAILED, ERROR_CODES.VALIDATION_FAILED]);

/**
 * A live session's command failure in the family. Through the one translation above: net
 * errors (retryability included), options Chromium refused and selectors it can't parse mean
 * the same in a session as in a task. What else a command throws is the client's script or
 * page failing, answered `SCRIPT_ERROR` — the session lives on either way.
 */
export const translateSessionCommandError = (
  error: unknown,
  context: { what: string; timeoutMs: number },
): BrowserfleetError => {
  if (error instanceof TimeoutError) {
    return new BrowserfleetError(
      ERROR_CODES.TIMEOUT,
      `${context.what} did not finish within ${context.timeoutMs} ms.`,
      { cause: error },
    );
  }
  if (isBrowserfleetError(error)) return error;
  const translated = translatePuppeteerError(error, { browserConnected: true, what: context.what });
  if (SHARED_MEANINGS.has(translated.code)) return translated;
  const message = error instanceof Error ? error.message : String(error);
  if (/Evaluation failed|is not a function|SyntaxError|ReferenceError|TypeError/.test(message)) {
    return new BrowserfleetError(ERROR_CODES.SCRIPT_ERROR, `The script failed in the page: ${message}`, {
      cause: error,
    });
  }
  return new BrowserfleetError(ERROR_CODES.SCRIPT_ERROR, message.slice(0, 500), { cause: error });
};
