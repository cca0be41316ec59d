/**
 * What a live session's failed command answers (translateSessionCommandError): what it
 * shares with tasks comes from the one Puppeteer translator, the rest is the page's or the
 * script's fault (SCRIPT_ERROR), and nothing makes it a crash: the session lives on.
 */
import { TimeoutError } from 'puppeteer-core';
import { describe, expect, it } from 'vitest';
import { withDeadline } from '../../shared/adapters/puppeteer/command-deadline.js';
import { translateSessionCommandError } from '../../shared/adapters/puppeteer/puppeteer-errors.js';
import { BrowserfleetError, ERROR_CODES } from '../../shared/errors.js';

const translate = (error: unknown) =>
  translateSessionCommandError(error, { what: 'navigate', timeoutMs: 5_000 });

describe("a session command's failure", () => {
  it("Puppeteer's own timeout is TIMEOUT naming the command and its deadline", () => {
    const error = new TimeoutError('Navigation timeout of 5000 ms exceeded');
    expect(translate(error)).toMatchObject({
      code: ERROR_CODES.TIMEOUT,
      message: 'navigate did not finish within 5000 ms.',
      cause: error,
    });
  });

  it('an error of the family passes through as it is', () => {
    const error = new BrowserfleetError(ERROR_CODES.SELECTOR_NOT_FOUND, 'No element matches #x.');
    expect(translate(error)).toBe(error);
  });

  it('net errors and refused options mean what they mean for a task, permanence included', () => {
    expect(translate(new Error('net::ERR_CERT_AUTHORITY_INVALID at https://x'))).toMatchObject({
      code: ERROR_CODES.NAVIGATION_FAILED,
      retryable: false,
    });
    expect(translate(new Error('net::ERR_CONNECTION_RESET at https://x'))).toMatchObject({
      code: ERROR_CODES.NAVIGATION_FAILED,
      retryable: undefined,
    });
    expect(translate(new Error("'#[' is not a valid selector"))).toMatchObject({
      code: ERROR_CODES.VALIDATION_FAILED,
    });
  });

  it("the script's own failure is SCRIPT_ERROR, and so is anything else, cut to 500 characters — never a crash", () => {
    expect(translate(new Error('Evaluation failed: ReferenceError: x is not defined'))).toMatchObject({
      code: ERROR_CODES.SCRIPT_ERROR,
      message: 'The script failed in the page: Evaluation failed: ReferenceError: x is not defined',
    });
    const other = translate(
      new Error(`Protocol error (Input.dispatchKeyEvent): Target closed ${'z'.repeat(900)}`),
    );
    expect(other.code).toBe(ERROR_CODES.SCRIPT_ERROR);
    expect(other.message).toHaveLength(500);
  });

  it('a command past its deadline is TIMEOUT, however the work ends later', async () => {
    let finish: (value: string) => void = () => {};
    const work = new Promise<string>((resolve) => {
      finish = resolve;
    });
    const answer = withDeadline(work, 10, 'click').catch((error: unknown) => error);
    expect(await answer).toMatchObject({
      code: ERROR_CODES.TIMEOUT,
      message: 'click did not finish within 10 ms.',
    });
    finish('late');
    expect(await withDeadline(Promise.resolve('on time'), 1_000, 'click')).toBe('on time');
  });
});
