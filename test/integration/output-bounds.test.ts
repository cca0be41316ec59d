/**
 * Output caps, enforced in the page: each bomb a tenant can aim at a shared worker (a huge
 * evaluate result, page, Markdown, scrape or link list, a huge thrown message or console
 * line) ends at once with a clear code, and the worker's own memory doesn't take it in.
 * Real Chromium through the real runner and session launcher; fixture pages on 127.0.0.1.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PuppeteerBrowserRunner } from '../../shared/adapters/puppeteer/browser-runner.js';
import { PuppeteerSessionLauncher } from '../../shared/adapters/puppeteer/session-launcher.js';
import { BrowserfleetError } from '../../shared/errors.js';
import { OUTPUT_CAPS } from '../../shared/output-caps.js';
import type { SessionBrowser } from '../../shared/session/ports.js';
import { newSession } from '../../shared/session/session.js';
import { createSessionInputSchema } from '../../shared/session/session-input.js';
import type { BrowserJob, BrowserOutput } from '../../shared/task/ports.js';
import { classifyError } from '../../shared/task/retry-policy.js';
import { type CreateTaskInput, createTaskInputSchema } from '../../shared/task/task-input.js';
import { BOMB_PAGES } from '../support/bomb-pages.js';
import { type FixtureServer, startFixtureServer } from '../support/fixtures.js';

const MB = 1024 * 1024;
/** The Node process's peak RSS so far (VmHWM), in MB: what a bomb would have pushed up. */
const peakRssMb = (): number =>
  Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]) / 1024;

const ARTICLE = `<html><head><title>An article</title></head><body>
<nav><a href="/home">Home</a> <a href="https://example.test/about">About</a></nav>
<article><h1>Bounded</h1>
<p>The <strong>first</strong> paragraph of a long enough article for Readability to pick it as the main content of this page.</p>
<p>A second paragraph, so that there is some text to turn into Markdown, and a <a href="/more">link</a>.</p>
<p>A third paragraph, with more words, because Readability wants a few hundred characters before it calls this an article.</p>
</article><ul><li class="item">one</li><li class="item">two</li></ul></body></html>`;

let site: FixtureServer;
let runner: PuppeteerBrowserRunner;
beforeAll(async () => {
  site = await startFixtureServer({
    '/': ARTICLE,
    ...BOMB_PAGES,
    // The page's own scripts log 100 MB and throw a 100 MB error, uncaught.
    '/noisy': `<html><body><h1 id="t">noisy</h1><script>
      console.log('c'.repeat(100 * 1024 * 1024));
      setTimeout(() => { throw new Error('e'.repeat(100 * 1024 * 1024)); });
    </script></body></html>`,
    // A page that redefines what a size check in page JS might lean on.
    '/liar': `<html><body><script>
      const big = 'x'.repeat(3 * 1024 * 1024);
      JSON.stringify = () => big;
      String.prototype.slice = function () { return big; };
      Error = function () { return { message: big }; };
    </script></body></html>`,
  });
  runner = new PuppeteerBrowserRunner({ hostEnv: process.env });
  // Warm: the first launch's own memory is not what the bombs are measured against.
  await runner.run(job({ type: 'content', url: `${site.url}/` }), AbortSignal.timeout(30_000));
}, 60_000);
afterAll(async () => {
  await runner?.close();
  await site?.close();
});

const job = (input: Record<string, unknown>): BrowserJob => {
  const parsed: CreateTaskInput = createTaskInputSchema.parse(input);
  return { type: parsed.type, options: parsed.options, url: parsed.url } as BrowserJob;
};
const run = (input: Record<string, unknown>): Promise<BrowserOutput> =>
  runner.run(job(input), AbortSignal.timeout(60_000));
const failure = async (input: Record<string, unknown>): Promise<BrowserfleetError> => {
  const error = await run(input).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(BrowserfleetError);
  return error as BrowserfleetError;
};

describe('output caps, enforced in the page', () => {
  it('evaluate returning a 200 MB string is RESULT_TOO_LARGE naming the 256 KB cap, and the worker never holds it', async () => {
    const before = peakRssMb();
    const error = await failure({
      type: 'evaluate',
      url: `${site.url}/`,
      options: { script: '() => "x".repeat(200 * 1024 * 1024)' },
    });
    expect(error.code).toBe('RESULT_TOO_LARGE');
    expect(classifyError(error).retryable).toBe(false);
    expect(error.message).toMatch(/cap of 256 KB/);
    // It used to grow this process by ~800 MB (the whole string crossed CDP).
    expect(peakRssMb() - before).toBeLessThan(100);
  }, 60_000);

  it('evaluate just under the cap still succeeds, and one byte over does not', async () => {
    // JSON of a string is its characters plus two quotes.
    const under = await run({
      type: 'evaluate',
      url: `${site.url}/`,
      options: { script: `() => "y".repeat(${OUTPUT_CAPS.evaluate - 2})` },
    });
    expect(under.artifacts[0]?.body.byteLength).toBe(OUTPUT_CAPS.evaluate);
    const over = await failure({
      type: 'evaluate',
      url: `${site.url}/`,
      options: { script: `() => "y".repeat(${OUTPUT_CAPS.evaluate - 1})` },
    });
    expect(over.code).toBe('RESULT_TOO_LARGE');
    // Multi-byte characters: within the cap in characters, past it in UTF-8 bytes.
    const wide = await failure({
      type: 'evaluate',
      url: `${site.url}/`,
      options: { script: `() => "é".repeat(${OUTPUT_CAPS.evaluate / 2})` },
    });
    expect(wide.code).toBe('RESULT_TOO_LARGE');
  }, 60_000);

  it('an evaluate that throws a 1 MB message fails SCRIPT_ERROR with the message cut short', async () => {
    const before = peakRssMb();
    const error = await failure({
      type: 'evaluate',
      url: `${site.url}/`,
      options: { script: '() => { throw new Error("m".repeat(1024 * 1024)); }' },
    });
    expect(error.code).toBe('SCRIPT_ERROR');
    expect(error.message.length).toBeLessThan(1_100);
    expect(error.message).toMatch(/^options\.script threw in the page: Error: mmm/);
    expect(peakRssMb() - before).toBeLessThan(100);
  }, 60_000);

  it("a script can't splice itself out of the wrapper that measures it", async () => {
    for (const script of [
      // Closing the wrapper's parentheses to return a big answer of its own making.
      `1), { ok: "z".repeat(${3 * MB}) }, (1`,
      `() => 1)(); return { ok: "z".repeat(${3 * MB}) }; (() => 1`,
    ]) {
      const error = await failure({ type: 'evaluate', url: `${site.url}/`, options: { script } });
      expect(error.code).toBe('SCRIPT_ERROR');
    }
  }, 60_000);

  it("a page that redefines JSON.stringify, String.prototype.slice and Error can't get an oversized answer out", async () => {
    const answer = await failure({
      type: 'evaluate',
      url: `${site.url}/liar`,
      options: { script: '() => 1' },
    });
    expect(answer.code).toBe('RESULT_TOO_LARGE');
    const thrown = await failure({
      type: 'evaluate',
      url: `${site.url}/liar`,
      options: { script: '() => { throw new Error("short"); }' },
    });
    expect(thrown.code).toBe('SCRIPT_ERROR');
    expect(thrown.message.length).toBeLessThan(1_100);
  }, 60_000);

  it('content of a 12 MB page is RESULT_TOO_LARGE naming the 10 MB cap', async () => {
    const error = await failure({ type: 'content', url: `${site.url}/huge` });
    expect(error.code).toBe('RESULT_TOO_LARGE');
    expect(error.message).toMatch(/The page's HTML is larger than its cap of 10 MB/);
  }, 60_000);

  it('markdown of a 12 MB article is RESULT_TOO_LARGE naming the 5 MB cap', async () => {
    const error = await failure({
      type: 'markdown',
      url: `${site.url}/huge`,
      options: { timeoutMs: 60_000 },
    });
    expect(error.code).toBe('RESULT_TOO_LARGE');
    expect(error.message).toMatch(/The page's Markdown is larger than its cap of 5 MB/);
  }, 90_000);

  it('scrape of * with html and all on a 1,000-deep page stops at the 5 MB cap, fast, and the worker never holds it', async () => {
    const before = peakRssMb();
    const started = performance.now();
    const error = await failure({
      type: 'scrape',
      url: `${site.url}/nested`,
      options: { elements: [{ name: 'all', selector: '*', extract: 'html', all: true }] },
    });
    expect(error.code).toBe('RESULT_TOO_LARGE');
    expect(error.message).toMatch(/The scraped values together is larger than its cap of 5 MB/);
    // Every element's outer HTML (~106 MB here) used to be read, serialized and sent.
    expect(performance.now() - started).toBeLessThan(15_000);
    expect(peakRssMb() - before).toBeLessThan(100);
  }, 60_000);

  it('links of a page with 100,000 links is RESULT_TOO_LARGE naming the 5 MB cap', async () => {
    const error = await failure({ type: 'links', url: `${site.url}/links` });
    expect(error.code).toBe('RESULT_TOO_LARGE');
    expect(error.message).toMatch(/The page's links is larger than its cap of 5 MB/);
  }, 60_000);

  it("a page logging 100 MB and throwing a 100 MB error still gets its content, and the worker doesn't take either in", async () => {
    const before = peakRssMb();
    const out = await run({ type: 'content', url: `${site.url}/noisy`, options: { waitForTimeout: 500 } });
    expect(String(out.data)).toContain('<h1 id="t">noisy</h1>');
    // Chromium sends both over CDP and logs both to stderr; neither reaches us past 64 MB
    // (the CDP message limit) or 4 KB (a log line). Taken whole, it grew us by ~1 GB.
    expect(peakRssMb() - before).toBeLessThan(200);
  }, 60_000);

  it('ordinary results are unchanged: content, markdown, scrape, links and evaluate', async () => {
    const content = await run({ type: 'content', url: `${site.url}/` });
    expect(String(content.data)).toMatch(/^<html><head><title>An article<\/title>/);
    const markdown = await run({ type: 'markdown', url: `${site.url}/` });
    expect(String(markdown.data)).toMatch(/The \*\*first\*\* paragraph/);
    const scrape = await run({
      type: 'scrape',
      url: `${site.url}/`,
      options: {
        elements: [
          { name: 'title', selector: 'h1' },
          { name: 'items', selector: '.item', all: true },
          { name: 'missing', selector: '#nope' },
          { name: 'href', selector: 'nav a', extract: 'attribute', attribute: 'href' },
        ],
      },
    });
    expect(scrape.data).toEqual({ title: 'Bounded', items: ['one', 'two'], missing: null, href: '/home' });
    const links = await run({ type: 'links', url: `${site.url}/` });
    expect(links.data).toEqual([
      { href: `${site.url}/home`, text: 'Home' },
      { href: 'https://example.test/about', text: 'About' },
      { href: `${site.url}/more`, text: 'link' },
    ]);
    const evaluate = await run({
      type: 'evaluate',
      url: `${site.url}/`,
      options: {
        script: 'async (sel, n) => ({ text: document.querySelector(sel).textContent, n })',
        args: ['h1', 2],
      },
    });
    expect(evaluate.data).toEqual({ text: 'Bounded', n: 2 });
    const nothing = await run({
      type: 'evaluate',
      url: `${site.url}/`,
      options: { script: '() => undefined' },
    });
    expect(nothing.data).toBeNull();
  }, 60_000);
});

describe("a live session's evaluate, enforced in the page", () => {
  let browser: SessionBrowser;
  beforeAll(async () => {
    const launcher = new PuppeteerSessionLauncher({
      hostEnv: process.env,
      // about:blank needs no network; the proxy is never asked.
      proxy: async () => ({
        server: 'http://127.0.0.1:9',
        blocked: () => [],
        blockedTotal: () => 0,
        close: async () => {},
      }),
    });
    const session = newSession({
      id: 'bounds',
      tenantId: 't',
      options: createSessionInputSchema.parse({}),
      now: Date.now(),
    });
    const ignore = () => {};
    browser = await launcher.launch(session, {
      onNavigation: ignore,
      onConsole: ignore,
      onPageError: ignore,
      onGone: ignore,
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  it('answers values as before, and a 200 MB result with RESULT_TOO_LARGE naming the 96 KB cap', async () => {
    expect(
      await browser.execute('evaluate', { expression: '(a, b) => a + b', args: [2, 3] }, 10_000),
    ).toEqual({
      value: 5,
    });
    expect(await browser.execute('evaluate', { expression: '6 * 7', args: [] }, 10_000)).toEqual({
      value: 42,
    });
    expect(await browser.execute('evaluate', { expression: '() => undefined', args: [] }, 10_000)).toEqual({
      value: null,
    });
    const before = peakRssMb();
    const error = await browser
      .execute('evaluate', { expression: '() => "x".repeat(200 * 1024 * 1024)', args: [] }, 30_000)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'RESULT_TOO_LARGE' });
    expect((error as Error).message).toMatch(/cap of 96 KB/);
    expect(peakRssMb() - before).toBeLessThan(100);
    const thrown = await browser
      .execute(
        'evaluate',
        { expression: '() => { throw new Error("m".repeat(1024 * 1024)); }', args: [] },
        30_000,
      )
      .catch((e: unknown) => e);
    expect(thrown).toMatchObject({ code: 'SCRIPT_ERROR' });
    expect((thrown as Error).message.length).toBeLessThan(1_100);
  }, 60_000);
});
