/**
 * The task routes' real handlers (middleware, use case, answer) on the memory twins: no
 * AWS, no emulator. Each handler takes only the ports it declares, so this is all it needs.
 */
import { randomBytes } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { buildHandler as buildCreateTask, type CreateTaskDeps } from '../../functions/http-create-task.js';
import { buildHandler as buildGetTask } from '../../functions/http-get-task.js';
import { MemoryIdempotencyStore } from '../../shared/adapters/memory-idempotency-store.js';
import { MemoryRateBucketStore } from '../../shared/adapters/memory-rate-bucket-store.js';
import { MemoryResultCache } from '../../shared/adapters/memory-result-cache.js';
import { MemoryTaskStore } from '../../shared/adapters/memory-task-store.js';
import { MemoryTenantStore } from '../../shared/adapters/memory-tenant-store.js';
import { StoredApiKeyVerifier } from '../../shared/auth/api-key.js';
import type { Clock } from '../../shared/clock.js';
import type { Destination } from '../../shared/egress/egress-policy.js';
import { newTimeOrderedId } from '../../shared/ids.js';
import { RecordingMetrics } from '../../shared/metrics/metrics.js';
import { applyEvent } from '../../shared/task/apply-event.js';
import { resultCacheKey } from '../../shared/task/result-cache.js';
import type { Task } from '../../shared/task/task.js';
import { createTaskInputSchema } from '../../shared/task/task-input.js';
import { ensureTenantKey } from '../../shared/tenancy/manage-tenants.js';
import { FakeArtifacts, FakeQueue } from '../support/fakes.js';

const T0 = Date.parse('2026-03-01T00:00:00Z');
const KEY_A = 'bf_test_tenant_a_0123456789';
const KEY_B = 'bf_test_tenant_b_0123456789';
const PUBLIC: Destination = { allowed: true, host: 'fixture.test', port: 80, addresses: ['203.0.113.9'] };

const world = async (options: { destination?: Destination; maxQueuedTasks?: number } = {}) => {
  const clock: Clock = { now: () => T0 };
  const tenants = new MemoryTenantStore();
  const admin = { tenants, clock, random: randomBytes };
  const limits = { maxQueuedTasks: options.maxQueuedTasks ?? 100 };
  await ensureTenantKey(admin, { tenantId: 'tenant-a', key: KEY_A, limits });
  await ensureTenantKey(admin, { tenantId: 'tenant-b', key: KEY_B, limits });
  const queue = new FakeQueue();
  const store = new MemoryTaskStore();
  const artifacts = new FakeArtifacts();
  const metrics = new RecordingMetrics();
  const resultCache = new MemoryResultCache();
  const deps: CreateTaskDeps = {
    logger: new Logger({ logLevel: 'SILENT' }),
    metrics,
    auth: { verifier: new StoredApiKeyVerifier(tenants), buckets: new MemoryRateBucketStore(), clock },
    store,
    queue,
    idempotency: new MemoryIdempotencyStore(),
    idempotencyTtlSeconds: 3_600,
    resultCache,
    tenantWebhooks: async () => undefined,
    artifacts,
    artifactUrlTtlSeconds: 600,
    clock,
    newId: () => newTimeOrderedId(clock.now()),
    checkDestination: async () => options.destination ?? PUBLIC,
  };
  return {
    deps,
    store,
    queue,
    artifacts,
    metrics,
    resultCache,
    createTask: invoke(buildCreateTask(deps)),
    // get-task is given only what it declares: the store, the artifacts and their URL lifetime.
    getTask: invoke(
      buildGetTask({
        logger: deps.logger,
        metrics: deps.metrics,
        auth: deps.auth,
        store,
        artifacts,
        artifactUrlTtlSeconds: 600,
      }),
    ),
  };
};

interface Request {
  method: string;
  key?: string;
  body?: unknown;
  headers?: Record<string, string>;
  pathParameters?: Record<string, string>;
}

/** Calls a handler as API Gateway does (payload v2) and parses its JSON answer. */
const invoke =
  (
    handler: (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>,
  ) =>
  async (request: Request) => {
    const event = {
      version: '2.0',
      headers: {
        ...(request.key === undefined ? {} : { authorization: `Bearer ${request.key}` }),
        ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...request.headers,
      },
      ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
      isBase64Encoded: false,
      ...(request.pathParameters === undefined ? {} : { pathParameters: request.pathParameters }),
      requestContext: { http: { method: request.method } },
    } as unknown as APIGatewayProxyEventV2;
    const res = await handler(event, { getRemainingTimeInMillis: () => 10_000 } as Context);
    return {
      status: res.statusCode,
      headers: res.headers ?? {},
      body: JSON.parse(String(res.body)) as Record<string, unknown> & { error?: { code: string } },
    };
  };

const screenshot = { type: 'screenshot', url: 'http://fixture.test/' };

describe('POST /v1/tasks on the memory twins', () => {
  it('answers 202 with the queued task and its location, after writing the row and enqueuing it', async () => {
    const w = await world();
    const res = await w.createTask({ method: 'POST', key: KEY_A, body: screenshot });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({
      status: 'queued',
      type: 'screenshot',
      url: screenshot.url,
      attempts: 0,
    });
    const id = String(res.body.id);
    expect(res.headers.location).toBe(`/v1/tasks/${id}`);
    expect(res.headers['ratelimit-limit']).toBeDefined();
    expect(await w.store.get(id)).toMatchObject({ tenantId: 'tenant-a', status: 'queued' });
    // With the row as written, for the worker's claim to be tried on without a read.
    expect(w.queue.sent).toEqual([
      { message: { taskId: id, tier: res.body.tier, row: await w.store.get(id) }, delaySeconds: 0 },
    ]);
  });

  it('replays an Idempotency-Key with the original task and Idempotent-Replayed, enqueuing once', async () => {
    const w = await world();
    const request = { method: 'POST', key: KEY_A, body: screenshot, headers: { 'idempotency-key': 'k-1' } };
    const first = await w.createTask(request);
    const again = await w.createTask(request);
    expect([first.status, again.status]).toEqual([202, 202]);
    expect(again.body.id).toBe(first.body.id);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(w.queue.sent).toHaveLength(1);

    const reused = await w.createTask({
      ...request,
      body: { ...screenshot, url: 'http://fixture.test/other' },
    });
    expect(reused.status).toBe(409);
    expect(reused.body.error?.code).toBe('IDEMPOTENCY_KEY_REUSED');
  });

  it('refuses a missing key with 401 and an invalid body with 400, writing nothing', async () => {
    const w = await world();
    const anonymous = await w.createTask({ method: 'POST', body: screenshot });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toMatchObject({ error: { code: 'UNAUTHORIZED', message: expect.any(String) } });

    const invalid = await w.createTask({ method: 'POST', key: KEY_A, body: { type: 'screenshot' } });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error?.code).toBe('VALIDATION_FAILED');
    expect(w.queue.sent).toEqual([]);
  });

  it('refuses a blocked destination with 400 DESTINATION_BLOCKED, and a full queue with 429', async () => {
    const blocked = await world({
      destination: { allowed: false, reason: 'private', message: '10.0.0.1 is a private address' },
    });
    const res = await blocked.createTask({ method: 'POST', key: KEY_A, body: screenshot });
    expect(res.status).toBe(400);
    expect(res.body.error?.code).toBe('DESTINATION_BLOCKED');
    expect(blocked.queue.sent).toEqual([]);

    const full = await world({ maxQueuedTasks: 1 });
    expect((await full.createTask({ method: 'POST', key: KEY_A, body: screenshot })).status).toBe(202);
    const over = await full.createTask({ method: 'POST', key: KEY_A, body: screenshot });
    expect(over.status).toBe(429);
    expect(over.body.error?.code).toBe('QUOTA_EXCEEDED');
    expect(full.queue.sent).toHaveLength(1);
  });
});

describe('POST /v1/tasks with cacheTTL on the memory twins', () => {
  it('answers a fresh entry of the tenant at once with 200, a succeeded task, and counts the hit', async () => {
    const w = await world();
    const key = resultCacheKey(
      createTaskInputSchema.parse({ ...screenshot, cacheTTL: 60 }) as unknown as Parameters<
        typeof resultCacheKey
      >[0],
    );
    await w.artifacts.put('tasks/source/1/screenshot.png', new Uint8Array([1, 2, 3]), 'image/png');
    await w.resultCache.record({
      tenantId: 'tenant-a',
      key,
      sourceTaskId: 'source',
      result: {
        artifacts: [
          { name: 'screenshot.png', contentType: 'image/png', size: 3, key: 'tasks/source/1/screenshot.png' },
        ],
        finalUrl: screenshot.url,
        httpStatus: 200,
      },
      endedAtMs: T0 - 10_000,
      expiresAtMs: T0 + 50_000,
    });
    const hit = await w.createTask({ method: 'POST', key: KEY_A, body: { ...screenshot, cacheTTL: 60 } });
    expect(hit.status).toBe(200);
    expect(hit.headers.location).toBe(`/v1/tasks/${hit.body.id}`);
    expect(hit.body).toMatchObject({
      status: 'succeeded',
      cacheTTL: 60,
      cache: { hit: true, sourceTaskId: 'source', expiresAt: new Date(T0 + 50_000).toISOString() },
      result: { browserMs: 0, artifacts: [{ name: 'screenshot.png', size: 3 }] },
    });
    expect(w.queue.sent).toEqual([]);
    expect(w.metrics.calls.filter((c) => c.name === 'ResultCacheHits')).toHaveLength(1);

    // The other tenant's identical request is queued: the entry is tenant-a's alone.
    const miss = await w.createTask({ method: 'POST', key: KEY_B, body: { ...screenshot, cacheTTL: 60 } });
    expect(miss.status).toBe(202);
    expect(miss.body).toMatchObject({ status: 'queued', cache: { hit: false } });
    expect(w.queue.sent).toHaveLength(1);
    expect(w.metrics.calls.filter((c) => c.name === 'ResultCacheHits')).toHaveLength(1);
  });

  it('refuses cacheTTL past a day with 400 VALIDATION_FAILED naming the field and the rule', async () => {
    const w = await world();
    const res = await w.createTask({ method: 'POST', key: KEY_A, body: { ...screenshot, cacheTTL: 86_401 } });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: 'cacheTTL: must be at most 86400 (one day)',
    });
  });
});

describe('GET /v1/tasks/{id} on the memory twins', () => {
  const succeed = async (store: MemoryTaskStore, task: Task): Promise<void> => {
    const claimed = await applyEvent(store, task, { kind: 'claim', owner: 'w1', leaseMs: 30_000 }, () => T0);
    if (!claimed.ok) throw new Error(`claim refused: ${claimed.reason}`);
    const key = `tasks/${task.id}/1/screenshot.png`;
    const done = await applyEvent(
      store,
      claimed.task,
      {
        kind: 'succeed',
        leaseToken: claimed.task.leaseToken,
        result: { artifacts: [{ name: 'screenshot.png', contentType: 'image/png', size: 3, key }] },
      },
      () => T0 + 500,
    );
    if (!done.ok) throw new Error(`succeed refused: ${done.reason}`);
  };

  it("answers 200 with the tenant's task, and a presigned URL for each artifact once it succeeded", async () => {
    const w = await world();
    const created = await w.createTask({ method: 'POST', key: KEY_A, body: screenshot });
    const id = String(created.body.id);

    const queued = await w.getTask({ method: 'GET', key: KEY_A, pathParameters: { id } });
    expect(queued.status).toBe(200);
    expect(queued.body).toMatchObject({ id, status: 'queued' });
    expect(queued.body.result).toBeUndefined();

    await succeed(w.store, (await w.store.get(id)) as Task);
    const done = await w.getTask({ method: 'GET', key: KEY_A, pathParameters: { id } });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({
      id,
      status: 'succeeded',
      result: {
        artifacts: [
          {
            name: 'screenshot.png',
            contentType: 'image/png',
            size: 3,
            // The fake presigns the artifact's own key (see FakeArtifacts).
            url: expect.stringContaining(encodeURIComponent(`tasks/${id}/1/screenshot.png`)),
            urlExpiresIn: 600,
          },
        ],
      },
    });
  });

  it("answers another tenant's task exactly as a missing one: 404 NOT_FOUND", async () => {
    const w = await world();
    const created = await w.createTask({ method: 'POST', key: KEY_A, body: screenshot });
    const id = String(created.body.id);

    const foreign = await w.getTask({ method: 'GET', key: KEY_B, pathParameters: { id } });
    const missing = await w.getTask({
      method: 'GET',
      key: KEY_B,
      pathParameters: { id: newTimeOrderedId(T0 + 1) },
    });
    expect([foreign.status, missing.status]).toEqual([404, 404]);
    expect(foreign.body.error?.code).toBe('NOT_FOUND');
    expect(missing.body.error?.code).toBe('NOT_FOUND');
    const malformed = await w.getTask({ method: 'GET', key: KEY_A, pathParameters: { id: 'not-an-id' } });
    expect(malformed.status).toBe(404);
  });

  it('refuses a request without a key with 401 before reading the task', async () => {
    const w = await world();
    const res = await w.getTask({ method: 'GET', pathParameters: { id: newTimeOrderedId(T0) } });
    expect(res.status).toBe(401);
    expect(res.body.error?.code).toBe('UNAUTHORIZED');
  });
});
