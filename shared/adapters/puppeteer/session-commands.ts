/**
 * What each live-session command does to the page, one entry per method, each handed its
 * own params (parsed and defaulted by the session's command table) — typed by method, so
 * there is no switch to keep in step with the protocol and no cast.
 */
import type { HTTPResponse, Page } from 'puppeteer-core';
import { BrowserfleetError, ERROR_CODES } from '../../errors.js';
import type { BrowserCommandMethod } from '../../session/ports.js';
import { type CommandParams, MAX_EVALUATE_RESULT_BYTES } from '../../session/session-input.js';
import { compiledInPage, evaluateBounded, jsonOf } from './bounded-evaluate.js';
import { guardedGoto } from './guarded-navigation.js';

/** What the session's egress proxy refused so far: the newest last, and how many in all. */
export interface EgressRefusals {
  blocked(): { url: string; reason: string }[];
  blockedTotal(): number;
}

export interface PageCommandContext {
  /** The page the session is on when the command starts. */
  page: Page;
  proxy: EgressRefusals;
  timeoutMs: number;
}

export type PageCommand<M extends BrowserCommandMethod> = (
  context: PageCommandContext,
  params: CommandParams<M>,
) => Promise<unknown>;

/** Where a history step or reload ended up. */
const landed = (page: Page, response: HTTPResponse | null) => ({
  url: page.url(),
  status: response?.status() ?? null,
});

/**
 * Puppeteer types key names as the union of its keyboard layout's keys, and checks them
 * itself at run time (an unknown one throws "Unknown key"), so a client's string goes as is.
 */
const pressKey = (keyboard: { press(key: string): Promise<void> }, key: string): Promise<void> =>
  keyboard.press(key);

const navigate: PageCommand<'navigate'> = async ({ page, proxy, timeoutMs }, p) => {
  const before = proxy.blockedTotal();
  /** What the proxy refused since this navigation began (the session's proxy lives on). */
  const since = () => {
    const fresh = Math.min(proxy.blockedTotal() - before, 200);
    return fresh === 0 ? [] : proxy.blocked().slice(-fresh);
  };
  // The same guarded navigation as a task's, judged on what was refused since it began.
  const response = await guardedGoto(page, {
    url: p.url,
    waitUntil: p.waitUntil,
    timeoutMs,
    guard: { refused: since },
  });
  return landed(page, response);
};

const click: PageCommand<'click'> = async ({ page }, p) => {
  if ('selector' in p) {
    const handle = await page.$(p.selector);
    if (handle === null) {
      throw new BrowserfleetError(ERROR_CODES.SELECTOR_NOT_FOUND, `No element matches ${p.selector}.`);
    }
    await handle.click({ count: p.clickCount });
    await handle.dispose();
  } else {
    await page.mouse.click(p.x, p.y, { count: p.clickCount });
  }
  return { url: page.url() };
};

const evaluate: PageCommand<'evaluate'> = async ({ page }, p) => {
  // The expression runs in the page, as a function of the JSON arguments when it is one;
  // its answer is serialized and measured there, so one too big never leaves it.
  const value = `(async () => {
    const fn = ${compiledInPage(p.expression)};
    return typeof fn === 'function' ? fn(...${JSON.stringify(p.args)}) : fn;
  })()`;
  const answer = await evaluateBounded(page, jsonOf(value, MAX_EVALUATE_RESULT_BYTES), {
    bytes: MAX_EVALUATE_RESULT_BYTES,
    what: "The expression's JSON result",
    hint: 'Return less: the values you need, or take a screenshot.',
  });
  if ('threw' in answer) {
    throw new BrowserfleetError(ERROR_CODES.SCRIPT_ERROR, `The script failed in the page: ${answer.threw}`);
  }
  const result: unknown = JSON.parse(answer.text);
  return { value: result };
};

/** Every command the page answers itself (a screenshot's bytes are `screenshot()`'s). */
export const PAGE_COMMANDS: { [M in BrowserCommandMethod]: PageCommand<M> } = {
  navigate,
  click,
  type: async ({ page }, p) => {
    if (p.selector !== undefined) await page.type(p.selector, p.text);
    else await page.keyboard.type(p.text);
    return {};
  },
  press: async ({ page }, p) => {
    await pressKey(page.keyboard, p.key);
    return {};
  },
  scroll: async ({ page }, p) => {
    if (p.x !== undefined && p.y !== undefined) await page.mouse.move(p.x, p.y);
    await page.mouse.wheel({ deltaX: p.deltaX, deltaY: p.deltaY });
    return {};
  },
  evaluate,
  setViewport: async ({ page }, p) => {
    await page.setViewport(p);
    return {};
  },
  back: async ({ page, timeoutMs }) => landed(page, await page.goBack({ timeout: timeoutMs })),
  forward: async ({ page, timeoutMs }) => landed(page, await page.goForward({ timeout: timeoutMs })),
  reload: async ({ page, timeoutMs }, p) =>
    landed(page, await page.reload({ waitUntil: p.waitUntil, timeout: timeoutMs })),
};
