/**
 * What Chromium inherits from the worker: a page that breaks out of its renderer finds
 * its browser's environment, so the AWS credentials and the ticket key the worker holds
 * must not be in it. Read from the launched process itself (/proc/<pid>/environ).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { closeChromium, launchChromium } from '../../shared/adapters/puppeteer/launch-chromium.js';

const environOf = (pid: number): Map<string, string> =>
  new Map(
    readFileSync(`/proc/${pid}/environ`, 'utf8')
      .split('\0')
      .filter((entry) => entry.includes('='))
      .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
  );

describe("Chromium's environment", { timeout: 60_000 }, () => {
  it("holds what it needs to run and none of the worker's secrets", async () => {
    const launched = await launchChromium({
      hostEnv: {
        ...process.env,
        AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEEXAMPLE00',
        AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
        AWS_SESSION_TOKEN: 'token',
        SESSION_TICKET_SECRET: 'x'.repeat(40),
      },
    });
    try {
      expect(launched.pid).toBeTypeOf('number');
      const env = environOf(launched.pid as number);
      for (const secret of [
        'AWS_ACCESS_KEY_ID',
        'AWS_SECRET_ACCESS_KEY',
        'AWS_SESSION_TOKEN',
        'SESSION_TICKET_SECRET',
      ]) {
        expect(env.has(secret), secret).toBe(false);
      }
      expect(env.get('PATH')).toBe(process.env.PATH);
      // Its own font set, not the host's.
      expect(env.get('FONTCONFIG_FILE')).toMatch(/fonts\.conf$/);
      // And it runs: a page renders.
      const page = await launched.browser.newPage();
      expect(await page.evaluate(() => 6 * 7)).toBe(42);
    } finally {
      await closeChromium(launched);
    }
  });
});
