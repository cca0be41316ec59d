/**
 * CJK and emoji render as glyphs — not blank, not the "tofu" box of a missing font — in
 * the fleet worker and the Lambda tier, with the font set `npm install` brings (no apt
 * step: Chromium sees only that set, whatever the host has). A screenshot or PDF with a
 * character no font has carries a MISSING_GLYPHS warning naming it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PuppeteerBrowserRunner } from '../../shared/adapters/puppeteer/browser-runner.js';
import type { BrowserJob } from '../../shared/task/ports.js';
import {
  evaluateOptionsSchema,
  pdfOptionsSchema,
  screenshotOptionsSchema,
} from '../../shared/task/task-input.js';
import { apiClient, type FixtureServer, startFixtureServer } from '../support/fixtures.js';
import { startTestCloud, TEST_API_KEY } from '../support/local-cloud.js';

/** Draws text on a canvas in the page and measures its ink (and how colourful it is). */
const PROBE = `() => {
  const canvas = document.createElement('canvas');
  canvas.width = 240; canvas.height = 100;
  const g = canvas.getContext('2d');
  const ink = (text) => {
    g.clearRect(0, 0, 240, 100);
    g.font = '64px sans-serif';
    g.fillStyle = '#000';
    g.fillText(text, 8, 76);
    const d = g.getImageData(0, 0, 240, 100).data;
    let inked = 0, coloured = 0, signature = 0;
    for (let i = 0; i < d.length; i += 4) {
      if (d[i + 3] === 0) continue;
      inked++;
      signature = (signature * 31 + i) % 1000000007;
      if (Math.abs(d[i] - d[i + 1]) > 40 || Math.abs(d[i + 1] - d[i + 2]) > 40) coloured++;
    }
    return { inked, coloured, signature };
  };
  return { cjk: ink('你好世界'), kana: ink('こんにちは'), tofu: ink('\\u{10FFFD}\\u{10FFFD}\\u{10FFFD}\\u{10FFFD}'), emoji: ink('😀🚀') };
}`;

let site: FixtureServer;
let cloud: Awaited<ReturnType<typeof startTestCloud>>;
beforeAll(async () => {
  site = await startFixtureServer({
    '/': '<html lang="en"><body></body></html>',
    // Hieroglyphs and Linear B: no font of the set has them. CJK, kana, Hangul and emoji: all have.
    '/tofu':
      '<html lang="en"><body><p>你好 こんにちは 한국어 😀 plain</p><p>\u{13000}\u{13001} and \u{10000}</p>' +
      '<script>document.title = "\u{13002}"</script></body></html>',
    '/covered':
      '<html lang="ja"><body><h1>日本語のテキスト</h1><p>中文 한국어 😀🚀 Ünïcödé — “quotes”</p></body></html>',
    // A family the host may well have (Debian's DejaVu): the browser must not see it.
    '/host-font': '<html><body><p id="t" style="font-family: \'DejaVu Sans\'">host font?</p></body></html>',
  });
  cloud = await startTestCloud();
});
afterAll(async () => {
  await cloud?.dispose();
  await site?.close();
});

describe('fonts', () => {
  it.each(['fleet', 'lambda'])('CJK and emoji have ink on the %s tier', async (tier) => {
    const res = await apiClient(cloud.url, TEST_API_KEY).run({
      type: 'evaluate',
      tier,
      url: `${site.url}/`,
      options: { script: PROBE },
    });
    expect(res.body.status, JSON.stringify(res.body.error)).toBe('succeeded');
    const { cjk, kana, tofu, emoji } = res.body.result.data;
    for (const text of [cjk, kana]) {
      expect(text.inked).toBeGreaterThan(500);
      // Not the missing-glyph box: a different shape from the tofu of an unassigned code point.
      expect(text.signature).not.toBe(tofu.signature);
    }
    expect(emoji.inked).toBeGreaterThan(500);
    // A colour emoji font, not a monochrome fallback.
    expect(emoji.coloured).toBeGreaterThan(100);
  });
});

describe('missing glyphs', () => {
  let runner: PuppeteerBrowserRunner;
  beforeAll(() => {
    runner = new PuppeteerBrowserRunner({ hostEnv: process.env });
  });
  afterAll(async () => {
    await runner?.close();
  });
  const screenshot = (path: string): BrowserJob => ({
    type: 'screenshot',
    url: `${site.url}${path}`,
    options: screenshotOptionsSchema.parse({ viewport: { width: 640, height: 240 } }),
  });

  it('a screenshot with characters no font has carries a warning naming them', async () => {
    const out = await runner.run(screenshot('/tofu'), AbortSignal.timeout(30_000));
    expect(out.warnings).toEqual([
      expect.objectContaining({
        code: 'MISSING_GLYPHS',
        codePoints: ['U+13000', 'U+13001', 'U+10000'],
        count: 3,
      }),
    ]);
    // Script text isn't drawn, so it's no missing glyph.
    expect(out.warnings?.[0]?.message).toContain('U+13000 U+13001 U+10000');
  });

  it.each(['fleet', 'lambda'])('the warning reaches the task result over the API (%s tier)', async (tier) => {
    const res = await apiClient(cloud.url, TEST_API_KEY).run({
      type: 'screenshot',
      tier,
      url: `${site.url}/tofu`,
      options: { viewport: { width: 640, height: 240 } },
    });
    expect(res.body.status).toBe('succeeded');
    expect(res.body.result.warnings).toEqual([
      expect.objectContaining({ code: 'MISSING_GLYPHS', codePoints: ['U+13000', 'U+13001', 'U+10000'] }),
    ]);
  });

  it('a PDF is checked too', async () => {
    const out = await runner.run(
      { type: 'pdf', url: `${site.url}/tofu`, options: pdfOptionsSchema.parse({}) },
      AbortSignal.timeout(30_000),
    );
    expect(out.warnings?.[0]?.codePoints).toEqual(['U+13000', 'U+13001', 'U+10000']);
  });

  it('a page whose characters all have glyphs carries no warning', async () => {
    const out = await runner.run(screenshot('/covered'), AbortSignal.timeout(30_000));
    expect(out.warnings).toBeUndefined();
  });

  it("the browser sees the npm font set only, not the host's fonts", async () => {
    const fonts = await runner.run(
      {
        type: 'evaluate',
        url: `${site.url}/host-font`,
        options: evaluateOptionsSchema.parse({
          script: `() => { const c = document.createElement('canvas').getContext('2d');
            const w = (f) => { c.font = '40px ' + f; return c.measureText('host font?').width; };
            return { asked: w("'DejaVu Sans'"), tinos: w('Tinos'), arimo: w('Arimo'), sans: w('sans-serif') }; }`,
        }),
      },
      AbortSignal.timeout(30_000),
    );
    const { asked, tinos, arimo, sans } = fonts.data as Record<string, number>;
    // A family fontconfig doesn't know falls back to Chromium's default (serif: Tinos), not
    // to the host's DejaVu Sans, which is wider than both.
    expect(asked).toBeCloseTo(tinos ?? 0, 5);
    expect(sans).toBeCloseTo(arimo ?? 0, 5);
  });
});
