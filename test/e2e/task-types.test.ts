/** Every task type and the shared page options, end to end on fixture pages. */
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, type FixtureServer, pngSize, startFixtureServer } from '../support/fixtures.js';
import { startTestCloud, TEST_API_KEY } from '../support/local-cloud.js';

const ARTICLE = `<!doctype html><html lang="en"><head><title>Fixture article</title></head><body>
<nav><a href="/nav-only">Nav</a></nav>
<main><article><h1>Glass and steel</h1>
<p>The <strong>first</strong> paragraph of a long enough article for Readability to pick it as the main content of this page.</p>
<p>A second paragraph, with <a href="/more">a link to more</a>, makes the article longer still, as real articles are.</p>
<ul class="items"><li data-sku="a1">Alpha</li><li data-sku="b2">Beta</li><li data-sku="c3">Gamma</li></ul>
<a href="https://example.test/out" style="display:none">hidden</a>
<div id="box" style="width:120px;height:80px;background:#c00"></div>
</article></main></body></html>`;

const PROBE = `<!doctype html><html><body><pre id="out"></pre><script>
document.getElementById('out').textContent = JSON.stringify({
  ua: navigator.userAgent, lang: navigator.language, tz: Intl.DateTimeFormat().resolvedOptions().timeZone,
  width: innerWidth, print: matchMedia('print').matches, cookie: document.cookie });
</script><noscript>no-js</noscript></body></html>`;

let site: FixtureServer;
let cloud: Awaited<ReturnType<typeof startTestCloud>>;
let api: ReturnType<typeof apiClient>;
const seenHeaders: Record<string, string | undefined>[] = [];
const seenPaths: string[] = [];

beforeAll(async () => {
  site = await startFixtureServer(
    {
      '/': ARTICLE,
      '/probe': PROBE,
      '/pictures': '<h1>pictures</h1><img src="/pixel.png?from=pictures">',
      '/transparent':
        '<html style="background:transparent"><body style="margin:0"><div style="width:10px;height:10px;background:#00f"></div></body></html>',
      '/late':
        '<div id="x"></div><script>setTimeout(() => { const s = document.createElement("span"); s.id = "late"; s.textContent = "arrived"; document.body.append(s); }, 300)</script>',
    },
    (req) => {
      seenPaths.push(req.url ?? '');
      seenHeaders.push({
        'x-tenant-trace': req.headers['x-tenant-trace'] as string | undefined,
        'accept-language': req.headers['accept-language'],
      });
    },
  );
  cloud = await startTestCloud();
  api = apiClient(cloud.url, TEST_API_KEY);
});
afterAll(async () => {
  await cloud?.dispose();
  await site?.close();
});

const run = async (task: Record<string, unknown>) => {
  const res = await api.run(task);
  expect(res.body.status, JSON.stringify(res.body.error ?? res.body)).toBe('succeeded');
  return res.body;
};
const download = async (url: string) => new Uint8Array(await (await fetch(url)).arrayBuffer());
/** Submits a task and answers it once it has ended, whatever its outcome. */
const submit = (task: Record<string, unknown>) => api.run(task);

describe('task types', () => {
  it('screenshot of one element, of a clip, and with a device preset', async () => {
    const [element, clip, device] = await Promise.all([
      run({ type: 'screenshot', url: `${site.url}/`, options: { selector: '#box' } }),
      run({
        type: 'screenshot',
        url: `${site.url}/`,
        options: { clip: { x: 0, y: 0, width: 50, height: 40 } },
      }),
      run({ type: 'screenshot', url: `${site.url}/`, options: { device: 'iPhone SE' } }),
    ]);
    expect(pngSize(await download(element.result.artifacts[0].url))).toEqual({ width: 120, height: 80 });
    expect(pngSize(await download(clip.result.artifacts[0].url))).toEqual({ width: 50, height: 40 });
    // iPhone SE: 320×568 CSS pixels at device scale factor 2.
    expect(pngSize(await download(device.result.artifacts[0].url))).toEqual({ width: 640, height: 1136 });
    expect(element.result.timings).toMatchObject({
      navigationMs: expect.any(Number),
      captureMs: expect.any(Number),
    });
    expect(element.result.browserMs).toBeGreaterThan(0);
  });

  it('pdf with format, landscape and page ranges', async () => {
    const task = await run({
      type: 'pdf',
      url: `${site.url}/`,
      options: { format: 'a5', landscape: true, pageRanges: '1', printBackground: true },
    });
    expect(task.result.artifacts[0]).toMatchObject({ name: 'page.pdf', contentType: 'application/pdf' });
    const bytes = await download(task.result.artifacts[0].url);
    const head = new TextDecoder().decode(bytes.slice(0, 5));
    expect(head).toBe('%PDF-');
    // A5 landscape is 595×420 points.
    const box = /MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]/.exec(new TextDecoder('latin1').decode(bytes));
    expect(Math.abs(Number(box?.[1]) - 595)).toBeLessThan(2);
    expect(Math.abs(Number(box?.[2]) - 420)).toBeLessThan(2);
    expect(new TextDecoder('latin1').decode(bytes).match(/\/Type\s*\/Page\b/g)).toHaveLength(1);
  });

  it('content returns the final HTML', async () => {
    const task = await run({
      type: 'content',
      url: `${site.url}/late`,
      options: { waitForSelector: { selector: '#late' } },
    });
    expect(task.result.data).toContain('<span id="late">arrived</span>');
    expect(task.result.artifacts[0].contentType).toMatch(/^text\/html/);
  });

  it('markdown returns the readable text of the main content', async () => {
    const task = await run({ type: 'markdown', url: `${site.url}/` });
    expect(task.result.data).toContain('Glass and steel');
    expect(task.result.data).toContain('**first**');
    expect(task.result.data).toMatch(/\[a link to more\]\(http:\/\/127\.0\.0\.1:\d+\/more\)/);
    expect(task.result.data).not.toContain('Nav');
  });

  it('scrape reads text, HTML or an attribute, first match or all', async () => {
    const task = await run({
      type: 'scrape',
      url: `${site.url}/`,
      options: {
        elements: [
          { name: 'title', selector: 'h1' },
          { name: 'items', selector: '.items li', all: true },
          { name: 'skus', selector: '.items li', extract: 'attribute', attribute: 'data-sku', all: true },
          { name: 'firstItem', selector: '.items li', extract: 'html' },
          { name: 'missing', selector: '.nope' },
        ],
      },
    });
    expect(task.result.data).toEqual({
      title: 'Glass and steel',
      items: ['Alpha', 'Beta', 'Gamma'],
      skus: ['a1', 'b2', 'c3'],
      firstItem: '<li data-sku="a1">Alpha</li>',
      missing: null,
    });
  });

  it('links lists absolute links, optionally only visible ones', async () => {
    const [all, visible] = await Promise.all([
      run({ type: 'links', url: `${site.url}/` }),
      run({ type: 'links', url: `${site.url}/`, options: { visibleOnly: true } }),
    ]);
    const hrefs = (t: { result: { data: { href: string }[] } }) => t.result.data.map((l) => l.href);
    expect(hrefs(all)).toEqual([`${site.url}/nav-only`, `${site.url}/more`, 'https://example.test/out']);
    expect(hrefs(visible)).toEqual([`${site.url}/nav-only`, `${site.url}/more`]);
  });

  it('evaluate runs the function in the page with JSON arguments', async () => {
    const task = await run({
      type: 'evaluate',
      url: `${site.url}/`,
      options: {
        script:
          '(sel, n) => ({ text: document.querySelector(sel).textContent, n: n * 2, node: typeof process })',
        args: ['h1', 21],
      },
    });
    // `process` is undefined: the script ran in the page, not in the worker.
    expect(task.result.data).toEqual({ text: 'Glass and steel', n: 42, node: 'undefined' });
  });

  it('screenshot with omitBackground keeps a transparent page transparent', async () => {
    const [plain, transparent] = await Promise.all(
      [false, true].map((omitBackground) =>
        run({
          type: 'screenshot',
          url: `${site.url}/transparent`,
          options: { omitBackground, viewport: { width: 40, height: 30 } },
        }),
      ),
    );
    const alphaAt = async (task: { result: { artifacts: { url: string }[] } }, x: number, y: number) => {
      const png = PNG.sync.read(Buffer.from(await download(task.result.artifacts[0]?.url ?? '')));
      return png.data[(y * png.width + x) * 4 + 3];
    };
    // Inside the blue box both are opaque; outside it only omitBackground lets the page show through.
    expect(await alphaAt(transparent, 5, 5)).toBe(255);
    expect(await alphaAt(transparent, 30, 20)).toBe(0);
    expect(await alphaAt(plain, 30, 20)).toBe(255);
  });

  it('pdf with margins, a header and a footer', async () => {
    const pdfOf = async (options: Record<string, unknown>) => {
      const task = await run({ type: 'pdf', url: `${site.url}/`, options });
      const bytes = await download(task.result.artifacts[0].url);
      const text = Buffer.from(bytes).toString('latin1');
      expect(text.startsWith('%PDF-')).toBe(true);
      return { size: bytes.length, pages: text.match(/\/Type\s*\/Page\b(?!s)/g)?.length ?? 0 };
    };
    const bare = await pdfOf({});
    expect(bare.pages).toBe(1);
    // Margins leave the article a strip of A4 too short for it: it runs onto more pages.
    const squeezed = await pdfOf({ margin: { top: '20cm', bottom: '6cm', left: 40, right: 40 } });
    expect(squeezed.pages).toBeGreaterThan(1);
    // The templates are drawn as text on the page (in compressed content streams): the same
    // page printed with them carries more than without.
    const framed = await pdfOf({
      displayHeaderFooter: true,
      headerTemplate: '<div style="font-size:10px">HEADER-MARK</div>',
      footerTemplate: '<div style="font-size:10px">FOOTER-MARK <span class="pageNumber"></span></div>',
    });
    expect(framed.pages).toBe(1);
    expect(framed.size).toBeGreaterThan(bare.size);
  });

  it('evaluate with a result over the size limit fails with RESULT_TOO_LARGE', async () => {
    const res = await submit({
      type: 'evaluate',
      url: `${site.url}/`,
      options: { script: "() => 'x'.repeat(300 * 1024)" },
    });
    expect(res.body).toMatchObject({ status: 'failed', attempts: 1, error: { code: 'RESULT_TOO_LARGE' } });
  });

  it('evaluate that throws fails with SCRIPT_ERROR at once (no retry)', async () => {
    const res = await submit({
      type: 'evaluate',
      url: `${site.url}/`,
      options: { script: '() => { throw new Error("boom") }' },
    });
    expect(res.body).toMatchObject({ status: 'failed', attempts: 1, error: { code: 'SCRIPT_ERROR' } });
    expect(res.body.error.message).toContain('boom');
  });
});

describe('page options', () => {
  it('applies user agent, headers, locale, time zone, media type and cookies', async () => {
    const task = await run({
      type: 'scrape',
      url: `${site.url}/probe`,
      options: {
        userAgent: 'browserfleet-test/1.0',
        extraHTTPHeaders: { 'x-tenant-trace': 'abc123' },
        locale: 'de-DE',
        timezoneId: 'Asia/Tokyo',
        emulateMediaType: 'print',
        cookies: [{ name: 'session', value: 'xyz' }],
        viewport: { width: 777, height: 500 },
        elements: [{ name: 'probe', selector: '#out' }],
      },
    });
    expect(JSON.parse(task.result.data.probe)).toEqual({
      ua: 'browserfleet-test/1.0',
      lang: 'de-DE',
      tz: 'Asia/Tokyo',
      width: 777,
      print: true,
      cookie: 'session=xyz',
    });
    expect(seenHeaders).toContainEqual({ 'x-tenant-trace': 'abc123', 'accept-language': 'de-DE' });
  });

  it('gives each task a fresh context: cookies and storage of one task are not in the next', async () => {
    // Both on the fleet, whose one worker runs both in one browser.
    const write = await run({
      type: 'evaluate',
      tier: 'fleet',
      url: `${site.url}/`,
      options: {
        script:
          "() => { document.cookie = 'left=behind; max-age=3600'; localStorage.setItem('left', 'behind'); return document.cookie; }",
      },
    });
    expect(write.result.data).toBe('left=behind');
    const read = await run({
      type: 'evaluate',
      tier: 'fleet',
      url: `${site.url}/`,
      options: { script: "() => ({ cookie: document.cookie, stored: localStorage.getItem('left') })" },
    });
    expect(read.result.data).toEqual({ cookie: '', stored: null });
  });

  it('failOnHttpStatus fails a page answering a listed status, without retries; otherwise the page is captured', async () => {
    const captured = await run({ type: 'content', url: `${site.url}/missing` });
    expect(captured.result.httpStatus).toBe(404);
    const other = await run({
      type: 'content',
      url: `${site.url}/missing`,
      options: { failOnHttpStatus: [500] },
    });
    expect(other.result.httpStatus).toBe(404);
    const failed = await submit({
      type: 'content',
      url: `${site.url}/missing`,
      maxAttempts: 3,
      options: { failOnHttpStatus: ['4xx'] },
    });
    expect(failed.body).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: { code: 'HTTP_STATUS_FAILED' },
    });
    expect(failed.body.error.message).toContain('404');
  });

  it('answers a basic-auth challenge with authenticate', async () => {
    const task = await run({
      type: 'scrape',
      url: `${site.url}/basic-auth`,
      options: {
        authenticate: { username: 'bf', password: 'secret' },
        elements: [{ name: 'who', selector: '#who' }],
      },
    });
    expect(task.result.data.who).toBe('welcome, bf');
    expect(task.result.httpStatus).toBe(200);
  });

  it('rejectResourceTypes keeps the page from loading images', async () => {
    await run({ type: 'content', url: `${site.url}/pictures`, options: { rejectResourceTypes: ['image'] } });
    expect(seenPaths).not.toContain('/pixel.png?from=pictures');
    await run({ type: 'content', url: `${site.url}/pictures` });
    expect(seenPaths).toContain('/pixel.png?from=pictures');
  });

  it('waitForTimeout waits after the page loaded', async () => {
    const task = await run({ type: 'content', url: `${site.url}/late`, options: { waitForTimeout: 1500 } });
    expect(task.result.data).toContain('arrived');
  });

  it('javaScriptEnabled false runs no page script', async () => {
    const task = await run({
      type: 'content',
      url: `${site.url}/probe`,
      options: { javaScriptEnabled: false },
    });
    expect(task.result.data).toContain('<pre id="out"></pre>');
  });
});

describe('tiers', () => {
  it('runs a task on the Lambda tier (the real handler behind the local SQS event source) and on the fleet', async () => {
    const [lambda, fleet, auto, autoLong] = await Promise.all([
      run({ type: 'screenshot', tier: 'lambda', url: `${site.url}/` }),
      run({ type: 'screenshot', tier: 'fleet', url: `${site.url}/` }),
      run({ type: 'screenshot', url: `${site.url}/` }),
      run({ type: 'screenshot', url: `${site.url}/`, options: { timeoutMs: 60_000 } }),
    ]);
    expect(lambda.tier).toBe('lambda');
    expect(lambda.history[0].worker).toMatch(/^lambda-/);
    expect(fleet.tier).toBe('fleet');
    expect(fleet.history[0].worker).toBe('local-worker-1');
    // auto: deadlines up to 30 s go to Lambda, longer ones to the fleet.
    expect(auto.tier).toBe('lambda');
    expect(autoLong.tier).toBe('fleet');
    expect(pngSize(await download(lambda.result.artifacts[0].url))).toEqual({ width: 1280, height: 720 });
  });
});
