/**
 * Tenancy over HTTP: tenants never see each other's tasks, rate limits and quotas admit
 * exactly their limit under concurrent bursts. (The admin CLI's keys: test/e2e/cli-admin.test.ts.)
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients, destroyAwsClients } from '../../shared/adapters/aws-clients.js';
import { DynamoDbTenantStore } from '../../shared/adapters/dynamodb-tenant-store.js';
import { systemClock } from '../../shared/clock.js';
import { createApiKey, revokeApiKey, upsertTenant } from '../../shared/tenancy/manage-tenants.js';
import type { TenantLimits } from '../../shared/tenancy/tenant.js';
import { apiClient } from '../support/fixtures.js';
import { startTestCloud } from '../support/local-cloud.js';

let cloud: Awaited<ReturnType<typeof startTestCloud>>;
let admin: { tenants: DynamoDbTenantStore; clock: typeof systemClock; random: typeof randomBytes };
let dispose: () => void;

beforeAll(async () => {
  // No worker: queued tasks stay queued, so quota counts are the test's alone.
  cloud = await startTestCloud({ worker: false, lambdaTier: false, sweeper: false });
  const clients = createAwsClients({ region: 'us-east-1', endpoints: cloud.endpoints });
  dispose = () => destroyAwsClients(clients);
  admin = {
    tenants: new DynamoDbTenantStore(clients.dynamo, cloud.names.stateTable),
    clock: systemClock,
    random: randomBytes,
  };
});
afterAll(async () => {
  dispose?.();
  await cloud?.dispose();
});

const tenantWith = async (tenantId: string, limits: Partial<TenantLimits> = {}) => {
  await upsertTenant(admin, { tenantId, limits: { requestsPerSecond: 1000, burst: 1000, ...limits } });
  const { key, record } = await createApiKey(admin, { tenantId });
  return { key, prefix: record.prefix, api: apiClient(cloud.url, key) };
};
const task = { type: 'screenshot', url: 'http://127.0.0.1:9/' };

describe('tenant isolation', () => {
  it("answers another tenant's task with 404 on read, wait and cancel", async () => {
    const alpha = await tenantWith('alpha');
    const beta = await tenantWith('beta');
    const mine = await alpha.api.submit(task);
    expect(mine.status).toBe(202);
    expect((await alpha.api.get(mine.body.id)).status).toBe(200);
    for (const [method, path] of [
      ['GET', `/v1/tasks/${mine.body.id}`],
      ['GET', `/v1/tasks/${mine.body.id}?wait=1`],
      ['DELETE', `/v1/tasks/${mine.body.id}`],
    ] as const) {
      const res = await beta.api.call(method, path);
      expect(res.status).toBe(404);
      expect(res.body.error).toEqual({ code: 'NOT_FOUND', message: `Task ${mine.body.id} not found.` });
    }
    // Still queued: beta's cancel changed nothing.
    expect((await alpha.api.get(mine.body.id)).body.status).toBe('queued');
  });

  it('refuses a revoked key with 401', async () => {
    const gamma = await tenantWith('gamma');
    expect((await gamma.api.call('GET', '/v1/limits')).status).toBe(200);
    await revokeApiKey(admin, { tenantId: 'gamma', prefix: gamma.prefix });
    const res = await gamma.api.call('GET', '/v1/limits');
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('UNAUTHORIZED');
  });
});

describe('rate limits', () => {
  it('admits exactly the burst of a concurrent flood, with standard headers on every answer', async () => {
    const { api } = await tenantWith('flood', { requestsPerSecond: 0.01, burst: 7 });
    const answers = await Promise.all(Array.from({ length: 30 }, () => api.call('GET', '/v1/limits')));
    const ok = answers.filter((r) => r.status === 200);
    const limited = answers.filter((r) => r.status === 429);
    expect(ok).toHaveLength(7);
    expect(limited).toHaveLength(23);
    for (const r of answers) {
      expect(r.headers.get('ratelimit-limit')).toBe('7');
      expect(Number(r.headers.get('ratelimit-remaining'))).toBeGreaterThanOrEqual(0);
      expect(Number(r.headers.get('ratelimit-reset'))).toBeGreaterThan(0);
    }
    expect(ok.map((r) => Number(r.headers.get('ratelimit-remaining'))).sort((a, b) => a - b)).toEqual([
      0, 1, 2, 3, 4, 5, 6,
    ]);
    for (const r of limited) {
      expect(r.body.error.code).toBe('RATE_LIMITED');
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
  });
});

describe('quotas', () => {
  it('admits exactly maxQueuedTasks of a concurrent burst of submissions', async () => {
    const { api } = await tenantWith('quota', { maxQueuedTasks: 5 });
    const answers = await Promise.all(Array.from({ length: 12 }, () => api.submit(task)));
    expect(answers.filter((r) => r.status === 202)).toHaveLength(5);
    const refused = answers.filter((r) => r.status === 429);
    expect(refused).toHaveLength(7);
    for (const r of refused) {
      expect(r.body.error.code).toBe('QUOTA_EXCEEDED');
      expect(r.body.error.message).toContain('maxQueuedTasks');
      expect(r.headers.get('retry-after')).toBe('5');
    }
    const limits = await api.call('GET', '/v1/limits');
    expect(limits.body).toMatchObject({
      tenantId: 'quota',
      limits: { maxQueuedTasks: 5 },
      usage: { queuedTasks: 5, runningTasks: 0, liveSessions: 0 },
    });
    // Cancelling one frees one place.
    const first = answers.find((r) => r.status === 202);
    expect((await api.call('DELETE', `/v1/tasks/${first?.body.id}`)).status).toBe(200);
    expect((await api.submit(task)).status).toBe(202);
    expect((await api.submit(task)).status).toBe(429);
  });
});
