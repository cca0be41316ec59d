/**
 * What each task type does to a loaded page. One entry per type (a missing one is a type
 * error); every script the platform runs in the page is a function evaluated there, never
 * caller code evaluated in the worker. What a data-producing type reads is measured in the
 * page against its cap (`OUTPUT_CAPS`), so an oversized answer never crosses CDP.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'puppeteer-core';
import { BrowserfleetError, ERROR_CODES } from '../../errors.js';
import { formatBytes, MAX_CDP_MESSAGE_BYTES, OUTPUT_CAPS } from '../../output-caps.js';
import type { BrowserJob, ProducedArtifact } from '../../task/ports.js';
import { screenshotContentType, type TaskType } from '../../task/task-input.js';
import { isCdpMessageTooLarge } from './bounded-chromium-output.js';
import { compiledInPage, evaluateBounded, jsonOf, type OutputCap } from './bounded-evaluate.js';
import { boundedPdf } from './bounded-pdf.js';
import { linksInPage, scrapeInPage } from './in-page/capture-scripts.js';

export interface Captured {
  artifacts: ProducedArtifact[];
  data?: unknown;
}

type Capturer<T extends TaskType> = (page: Page, job: Extract<BrowserJob, { type: T }>) => Promise<Captured>;

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
      body = await withinPipeLimit(element.screenshot(common));
    } else {
      body = await withinPipeLimit(
        page.screenshot({
          ...common,
          fullPage: options.fullPage,
          ...(options.clip === undefined ? {} : { clip: options.clip }),
        }),
      );
    }
    return {
      artifacts: [
        { name: `screenshot.${options.format}`, contentType: screenshotContentType(options.format), body },
      ],
    };
  },

  async pdf(page, { options }) {
    const body = await boundedPdf(page, {
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
    // Puppeteer's page.content(), with the size judged in the page.
    const html = await textOf(
      page,
      `(() => {
        let html = '';
        for (const node of document.childNodes) {
          html += node === document.documentElement ? node.outerHTML : new XMLSerializer().serializeToString(node);
        }
        return html;
      })()`,
      {
        bytes: OUTPUT_CAPS.content,
        what: "The page's HTML",
        hint: 'Ask for less: scrape the elements you need, or take markdown.',
      },
    );
    return { artifacts: [text('content.html', 'text/html; charset=utf-8', html)], data: html };
  },

  async markdown(page) {
    // Runs in the page: Readability picks the main content, Turndown writes it as Markdown.
    const markdown = await textOf(
      page,
      `(() => {
        ${markdownLibraries()}
        const article = new Readability(document.cloneNode(true)).parse();
        const html = article && article.content ? article.content : document.body ? document.body.innerHTML : '';
        const title = article && article.title ? '# ' + article.title + '\\n\\n' : '';
        const turndown = new TurndownService({ headingStyle: 'atx', codeBlockStyle: 'fenced' });
        return String(title + turndown.turndown(html));
      })()`,
      {
        bytes: OUTPUT_CAPS.markdown,
        what: "The page's Markdown",
        hint: 'Ask for less: scrape the elements you need.',
      },
    );
    return { artifacts: [text('content.md', 'text/markdown; charset=utf-8', markdown)], data: markdown };
  },

  async scrape(page, { options }) {
    const json = await textOf(
      page,
      `(${scrapeInPage.toString()})(${JSON.stringify(options.elements)}, ${OUTPUT_CAPS.scrape})`,
      {
        bytes: OUTPUT_CAPS.scrape,
        what: 'The scraped values together',
        hint: 'Ask for less: narrower selectors, all: false, or text instead of html.',
      },
    );
    return { artifacts: [text('scrape.json', 'application/json', json)], data: JSON.parse(json) };
  },

  async links(page, { options }) {
    const json = await textOf(
      page,
      `(${linksInPage.toString()})(${JSON.stringify(options.visibleOnly)}, ${OUTPUT_CAPS.links})`,
      {
        bytes: OUTPUT_CAPS.links,
        what: "The page's links",
        hint: 'Ask for less: visibleOnly, or scrape the links of one part of the page.',
      },
    );
    return { artifacts: [text('links.json', 'application/json', json)], data: JSON.parse(json) };
  },

  async evaluate(page, { options }) {
    // The caller's function runs in the page's main world, with JSON arguments; its answer
    // is serialized and measured there, and comes back as JSON. It never touches the worker.
    const call = `${compiledInPage(options.script)}(...${JSON.stringify(options.args)})`;
    const answer = await evaluateBounded(page, jsonOf(call, OUTPUT_CAPS.evaluate), {
      bytes: OUTPUT_CAPS.evaluate,
      what: "options.script's JSON result",
      hint: 'Return less: the values you need, or store bulk in an artifact-producing type (content, scrape).',
    });
    if ('threw' in answer) {
      throw new BrowserfleetError(
        ERROR_CODES.SCRIPT_ERROR,
        `options.script threw in the page: ${answer.threw.split('\n')[0]}`,
      );
    }
    return {
      artifacts: [text('result.json', 'application/json', answer.text)],
      data: JSON.parse(answer.text),
    };
  },
};

/** A screenshot past the pipe's limit is a page too big to picture, not a crash: not retried. */
const withinPipeLimit = <T>(work: Promise<T>): Promise<T> =>
  work.catch((error: unknown) => {
    if (!isCdpMessageTooLarge(error)) throw error;
    throw new BrowserfleetError(
      ERROR_CODES.RESULT_TOO_LARGE,
      `The screenshot is larger than the ${formatBytes(MAX_CDP_MESSAGE_BYTES)} a worker takes in one message. ` +
        'Take less: a clip or a selector instead of fullPage, or jpeg/webp instead of png.',
      { cause: error },
    );
  });

/**
 * The text a platform script produces in the page, within `cap`. What the script throws
 * (a bad selector, a page that broke the libraries) fails the task as Puppeteer's own
 * evaluation errors do.
 */
const textOf = async (page: Page, producer: string, cap: OutputCap): Promise<string> => {
  const answer = await evaluateBounded(page, producer, cap);
  if ('threw' in answer) throw new Error(`Evaluation failed: ${answer.threw}`);
  return answer.text;
};

export const capture = (page: Page, job: BrowserJob): Promise<Captured> =>
  (CAPTURERS[job.type] as Capturer<typeof job.type>)(page, job as never);
