/**
 * Runs a script in a page and lets only a bounded answer out. Whatever a page produces
 * crosses CDP whole and lands in the worker's memory (a pipe's buffers, a decoded string,
 * a parsed value) before the worker could look at its size: a 200 MB string grew the
 * worker by ~800 MB, and one past V8's string limit threw inside Puppeteer's pipe handler,
 * uncaught. So the size is judged in the page, and what is too big never leaves it.
 */
import type { Page } from 'puppeteer-core';
import { BrowserfleetError, ERROR_CODES } from '../../errors.js';
import { formatBytes } from '../../output-caps.js';

/** The longest error message that comes back from the page, in characters. */
export const PAGE_ERROR_MESSAGE_CHARS = 1_000;

/** What the wrapper answers: the text, how far past the cap it got, or what the page threw. */
type InPageAnswer = { ok: string } | { tooLarge: number } | { threw: string };

/**
 * The page-side wrapper around `producer`, a JS expression that evaluates (or resolves) to
 * the output text, or to a number: how many characters it had collected when it stopped
 * early past the cap. The page's own scripts ran first and may have redefined `JSON`,
 * `String.prototype`, `Error` and the rest; only `typeof` and a string primitive's `length`
 * decide what may leave, and no page can redefine those. (The cap is in characters here;
 * a character is 1–3 UTF-8 bytes, so the worker checks the exact byte count of the at most
 * 3 × cap bytes that can cross.)
 */
const inPage = (producer: string, capChars: number): string => `(async () => {
  // Functions passed as source (Function.prototype.toString) may call esbuild's keepNames
  // helper, as tsx compiles them; it only names functions, so here it does nothing.
  const __name = (fn) => fn;
  const cap = ${capChars};
  const limit = ${PAGE_ERROR_MESSAGE_CHARS};
  let out;
  try {
    out = await (${producer});
  } catch (error) {
    let message;
    try {
      message = error instanceof Error ? String(error.name) + ': ' + String(error.message) : String(error);
      if (typeof message === 'string' && message.length > limit) message = message.slice(0, limit);
    } catch {}
    if (typeof message !== 'string' || message.length > limit) message = 'an error whose message cannot be shown';
    return { threw: message };
  }
  if (typeof out === 'number') return { tooLarge: out };
  if (typeof out !== 'string') return { threw: 'the script produced no text' };
  if (out.length > cap) return { tooLarge: out.length };
  return { ok: out };
})()`;

export interface OutputCap {
  bytes: number;
  /** What is too large, as the error message names it: `The page's HTML`. */
  what: string;
  /** What to do instead, said to the caller. */
  hint: string;
}

/** The page's text, or what it threw (a message of at most `PAGE_ERROR_MESSAGE_CHARS`). */
export type BoundedAnswer = { text: string } | { threw: string };

/**
 * Evaluates `producer` in the page's main world; answers its text if it fits in `cap`,
 * throws `RESULT_TOO_LARGE` naming the cap if it doesn't.
 */
export const evaluateBounded = async (
  page: Page,
  producer: string,
  cap: OutputCap,
): Promise<BoundedAnswer> => {
  const answer = (await page.evaluate(inPage(producer, cap.bytes))) as InPageAnswer | null;
  if (answer !== null && typeof answer === 'object') {
    if ('ok' in answer && typeof answer.ok === 'string') {
      const bytes = Buffer.byteLength(answer.ok, 'utf8');
      if (bytes > cap.bytes) throw tooLarge(cap, bytes);
      return { text: answer.ok };
    }
    if ('tooLarge' in answer) throw tooLarge(cap, Number(answer.tooLarge));
    if ('threw' in answer && typeof answer.threw === 'string') {
      return { threw: answer.threw.slice(0, PAGE_ERROR_MESSAGE_CHARS) };
    }
  }
  throw new Error('The page answered the platform script with something unexpected.');
};

const tooLarge = (cap: OutputCap, atLeast: number): BrowserfleetError =>
  new BrowserfleetError(
    ERROR_CODES.RESULT_TOO_LARGE,
    `${cap.what} is larger than its cap of ${formatBytes(cap.bytes)}` +
      (Number.isFinite(atLeast) && atLeast > cap.bytes ? ` (at least ${atLeast} bytes)` : '') +
      `. ${cap.hint}`,
    { details: { capBytes: cap.bytes } },
  );

/**
 * In-page source: the JSON of `expression`'s value, `null` for nothing JSON can hold, and
 * past the cap when the value is too big for one string at all (V8's limit is ~512 MB).
 */
export const jsonOf = (expression: string, capChars: number): string => `(async () => {
  const value = await (${expression});
  let json;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    if (error instanceof RangeError && /string length/i.test(String(error.message))) return ${capChars + 1};
    throw error;
  }
  return json === undefined ? 'null' : json;
})()`;

/**
 * In-page source: the caller's `source` compiled as one expression in the page's global
 * scope. It travels as a string literal and is compiled there, never spliced into the
 * platform's own script, where a `) … (` in it could rewrite the wrapper that judges sizes.
 */
export const compiledInPage = (source: string): string =>
  `new Function(${JSON.stringify('return (')} + ${JSON.stringify(source)} + ${JSON.stringify('\n);')})()`;
