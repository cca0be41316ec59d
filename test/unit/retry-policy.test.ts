import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
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
    ['NAVIGATION_FAILED', false],
    ['VALIDATION_FAILED', false],
  ] as const)('%s is retryable: %s', (code, retryable) => {
    expect(classifyError(new BrowserfleetError(ERROR_CODES[code], 'x'))).toMatchObject({ code, retryable });
  });

  it('treats AWS throttling as THROTTLED and anything unknown as a retryable internal error', () => {
    expect(classifyError(Object.assign(new Error('slow'), { name: 'ThrottlingException' }))).toMatchObject({
      code: 'THROTTLED',
      retryable: true,
    });
    const unknown = classifyError(new TypeError('secret internals'));
    expect(unknown).toMatchObject({ code: 'INTERNAL', retryable: true });
    expect(unknown.message).not.toContain('secret');
  });
});
