import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalCloud, type LocalCloudOptions, startLocalCloud } from '../../local/cloud.js';
import { createAwsClients, destroyAwsClients } from '../../shared/adapters/aws-clients.js';
import { DynamoDbTenantStore } from '../../shared/adapters/dynamodb-tenant-store.js';
import { systemClock } from '../../shared/clock.js';
import { loadLocalConfig } from '../../shared/config.js';
import { createApiKey, upsertTenant } from '../../shared/tenancy/manage-tenants.js';
import type { TenantLimits } from '../../shared/tenancy/tenant.js';

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
    ...loadLocalConfig({
      PORT: '0',
      LOCAL_API_KEY: TEST_API_KEY,
      LOG_LEVEL: 'ERROR',
      // The IAM front is on unless a run turns it off; a run may collect its denials.
      LOCAL_IAM: process.env.LOCAL_IAM,
      LOCAL_IAM_DENIAL_LOG: process.env.LOCAL_IAM_DENIAL_LOG,
    }),
    // Short polls: a stopping worker answers at once either way, but tests start many.
    pollWaitSeconds: 1,
    ...overrides,
    // Fixture pages live on 127.0.0.1, which the egress guard otherwise refuses. Workers
    // keep no warm spare session browser (a Chromium each, at start, on a 2-core machine
    // running many clouds) unless a test asks: test/integration/session-spare.test.ts does.
    extraEnv: { EGRESS_ALLOW: '127.0.0.1', SESSION_SPARE_BROWSER: '0', ...overrides.extraEnv },
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

/** A tenant of its own in a test cloud, with one API key (and these limits over roomy defaults). */
export const createTestTenant = async (
  cloud: LocalCloud,
  tenantId: string,
  limits: Partial<TenantLimits> = {},
): Promise<{ key: string; prefix: string }> => {
  const clients = createAwsClients({ region: 'us-east-1', endpoints: cloud.endpoints });
  try {
    const admin = {
      tenants: new DynamoDbTenantStore(clients.dynamo, cloud.names.stateTable),
      clock: systemClock,
      random: randomBytes,
    };
    await upsertTenant(admin, { tenantId, limits: { requestsPerSecond: 1000, burst: 1000, ...limits } });
    const { key, record } = await createApiKey(admin, { tenantId });
    return { key, prefix: record.prefix };
  } finally {
    destroyAwsClients(clients);
  }
};
