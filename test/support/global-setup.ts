/**
 * Once per `vitest run`, before any test file: unpack @sparticuz/chromium into the temp dir.
 * It checks for the binary and then writes it in place, so on a clean machine two test
 * files launching their first browser at once could run a half-written one.
 */
import chromium from '@sparticuz/chromium';

export const setup = async (): Promise<void> => {
  await chromium.executablePath();
};
