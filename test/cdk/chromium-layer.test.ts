/**
 * The Lambda tier's layer carries Chromium and the platform font set, and stays within
 * Lambda's size limit with room for the function's own bundle.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { directoryBytes, LAMBDA_UNZIPPED_LIMIT_BYTES, stageChromiumLayer } from '../../cdk/chromium-layer.js';

/** Room kept for the runner's own bundle (a few MB today). */
const FUNCTION_BUNDLE_ALLOWANCE = 50 * 1024 * 1024;

describe('Chromium layer', () => {
  const dir = stageChromiumLayer();

  it('carries the font set at fonts/ (/opt/fonts, where the launcher looks first)', () => {
    expect(existsSync(join(dir, 'chromium.br'))).toBe(true);
    const fonts = readdirSync(join(dir, 'fonts'));
    for (const family of [
      'Arimo',
      'Tinos',
      'Cousine',
      'NotoSansSC',
      'NotoSansJP',
      'NotoSansKR',
      'noto-color-emoji',
    ]) {
      expect(
        fonts.some((f) => f.includes(family) && f.endsWith('.ttf')),
        family,
      ).toBe(true);
    }
    expect(fonts).toContain('.staged');
  });

  it("fits in Lambda's 250 MB unzipped with room for the function", () => {
    const bytes = directoryBytes(dir);
    expect(bytes + FUNCTION_BUNDLE_ALLOWANCE).toBeLessThan(LAMBDA_UNZIPPED_LIMIT_BYTES);
  });
});
