import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalCloud, type LocalCloudOptions, startLocalCloud } from '../../local/cloud.js';
import { loadLocalConfig } from '../../shared/config.js';

export const TEST_API_KEY = 'test-key-0123456789abcdef';

/** A local cloud on free ports with its data in a fresh temp dir (removed by `dispose`). */
export const startTestCloud = async (
  overrides: Partial<LocalCloudOptions> = {},
): Promise<LocalCloud & { dataDir: string; dispose(): Promise<void> }> => {
  const dataDir = overrides.dataDir ?? mkdtempSync(join(tmpdir(), 'bf-test-'));
  // `npm run test:localstack` points the same tests at LocalStack, each cloud with its own
  // resource names so parallel test files don't share a table or queues.
  const awsEndpoint = process.env.AWS_ENDPOINT_URL;
  const cloud = await startLocalCloud({
    ...(awsEndpoint === undefined || awsEndpoint === ''
      ? {}
      : { awsEndpoint, stage: overrides.stage ?? `t${randomBytes(4).toString('hex')}` }),
    ...loadLocalConfig({ PORT: '0', LOCAL_API_KEY: TEST_API_KEY, LOG_LEVEL: 'ERROR' }),
    // Short polls: a stopping worker answers at once either way, but tests start many.
    pollWaitSeconds: 1,
    ...overrides,
    // Fixture pages live on 127.0.0.1, which the egress guard otherwise refuses.
    extraEnv: { EGRESS_ALLOW: '127.0.0.1', ...overrides.extraEnv },
    dataDir,
  });
  return {
    ...cloud,
    dataDir,
    dispose: async () => {
      await cloud.stop();
      if (overrides.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
    },
  };
};
