import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { translateSdkError } from '../../shared/adapters/aws-sdk-errors.js';
import { translatePuppeteerError } from '../../shared/adapters/puppeteer/puppeteer-errors.js';
import { BrowserfleetError, ERROR_CODES } from '../../shared/errors.js';
import { backoffDelayMs, classifyError } from '../../shared/task/retry-policy.js';

const policy = fc.record({
  baseMs: fc.integer({ min: 0, max: 10_000 }),
  capMs: fc.integer({ min: 0, max: 900_000 }),
});
const unit = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

describe('backoff with full jitter', () => {
  it('is always a whole number within [0, min(cap, base·2^(retry−1))]', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100 }), policy, unit, (retry, p, r) => {
        const delay = backoffDelayMs(retry, p, () => r);
        const ceiling = Math.min(p.capMs, p.baseMs * 2 ** Math.min(retry - 1, 30));
        return Number.isInteger(delay) && delay >= 0 && delay <= ceiling;
      }),
    );
  });

  it('never exceeds the cap, however many retries', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        policy,
        unit,
        (retry, p, r) => backoffDelayMs(retry, p, () => r) <= p.capMs,
      ),
    );
  });

  it('grows its window exponentially until the cap: the top draw doubles per retry', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 1_000 }), (retry, baseMs) => {
        const p = { baseMs, capMs: Number.MAX_SAFE_INTEGER };
        const top = (n: number) => backoffDelayMs(n, p, () => 0.999_999_999);
        return top(retry + 1) >= 2 * top(retry) - 1;
      }),
    );
  });

  it('spreads draws over the whole window (the jitter is full, not partial)', () => {
    const p = { baseMs: 1_000, capMs: 60_000 };
    expect(backoffDelayMs(3, p, () => 0)).toBe(0);
    expect(backoffDelayMs(3, p, () => 0.999_999)).toBe(4_000);
    expect(backoffDelayMs(3, p, () => 0.5)).toBe(2_000);
  });
});

describe('error classification', () => {
  it.each([
    ['BROWSER_CRASHED', true],
    ['TIMEOUT', true],
    ['WORKER_SHUTDOWN', true],
    ['THROTTLED', true],
    ['NAVIGATION_FAILED', true],
    ['SCRIPT_ERROR', false],
    ['RESULT_TOO_LARGE', false],
    ['VALIDATION_FAILED', false],
  ] as const)('%s is retryable: %s', (code, retryable) => {
    expect(classifyError(new BrowserfleetError(ERROR_CODES[code], 'x'))).toMatchObject({ code, retryable });
  });

  it('treats AWS throttling (as the SDK adapter translates it) as THROTTLED, anything unknown as a retryable internal error', () => {
    const sdk = (name: string, status: number) =>
      Object.assign(new Error('x'), { name, $metadata: { httpStatusCode: status } });
    for (const [error, code] of [
      [sdk('ThrottlingException', 400), 'THROTTLED'],
      [sdk('ProvisionedThroughputExceededException', 400), 'THROTTLED'],
      [sdk('RequestThrottled', 403), 'THROTTLED'],
      [sdk('SlowDown', 503), 'THROTTLED'],
      [sdk('InternalServerError', 500), 'DEPENDENCY_UNAVAILABLE'],
      [sdk('InternalFailure', 500), 'DEPENDENCY_UNAVAILABLE'],
      [Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 'DEPENDENCY_UNAVAILABLE'],
    ] as const) {
      expect(classifyError(translateSdkError('DynamoDB', error))).toMatchObject({ code, retryable: true });
    }
    // What the calling adapter reads itself passes unchanged.
    const condition = sdk('ConditionalCheckFailedException', 400);
    expect(translateSdkError('DynamoDB', condition)).toBe(condition);
    const unknown = classifyError(new TypeError('secret internals'));
    expect(unknown).toMatchObject({ code: 'INTERNAL', retryable: true });
    expect(unknown.message).not.toContain('secret');
  });
});

describe('one retry rule: the code decides, unless the adapter that raised it knew more', () => {
  it("an override on the error wins over the code's default, both ways", () => {
    const permanent = new BrowserfleetError(ERROR_CODES.NAVIGATION_FAILED, 'x', { retryable: false });
    expect(classifyError(permanent).retryable).toBe(false);
    const conflict = new BrowserfleetError(ERROR_CODES.CONFLICT, 'x', { retryable: true });
    expect(classifyError(conflict).retryable).toBe(true);
    expect(new BrowserfleetError(ERROR_CODES.CONFLICT, 'x').retryable).toBeUndefined();
  });

  const navigation = (netError: string) =>
    classifyError(
      translatePuppeteerError(new Error(`net::${netError} at http://a.test/`), { browserConnected: true }),
    );

  it.each([
    'ERR_EMPTY_RESPONSE',
    'ERR_CONNECTION_RESET',
    'ERR_CONNECTION_REFUSED',
    'ERR_CONNECTION_CLOSED',
    'ERR_NAME_NOT_RESOLVED',
    'ERR_TIMED_OUT',
    'ERR_INCOMPLETE_CHUNKED_ENCODING',
  ])('a navigation that failed with %s is retried (transient network trouble)', (netError) => {
    expect(navigation(netError)).toMatchObject({ code: 'NAVIGATION_FAILED', retryable: true });
  });

  it.each([
    'ERR_CERT_AUTHORITY_INVALID',
    'ERR_SSL_PROTOCOL_ERROR',
    'ERR_TOO_MANY_REDIRECTS',
    'ERR_UNSAFE_PORT',
    'ERR_INVALID_CHUNKED_ENCODING',
    'ERR_ABORTED',
  ])('a navigation that failed with %s ends the task at once (the same URL fails again)', (netError) => {
    expect(navigation(netError)).toMatchObject({ code: 'NAVIGATION_FAILED', retryable: false });
  });

  it("Chromium refusing the task's options is bad input, not a crash, and not retried", () => {
    const refused = translatePuppeteerError(
      new Error('Protocol error (Network.setExtraHTTPHeaders): Invalid header value'),
      { browserConnected: true },
    );
    expect(classifyError(refused)).toMatchObject({ code: 'VALIDATION_FAILED', retryable: false });
    const selector = translatePuppeteerError(
      new Error(
        "SyntaxError: Failed to execute 'querySelector' on 'Document': 'a[' is not a valid selector.",
      ),
      { browserConnected: true },
    );
    expect(classifyError(selector)).toMatchObject({ code: 'VALIDATION_FAILED', retryable: false });
  });

  it('a disconnected browser is a crash (retried) whatever the message', () => {
    const crashed = translatePuppeteerError(new Error('Protocol error: Target closed'), {
      browserConnected: false,
    });
    expect(classifyError(crashed)).toMatchObject({ code: 'BROWSER_CRASHED', retryable: true });
  });
});
