/**
 * A PDF is read from Chromium in chunks and given up past its cap, so a page that prints
 * to a huge document costs the worker at most the cap, not the whole document.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boundedPdf } from '../../shared/adapters/puppeteer/bounded-pdf.js';
import {
  closeChromium,
  type LaunchedChromium,
  launchChromium,
} from '../../shared/adapters/puppeteer/launch-chromium.js';
import { ERROR_CODES } from '../../shared/errors.js';

let chromium: LaunchedChromium;
beforeAll(async () => {
  chromium = await launchChromium({ hostEnv: process.env });
});
afterAll(async () => {
  await closeChromium(chromium);
});

/** Forty printed pages of text. */
const LONG_DOCUMENT = Array.from(
  { length: 40 },
  (_, i) =>
    `<section style="page-break-after: always"><h1>Page ${i + 1}</h1><p>${'lorem ipsum '.repeat(300)}</p></section>`,
).join('');

describe('PDF output cap', { timeout: 60_000 }, () => {
  it('reads a whole PDF under the cap, and refuses with RESULT_TOO_LARGE naming the cap past it', async () => {
    const page = await chromium.browser.newPage();
    try {
      await page.setContent(LONG_DOCUMENT);
      const whole = await boundedPdf(page, { format: 'A4' });
      expect(new TextDecoder().decode(whole.subarray(0, 5))).toBe('%PDF-');
      expect(whole.byteLength).toBeGreaterThan(20_000);

      // Just room for it: the same document, whole.
      const roomy = await boundedPdf(page, { format: 'A4' }, whole.byteLength + 1024);
      expect(Math.abs(roomy.byteLength - whole.byteLength)).toBeLessThan(1024);

      const cap = Math.floor(whole.byteLength / 4);
      await expect(boundedPdf(page, { format: 'A4' }, cap)).rejects.toMatchObject({
        code: ERROR_CODES.RESULT_TOO_LARGE,
        message: expect.stringContaining(`${cap} bytes`),
      });
      // The page is still usable after a refused PDF.
      expect(await page.evaluate(() => document.querySelectorAll('section').length)).toBe(40);
    } finally {
      await page.close();
    }
  });
});
