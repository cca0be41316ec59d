/**
 * A page's PDF, read from Chromium as a stream (CDP's IO.read, in chunks) and given up as
 * soon as it passes its cap: a page of a hundred thousand print pages, or of huge images,
 * answers `RESULT_TOO_LARGE` after `maxBytes`, instead of growing in the worker's memory
 * until the whole document is there.
 */
import type { Page, PDFOptions } from 'puppeteer-core';
import { BrowserfleetError, ERROR_CODES } from '../../errors.js';
import { formatBytes, OUTPUT_CAPS } from '../../output-caps.js';

export const boundedPdf = async (
  page: Page,
  options: PDFOptions,
  maxBytes: number = OUTPUT_CAPS.pdf,
): Promise<Uint8Array> => {
  const reader = (await page.createPDFStream(options)).getReader();
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    if (bytes > maxBytes) {
      // Stops reading; Chromium's stream handle goes with the page's context.
      await reader.cancel().catch(() => {
        // Cancelling only releases the reader; the error below is the answer either way.
      });
      throw new BrowserfleetError(
        ERROR_CODES.RESULT_TOO_LARGE,
        `The PDF is larger than ${formatBytes(maxBytes)}; print fewer pages (options.pageRanges) or a smaller scale.`,
      );
    }
    chunks.push(value);
  }
  const body = new Uint8Array(bytes);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
};
