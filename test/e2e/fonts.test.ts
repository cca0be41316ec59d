/**
 * CJK and emoji render as glyphs — not blank, not the "tofu" box of a missing font — in
 * the fleet worker and the Lambda tier. `.ci/run` installs the fonts a clean machine lacks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
  site = await startFixtureServer({ '/': '<html lang="en"><body></body></html>' });
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
