/**
 * Once per `vitest run`, before any test file:
 * - unpack @sparticuz/chromium into the temp dir. It checks for the binary and then writes
 *   it in place, so on a clean machine two test files launching their first browser at
 *   once could run a half-written one;
 * - synthesize the CDK app's role policies for the local cloud's IAM front (or find them
 *   in the file cache), so the test files that start a cloud don't each synthesize.
 */
import chromium from '@sparticuz/chromium';
import { loadRolePolicies } from '../../local/synthesized-policies.js';
import { loadLocalConfig } from '../../shared/config.js';

export const setup = async (): Promise<void> => {
  await Promise.all([
    chromium.executablePath(),
    loadLocalConfig(process.env).iam.enabled ? loadRolePolicies() : undefined,
  ]);
};
