/**
 * What each live-session command does to the page, one entry per method, each handed its
 * own params (parsed and defaulted by the session's command table) — typed by method, so
 * there is no switch to keep in step with the protocol and no cast.
 */
import type { HTTPResponse, Page } from 'puppeteer-core';
import { BrowserfleetError, ERROR_CODES } from '../../errors.js';
import type { BrowserCommandMethod } from '../../session/ports.js';
import { type CommandParams, MAX_EVALUATE_RESULT_BYTES } from '../../session/session-input.js';
import { consoleRead, networkRead } from '../../session/session-log.js';
import { compiledInPage, evaluateBounded, jsonOf } from './bounded-evaluate.js';
import { guardedGoto } from './guarded-navigation.js';
import {
  focusInPage,
  pageHasTextInPage,
  prepareFillInPage,
  selectOptionsInPage,
} from './in-page/snapshot-scripts.js';
import { type ElementTarget, handleTarget, type PageRefs, portable } from './page-refs.js';
import type { SessionLogs } from './session-logs.js';
import type { SessionTabs } from './session-tabs.js';

/** What the session's egress proxy refused so far: the newest last, and how many in all. */
export interface EgressRefusals {
  blocked(): { url: string; reason: string }[];
  blockedTotal(): number;
}

export interface PageCommandContext {
  /** The page the session is on when the command starts (its active tab). */
  page: Page;
  proxy: EgressRefusals;
  timeoutMs: number;
  /** The session's snapshot refs (they outlive a command). */
  refs: PageRefs;
  /** The session's tabs (`tabs`). */
  tabs: SessionTabs;
  /** What the session's pages logged and fetched (`console`, `network`). */
  logs: SessionLogs;
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

/** The element a selector or a snapshot's ref names: `SELECTOR_NOT_FOUND` / `STALE_REF` if none. */
const targetOf = async (
  { page, refs }: PageCommandContext,
  p: { selector?: string | undefined; ref?: string | undefined },
): Promise<ElementTarget> => {
  if (p.ref !== undefined) return refs.element(page, p.ref);
  const selector = p.selector ?? '';
  const handle = await page.$(selector);
  if (handle === null) {
    throw new BrowserfleetError(ERROR_CODES.SELECTOR_NOT_FOUND, `No element matches ${selector}.`);
  }
  return handleTarget(handle);
};

/** Runs `act` on the element `p` names, and lets go of it after. */
const onTarget = async <T>(
  context: PageCommandContext,
  p: { selector?: string | undefined; ref?: string | undefined },
  act: (target: ElementTarget) => Promise<T>,
): Promise<T> => {
  const target = await targetOf(context, p);
  try {
    return await act(target);
  } finally {
    await target.release().catch(() => {});
  }
};

/** What page code on an element refused, as the client's error (the element they named is wrong). */
const refusedBy = (p: { ref?: string | undefined }, refused: string): BrowserfleetError => {
  const field = p.ref === undefined ? 'params.selector' : 'params.ref';
  return new BrowserfleetError(ERROR_CODES.VALIDATION_FAILED, `${field}: ${refused}`, {
    details: { issues: [{ field, message: refused }] },
  });
};

const click: PageCommand<'click'> = async (context, p) => {
  const { page } = context;
  if ('x' in p) {
    await page.mouse.click(p.x, p.y, { count: p.clickCount });
  } else if ('ref' in p) {
    await onTarget(context, p, async (target) => {
      const { x, y } = await target.point();
      await page.mouse.click(x, y, { count: p.clickCount });
    });
  } else {
    const handle = await page.$(p.selector);
    if (handle === null) {
      throw new BrowserfleetError(ERROR_CODES.SELECTOR_NOT_FOUND, `No element matches ${p.selector}.`);
    }
    await handle.click({ count: p.clickCount });
    await handle.dispose();
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

const tabs: PageCommand<'tabs'> = async (context, p) => {
  const { tabs } = context;
  if (p.action === 'open') {
    const { url } = p;
    // A URL is reached as `navigate` reaches it: under the egress guard, its refusals errors.
    await tabs.open((page) =>
      url === undefined ? Promise.resolve() : navigate({ ...context, page }, { url, waitUntil: 'load' }),
    );
  } else if (p.action === 'select') await tabs.select(p.index);
  else if (p.action === 'close') await tabs.close(p.index);
  return { tabs: await tabs.list() };
};

/** Every command the page answers itself (a screenshot's bytes are `screenshot()`'s). */
export const PAGE_COMMANDS: { [M in BrowserCommandMethod]: PageCommand<M> } = {
  navigate,
  click,
  type: async (context, p) => {
    const { page } = context;
    if (p.ref !== undefined) {
      await onTarget(context, p, (target) => target.run(focusInPage));
      await page.keyboard.type(p.text);
    } else if (p.selector !== undefined) await page.type(p.selector, p.text);
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
  snapshot: ({ page, refs }, p) => refs.snapshot(page, p),
  hover: (context, p) =>
    onTarget(context, p, async (target) => {
      const { x, y } = await target.point();
      await context.page.mouse.move(x, y);
      return {};
    }),
  select: (context, p) =>
    onTarget(context, p, async (target) => {
      const answer = await target.run(selectOptionsInPage, p.values);
      if ('refused' in answer) throw refusedBy(p, answer.refused);
      return answer;
    }),
  fill: (context, p) =>
    onTarget(context, p, async (target) => {
      const how = await target.run(prepareFillInPage, p.value);
      if (typeof how === 'object') throw refusedBy(p, how.refused);
      // Typed over the selected content, as one insertion: the page sees `input` events.
      if (how === 'type') {
        if (p.value === '') await context.page.keyboard.press('Delete');
        else await context.page.keyboard.sendCharacter(p.value);
      }
      return {};
    }),
  wait: async ({ page, timeoutMs }, p) => {
    if (p.selector !== undefined) {
      const state = p.state ?? 'visible';
      await page.waitForSelector(p.selector, {
        visible: state === 'visible',
        hidden: state === 'hidden',
        timeout: timeoutMs,
      });
    } else if (p.text !== undefined) {
      await page.waitForFunction(
        portable(pageHasTextInPage),
        { timeout: timeoutMs, polling: 'mutation' },
        p.text,
      );
    } else {
      await page.waitForNavigation({ waitUntil: p.waitUntil ?? 'load', timeout: timeoutMs });
    }
    return { url: page.url() };
  },
  console: async ({ logs }, p) => {
    const { entries, ...rest } = logs.console.read(consoleRead(p));
    return { messages: entries, ...rest };
  },
  network: async ({ logs }, p) => {
    const { entries, ...rest } = logs.network.read(networkRead(p));
    return { requests: entries, ...rest };
  },
  tabs,
};
