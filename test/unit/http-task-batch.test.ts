/**
 * `POST /v1/tasks/batch`'s real handler (middleware, use case, answer) on the memory twins:
 * one answer per item in order, partial success, idempotency per item, the rate limit
 * counted per item, and the refusals of the batch as a whole.
 */
import { randomBytes } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { buildHandler, type CreateTaskBatchDeps } from '../../functions/http-create-task-batch.js';
import { MemoryIdempotencyStore } from '../../shared/adapters/memory-idempotency-store.js';
import { MemoryRateBucketStore } from '../../shared/adapters/memory-rate-bucket-store.js';
import { MemoryResultCache } from '../../shared/adapters/memory-result-cache.js';
import { MemoryTaskStore } from '../../shared/adapters/memory-task-store.js';
import { MemoryTenantStore } from '../../shared/adapters/memory-tenant-store.js';
import { StoredApiKeyVerifier } from '../../shared/auth/api-key.js';
import type { Clock } from '../../shared/clock.js';
import type { Destination } from '../../shared/egress/egress-policy.js';
import { newTimeOrderedId } from '../../shared/ids.js';
import { noopMetrics } from '../../shared/metrics/metrics.js';
import { submitBatch } from '../../shared/task/submit-batch.js';
import { ensureTenantKey } from '../../shared/tenancy/manage-tenants.js';
import { DEFAULT_LIMITS, type TenantLimits } from '../../shared/tenancy/tenant.js';
import { rotateSigningSecret } from '../../shared/webhooks/manage-webhooks.js';
import { FakeArtifacts, FakeQueue } from '../support/fakes.js';

const T0 = Date.parse('2026-03-01T00:00:00Z');
const KEY = 'bf_test_batch_tenant_0123456789';

const world = async (limits: Partial<TenantLimits> = {}) => {
  const clock: Clock = { now: () => T0 };
  const tenants = new MemoryTenantStore();
  await ensureTenantKey(
    { tenants, clock, random: randomBytes },
    { tenantId: 'tenant-a', key: KEY, limits: { requestsPerSecond: 1000, burst: 1000, ...limits } },
  );
  let tenantReads = 0;
  const buckets = new MemoryRateBucketStore();
  const store = new MemoryTaskStore();
  const queue = new FakeQueue();
  const deps: CreateTaskBatchDeps = {
    logger: new Logger({ logLevel: 'SILENT' }),
    metrics: noopMetrics,
    auth: { verifier: new StoredApiKeyVerifier(tenants), buckets, clock },
    buckets,
    store,
    queue,
    idempotency: new MemoryIdempotencyStore(),
    resultCache: new MemoryResultCache(),
    tenantWebhooks: async () => {
      tenantReads += 1;
      return (await tenants.getTenant('tenant-a'))?.webhooks;
    },
    idempotencyTtlSeconds: 3_600,
    artifacts: new FakeArtifacts(),
    artifactUrlTtlSeconds: 600,
    clock,
    newId: () => newTimeOrderedId(clock.now()),
    checkDestination: async (url): Promise<Destination> =>
      url.includes('169.254.169.254')
        ? { allowed: false, reason: 'metadata', message: 'a cloud metadata address' }
        : { allowed: true, host: 'fixture.test', port: 80, addresses: ['203.0.113.9'] },
  } as CreateTaskBatchDeps;
  const handler = buildHandler(deps);
  const post = async (body: unknown, raw?: string) => {
    const res = await handler(
      {
        version: '2.0',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: raw ?? JSON.stringify(body),
        isBase64Encoded: false,
        requestContext: { http: { method: 'POST' } },
      } as unknown as APIGatewayProxyEventV2,
      { getRemainingTimeInMillis: () => 10_000 } as Context,
    );
    return { status: res.statusCode, headers: res.headers ?? {}, body: JSON.parse(String(res.body)) };
  };
  return { store, queue, post, deps, tenants, clock, tenantReads: () => tenantReads };
};

interface Result {
  index: number;
  status: number;
  replayed?: boolean;
  task?: { id: string; status: string; type: string };
  error?: { code: string; message: string };
}

const shot = (n: number) => ({ type: 'screenshot', url: `http://fixture.test/${n}` });

describe('POST /v1/tasks/batch on the memory twins', () => {
  it('answers each item in order; a bad item fails only itself', async () => {
    const w = await world();
    const res = await w.post({
      tasks: [
        shot(0),
        { type: 'screenshot' },
        'not an object',
        { type: 'links', url: 'http://169.254.169.254/latest/meta-data/' },
        { type: 'video', url: 'http://fixture.test/' },
        { ...shot(5), idempotencyKey: 42 },
        shot(6),
      ],
    });
    expect(res.status).toBe(200);
    const results = res.body.results as Result[];
    expect(results.map((r) => [r.index, r.status, r.error?.code])).toEqual([
      [0, 202, undefined],
      [1, 400, 'VALIDATION_FAILED'],
      [2, 400, 'VALIDATION_FAILED'],
      [3, 400, 'DESTINATION_BLOCKED'],
      [4, 400, 'VALIDATION_FAILED'],
      [5, 400, 'VALIDATION_FAILED'],
      [6, 202, undefined],
    ]);
    expect(results[1]?.error?.message).toMatch(/^url: /);
    expect(results[5]?.error?.message).toMatch(/^idempotencyKey: /);
    // The accepted ones are written and enqueued, the others not.
    const ids = [results[0]?.task?.id, results[6]?.task?.id];
    for (const id of ids) expect(await w.store.get(String(id))).toMatchObject({ status: 'queued' });
    expect(w.queue.sent.map((s) => ('taskId' in s.message ? s.message.taskId : ''))).toEqual(ids);
  });

  it("refuses an item's own webhook while the tenant has no signing secret, from the key's read of the tenant", async () => {
    const w = await world();
    const batch = { tasks: [shot(0), { ...shot(1), webhook: { url: 'http://fixture.test/hook' } }] };
    const before = (await w.post(batch)).body.results as Result[];
    expect(before.map((r) => [r.status, r.error?.code])).toEqual([
      [202, undefined],
      [400, 'VALIDATION_FAILED'],
    ]);
    expect(before[1]?.error).toMatchObject({
      message: expect.stringMatching(/^webhook: .*browserfleet admin webhook rotate-secret tenant-a/),
      details: { issues: [{ field: 'webhook' }] },
    });
    await rotateSigningSecret(
      { tenants: w.tenants, clock: w.clock, random: randomBytes },
      { tenantId: 'tenant-a' },
    );
    const after = (await w.post(batch)).body.results as Result[];
    expect(after.map((r) => r.status)).toEqual([202, 202]);
    expect(await w.store.get(String(after[1]?.task?.id))).toMatchObject({
      webhook: { url: 'http://fixture.test/hook' },
    });
    // No item read the tenant again: the authentication's read served them all.
    expect(w.tenantReads()).toBe(0);
  });

  it('a repeated batch with idempotency keys answers the same tasks, and enqueues each once', async () => {
    const w = await world();
    const batch = { tasks: [0, 1, 2].map((n) => ({ ...shot(n), idempotencyKey: `item-${n}` })) };
    const first = (await w.post(batch)).body.results as Result[];
    const again = (await w.post(batch)).body.results as Result[];
    expect(first.map((r) => r.status)).toEqual([202, 202, 202]);
    expect(again.map((r) => r.task?.id)).toEqual(first.map((r) => r.task?.id));
    expect(again.every((r) => r.replayed === true)).toBe(true);
    expect(first.some((r) => r.replayed === true)).toBe(false);
    expect(w.queue.sent).toHaveLength(3);
    // The same key on a different body is refused, as on POST /v1/tasks.
    const reused = (await w.post({ tasks: [{ ...shot(9), idempotencyKey: 'item-0' }] })).body
      .results as Result[];
    expect(reused[0]).toMatchObject({ status: 409, error: { code: 'IDEMPOTENCY_KEY_REUSED' } });
  });

  it('counts one token per item: once the bucket refuses, the rest answer 429', async () => {
    // A burst of 4 and next to no refill: the request takes the first, items 1-3 the others.
    const w = await world({ burst: 4, requestsPerSecond: 0.001 });
    const results = (await w.post({ tasks: [0, 1, 2, 3, 4, 5].map(shot) })).body.results as Result[];
    expect(results.map((r) => r.status)).toEqual([202, 202, 202, 202, 429, 429]);
    expect(results[4]?.error?.code).toBe('RATE_LIMITED');
    expect(results[4]?.error).toMatchObject({ details: { retryAfterSeconds: expect.any(Number) } });
    expect(w.queue.sent).toHaveLength(4);
    // The bucket is empty: the next request is refused as a whole.
    expect((await w.post({ tasks: [shot(7)] })).status).toBe(429);
  });

  it('answers RateLimit-Remaining as the batch left the bucket, a token per item', async () => {
    const w = await world({ burst: 10, requestsPerSecond: 0.001 });
    const one = await w.post({ tasks: [shot(0)] });
    expect(one.headers['ratelimit-remaining']).toBe('9');
    const three = await w.post({ tasks: [1, 2, 3].map(shot) });
    expect(three.headers['ratelimit-remaining']).toBe('6');
  });

  it('refuses a batch that is not 1 to 100 tasks with 400 naming tasks, submitting none', async () => {
    const w = await world();
    for (const body of [
      { tasks: Array.from({ length: 101 }, (_, n) => shot(n)) },
      { tasks: [] },
      { tasks: {} },
      {},
    ]) {
      const res = await w.post(body);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
      expect(res.body.error.message).toMatch(/^tasks: /);
    }
    const extra = await w.post({ tasks: [shot(0)], wait: 5 });
    expect(extra.body.error.message).toMatch(/wait: is not a recognized field/);
    expect(w.queue.sent).toHaveLength(0);
  });

  it('takes 100 tasks, and refuses an item bigger than POST /v1/tasks takes with 413', async () => {
    const w = await world();
    const big = { type: 'evaluate', url: 'http://fixture.test/', options: { script: 'x'.repeat(300_000) } };
    const res = await w.post({ tasks: [...Array.from({ length: 99 }, (_, n) => shot(n)), big] });
    const results = res.body.results as Result[];
    expect(results).toHaveLength(100);
    expect(results.filter((r) => r.status === 202)).toHaveLength(99);
    expect(results[99]).toMatchObject({ index: 99, status: 413, error: { code: 'PAYLOAD_TOO_LARGE' } });
  });

  it('near the deadline, items not yet begun answer 503 and are not submitted', async () => {
    const w = await world();
    const deadline = new AbortController();
    const store = w.deps.store;
    // The deadline signal fires while the second item is being written.
    const create = store.create.bind(store);
    let created = 0;
    store.create = async (...args) => {
      created += 1;
      if (created === 2) deadline.abort();
      return create(...args);
    };
    const { items: outcomes } = await submitBatch(w.deps, {
      tenant: { tenantId: 'tenant-a', limits: DEFAULT_LIMITS },
      body: { tasks: [0, 1, 2, 3].map(shot) },
      maxItemBytes: 256 * 1024,
      signal: deadline.signal,
    });
    expect(outcomes.map((o) => (o.ok ? 'ok' : (o.error as { code: string }).code))).toEqual([
      'ok',
      'ok',
      'DEPENDENCY_UNAVAILABLE',
      'DEPENDENCY_UNAVAILABLE',
    ]);
    expect(w.queue.sent).toHaveLength(2);
  });
});
