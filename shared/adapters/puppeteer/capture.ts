/**
 * What each task type does to a loaded page. One entry per type (a missing one is a type
 * error); every script the platform runs in the page is a function evaluated there, never
 * caller code evaluated in the worker.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'puppeteer-core';
import { BrowserfleetError, ERROR_CODES } from '../../errors.js';
import type { BrowserJob, ProducedArtifact } from '../../task/ports.js';
import { EVALUATE_LIMITS, screenshotContentType, type TaskType } from '../../task/task-input.js';

export interface Captured {
  artifacts: ProducedArtifact[];
  data?: unknown;
}

type Capturer<T extends TaskType> = (page: Page, job: Extract<BrowserJob, { type: T }>) => Promise<Captured>;

const json = (name: string, data: unknown): ProducedArtifact => ({
  name,
  contentType: 'application/json',
  body: new TextEncoder().encode(JSON.stringify(data)),
});
const text = (name: string, contentType: string, value: string): ProducedArtifact => ({
  name,
  contentType,
  body: new TextEncoder().encode(value),
});

/** Readability and Turndown, injected into the page to turn its main content into Markdown. */
const markdownLibraries = (() => {
  let cached: string | undefined;
  return (): string => {
    if (cached === undefined) {
      const require = createRequire(import.meta.url);
      cached = [
        readFileSync(require.resolve('@mozilla/readability/Readability.js'), 'utf8'),
        readFileSync(require.resolve('turndown/lib/turndown.browser.umd.js'), 'utf8'),
      ].join('\n;\n');
    }
    return cached;
  };
})();

const CAPTURERS: { [T in TaskType]: Capturer<T> } = {
  async screenshot(page, { options }) {
    let body: Uint8Array;
    const common = {
      type: options.format,
      omitBackground: options.omitBackground,
      ...(options.quality === undefined ? {} : { quality: options.quality }),
    };
    if (options.selector !== undefined) {
      const element = await page.$(options.selector);
      if (element === null) {
        throw new BrowserfleetError(
          ERROR_CODES.SELECTOR_NOT_FOUND,
          `options.selector "${options.selector}" matched nothing on the page.`,
        );
      }
      body = await element.screenshot(common);
    } else {
      body = await page.screenshot({
        ...common,
        fullPage: options.fullPage,
        ...(options.clip === undefined ? {} : { clip: options.clip }),
      });
    }
    return {
      artifacts: [
        { name: `screenshot.${options.format}`, contentType: screenshotContentType(options.format), body },
      ],
    };
  },

  async pdf(page, { options }) {
    const body = await page.pdf({
      format: options.format,
      landscape: options.landscape,
      printBackground: options.printBackground,
      displayHeaderFooter: options.displayHeaderFooter,
      scale: options.scale,
      preferCSSPageSize: options.preferCSSPageSize,
      ...(options.margin === undefined ? {} : { margin: options.margin }),
      ...(options.headerTemplate === undefined ? {} : { headerTemplate: options.headerTemplate }),
      ...(options.footerTemplate === undefined ? {} : { footerTemplate: options.footerTemplate }),
      ...(options.pageRanges === undefined ? {} : { pageRanges: options.pageRanges }),
      timeout: 0,
    });
    return { artifacts: [{ name: 'page.pdf', contentType: 'application/pdf', body }] };
  },

  async content(page) {
    const html = await page.content();
    return { artifacts: [text('content.html', 'text/html; charset=utf-8', html)], data: html };
  },

  async markdown(page) {
    // Runs in the page: Readability picks the main content, Turndown writes it as Markdown.
    const markdown = await page.evaluate(`(() => {
      ${markdownLibraries()}
      const article = new Readability(document.cloneNode(true)).parse();
      const html = article && article.content ? article.content : document.body ? document.body.innerHTML : '';
      const title = article && article.title ? '# ' + article.title + '\\n\\n' : '';
      const turndown = new TurndownService({ headingStyle: 'atx', codeBlockStyle: 'fenced' });
      return title + turndown.turndown(html);
    })()`);
    const value = String(markdown);
    return { artifacts: [text('content.md', 'text/markdown; charset=utf-8', value)], data: value };
  },

  async scrape(page, { options }) {
    const elements = options.elements;
    const result = await page.evaluate((specs) => {
      const read = (el: Element, spec: (typeof specs)[number]): string | null => {
        if (spec.extract === 'html') return el.outerHTML;
        if (spec.extract === 'attribute') return el.getAttribute(spec.attribute ?? '');
        return (el as HTMLElement).innerText ?? el.textContent ?? '';
      };
      const out: Record<string, unknown> = {};
      for (const spec of specs) {
        const found = Array.from(document.querySelectorAll(spec.selector));
        out[spec.name] = spec.all
          ? found.map((el) => read(el, spec))
          : found[0] === undefined
            ? null
            : read(found[0], spec);
      }
      return out;
    }, elements);
    return { artifacts: [json('scrape.json', result)], data: result };
  },

  async links(page, { options }) {
    const links = await page.evaluate((visibleOnly) => {
      const seen = new Set<string>();
      const out: { href: string; text: string }[] = [];
      for (const a of Array.from(document.querySelectorAll('a[href]')) as HTMLAnchorElement[]) {
        if (visibleOnly) {
          const box = a.getBoundingClientRect();
          const style = getComputedStyle(a);
          if (
            box.width === 0 ||
            box.height === 0 ||
            style.visibility === 'hidden' ||
            style.display === 'none'
          ) {
            continue;
          }
        }
        if (!/^https?:/.test(a.href) || seen.has(a.href)) continue;
        seen.add(a.href);
        out.push({ href: a.href, text: (a.innerText || a.textContent || '').trim().slice(0, 500) });
      }
      return out;
    }, options.visibleOnly);
    return { artifacts: [json('links.json', links)], data: links };
  },

  async evaluate(page, { options }) {
    let result: unknown;
    try {
      // The caller's function runs in the page's main world, with JSON arguments; what it
      // returns comes back as JSON. It never touches the worker.
      result = await page.evaluate(
        `(async () => { const fn = (${options.script}); return JSON.stringify(await fn(...${JSON.stringify(options.args)})); })()`,
      );
    } catch (error) {
      if (error instanceof BrowserfleetError) throw error;
      const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
      throw new BrowserfleetError(ERROR_CODES.SCRIPT_ERROR, `options.script threw in the page: ${message}`, {
        cause: error,
      });
    }
    const serialized = typeof result === 'string' ? result : 'null';
    if (Buffer.byteLength(serialized, 'utf8') > EVALUATE_LIMITS.resultBytes) {
      throw new BrowserfleetError(
        ERROR_CODES.RESULT_TOO_LARGE,
        `options.script returned more than ${EVALUATE_LIMITS.resultBytes} bytes of JSON.`,
      );
    }
    const data: unknown = JSON.parse(serialized);
    return { artifacts: [text('result.json', 'application/json', serialized)], data };
  },
};

export const capture = (page: Page, job: BrowserJob): Promise<Captured> =>
  (CAPTURERS[job.type] as Capturer<typeof job.type>)(page, job as never);
