import { describe, expect, it } from 'vitest';
import { mapError } from '../../functions/http/error-mapping.js';
import { MemoryIdempotencyStore } from '../../shared/adapters/memory-idempotency-store.js';
import { MemoryResultCache } from '../../shared/adapters/memory-result-cache.js';
import { MemoryTaskStore } from '../../shared/adapters/memory-task-store.js';
import { BrowserfleetError } from '../../shared/errors.js';
import { applyEvent } from '../../shared/task/apply-event.js';
import { runTask } from '../../shared/task/run-task.js';
import { submitTask } from '../../shared/task/submit-task.js';
import { sweepTasks } from '../../shared/task/sweep-tasks.js';
import { fakeClock } from '../support/fake-clock.js';
import { FakeArtifacts, FakeBrowser, FakeQueue, succeedWith } from '../support/fakes.js';

/** Fake time these tests move on by hand (the sweeps run no timers of their own). */
const fixedClock = (start: number) => {
  const clock = fakeClock(start);
  const advance = (ms: number): void => clock.jump(ms);
  return { clock, advance };
};

const T0 = Date.parse('2026-03-01T00:00:00Z');
const body = { type: 'screenshot', url: 'http://fixture.test/' };

const world = () => {
  const store = new MemoryTaskStore();
  const queue = new FakeQueue();
  const { clock, advance } = fixedClock(T0);
  let n = 0;
  const resultCache = new MemoryResultCache();
  const submitDeps = {
    store,
    queue,
    clock,
    idempotency: new MemoryIdempotencyStore(),
    resultCache,
    tenantWebhooks: async () => undefined,
    newId: () => `task-${++n}`,
    idempotencyTtlSeconds: 3600,
    checkDestination: async () => ({
      allowed: true as const,
      host: 'fixture.test',
      port: 80,
      addresses: ['203.0.113.9'],
    }),
  };
  const sweepDeps = { store, queue, clock, resendAfterMs: 60_000 };
  return { store, queue, clock, advance, submitDeps, sweepDeps, resultCache };
};

describe('the sweeper', () => {
  it('re-sends a queued task whose message is overdue, once per resend window', async () => {
    const w = world();
    const { task } = await submitTask(w.submitDeps, { tenantId: 'ten', body });
    w.queue.sent.length = 0; // as if the first message was lost
    expect(await sweepTasks(w.sweepDeps)).toMatchObject({ resent: 0 });
    w.advance(60_001);
    expect(await sweepTasks(w.sweepDeps)).toMatchObject({ resent: 1 });
    expect(w.queue.sent).toEqual([{ message: { taskId: task.id, tier: 'lambda' }, delaySeconds: 0 }]);
    expect(await sweepTasks(w.sweepDeps)).toMatchObject({ resent: 0 });
  });

  it('requeues a running task whose owner stopped heartbeating, and fails it when out of attempts', async () => {
    const w = world();
    const { task } = await submitTask(w.submitDeps, { tenantId: 'ten', body: { ...body, maxAttempts: 2 } });
    const claim = async (owner: string) => {
      const row = await w.store.get(task.id);
      if (row === undefined) throw new Error('missing');
      const out = await applyEvent(w.store, row, { kind: 'claim', owner, leaseMs: 1_000 }, w.clock.now);
      expect(out.ok).toBe(true);
    };
    await claim('dead-1');
    expect(await sweepTasks(w.sweepDeps)).toMatchObject({ requeued: 0 });
    w.advance(1_001);
    expect(await sweepTasks(w.sweepDeps)).toMatchObject({ requeued: 1 });
    expect(await w.store.get(task.id)).toMatchObject({ status: 'queued' });
    await claim('dead-2');
    w.advance(1_001);
    expect(await sweepTasks(w.sweepDeps)).toMatchObject({ failed: 1 });
    const row = await w.store.get(task.id);
    expect(row).toMatchObject({ status: 'failed', error: { code: 'LEASE_EXPIRED' } });
    expect(row?.history.map((h) => `${h.worker}:${h.outcome}`)).toEqual([
      'dead-1:lease-expired',
      'dead-2:lease-expired',
    ]);
  });
});

describe('submission', () => {
  it("takes the tenant's webhooks from the authenticated tenant, without reading the tenant again", async () => {
    const w = world();
    let reads = 0;
    const deps = {
      ...w.submitDeps,
      tenantWebhooks: async () => {
        reads++;
        return undefined;
      },
    };
    const endpoint = {
      id: 'ep_0',
      url: 'https://hooks.example/x',
      events: ['task.succeeded' as const],
      createdAt: new Date(T0).toISOString(),
    };
    const withHooks = await submitTask(deps, {
      tenantId: 'ten',
      body,
      tenant: { webhooks: { secrets: [], endpoints: [endpoint] } },
    });
    expect(withHooks.task.webhook).toBeDefined();
    const without = await submitTask(deps, { tenantId: 'ten', body, tenant: {} });
    expect(without.task.webhook).toBeUndefined();
    expect(reads).toBe(0);
    // Without it, the use case reads the tenant itself.
    await submitTask(deps, { tenantId: 'ten', body });
    expect(reads).toBe(1);
  });
});

describe("a task's own webhook", () => {
  const hooked = { ...body, webhook: { url: 'http://fixture.test/hook' } };
  const secret = (retiresAt?: number) => ({
    secret: 'whsec_dGVzdA==',
    createdAt: new Date(T0 - 60_000).toISOString(),
    ...(retiresAt === undefined ? {} : { retiresAt: new Date(retiresAt).toISOString() }),
  });

  it.each([
    ['no webhook settings', undefined],
    ['no secret', { endpoints: [], secrets: [] }],
    ['only a retired secret', { endpoints: [], secrets: [secret(T0)] }],
  ])(
    'is refused with VALIDATION_FAILED naming the field and the command when the tenant has %s',
    async (_, webhooks) => {
      const w = world();
      const refused = await submitTask(w.submitDeps, {
        tenantId: 'acme',
        body: hooked,
        tenant: { webhooks },
      }).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(BrowserfleetError);
      expect(refused).toMatchObject({
        code: 'VALIDATION_FAILED',
        details: { issues: [{ field: 'webhook', message: expect.stringContaining('signing secret') }] },
      });
      expect((refused as Error).message).toMatch(
        /^webhook: .*tenant acme has no live one.*`browserfleet admin webhook rotate-secret acme`$/,
      );
      // The API answers it as any validation failure: 400 in the house shape.
      expect(mapError(refused)).toMatchObject({
        statusCode: 400,
        body: { error: { code: 'VALIDATION_FAILED', details: { issues: [{ field: 'webhook' }] } } },
      });
      // Nothing accepted: no row, no message.
      expect(w.queue.sent).toEqual([]);
      expect(await w.store.get('task-1')).toBeUndefined();
    },
  );

  it('is accepted with a live secret, also one in its overlap, read once when the request brought no tenant', async () => {
    const w = world();
    let reads = 0;
    const deps = {
      ...w.submitDeps,
      tenantWebhooks: async () => {
        reads++;
        return { endpoints: [], secrets: [secret(T0 + 1)] };
      },
    };
    const { task } = await submitTask(deps, { tenantId: 'acme', body: hooked });
    expect(task.webhook).toEqual({ url: 'http://fixture.test/hook', deliveries: [] });
    expect(reads).toBe(1);
    // A task without a webhook still reads nothing when the request brought its tenant.
    await submitTask(deps, { tenantId: 'acme', body, tenant: {} });
    expect(reads).toBe(1);
  });

  it('a blocked webhook URL is refused by the egress guard before the secret is looked at', async () => {
    const w = world();
    const deps = {
      ...w.submitDeps,
      checkDestination: async (url: string) =>
        url.includes('/hook')
          ? { allowed: false as const, reason: 'metadata' as const, message: 'a cloud metadata address' }
          : w.submitDeps.checkDestination(),
    };
    await expect(
      submitTask(deps, { tenantId: 'acme', body: hooked, tenant: { webhooks: undefined } }),
    ).rejects.toMatchObject({ code: 'DESTINATION_BLOCKED' });
  });
});

describe('idempotency', () => {
  it('answers a repeat of the same request with the original task, and no second message', async () => {
    const w = world();
    const first = await submitTask(w.submitDeps, { tenantId: 'ten', body, idempotencyKey: 'order-42' });
    const again = await submitTask(w.submitDeps, {
      tenantId: 'ten',
      // Same meaning, different spelling: defaults written out, keys reordered.
      body: { url: body.url, type: 'screenshot', maxAttempts: 3 },
      idempotencyKey: 'order-42',
    });
    expect(again).toMatchObject({ replayed: true, task: { id: first.task.id } });
    expect(w.queue.sent).toHaveLength(1);
  });

  it('refuses the same key on a different request with IDEMPOTENCY_KEY_REUSED', async () => {
    const w = world();
    await submitTask(w.submitDeps, { tenantId: 'ten', body, idempotencyKey: 'k1' });
    await expect(
      submitTask(w.submitDeps, {
        tenantId: 'ten',
        body: { ...body, url: 'http://other.test/' },
        idempotencyKey: 'k1',
      }),
    ).rejects.toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
  });

  it('keeps tenants apart and forgets a key after its window', async () => {
    const w = world();
    const a = await submitTask(w.submitDeps, { tenantId: 'a', body, idempotencyKey: 'k' });
    const b = await submitTask(w.submitDeps, { tenantId: 'b', body, idempotencyKey: 'k' });
    expect(b.task.id).not.toBe(a.task.id);
    w.advance(3_600_001);
    const later = await submitTask(w.submitDeps, { tenantId: 'a', body, idempotencyKey: 'k' });
    expect(later).toMatchObject({ replayed: false });
    expect(later.task.id).not.toBe(a.task.id);
  });

  it('keeps the quota when a key is retried after a quota refusal', async () => {
    const w = world();
    await submitTask(w.submitDeps, { tenantId: 'q', body, maxQueuedTasks: 1 });
    await expect(
      submitTask(w.submitDeps, { tenantId: 'q', body, idempotencyKey: 'retry-me', maxQueuedTasks: 1 }),
    ).rejects.toMatchObject({ code: 'QUOTA_EXCEEDED' });
    await expect(
      submitTask(w.submitDeps, { tenantId: 'q', body, idempotencyKey: 'retry-me', maxQueuedTasks: 1 }),
    ).rejects.toMatchObject({ code: 'QUOTA_EXCEEDED' });
    expect(await w.store.usage('q')).toEqual({ queuedTasks: 1, runningTasks: 0 });
  });

  it('rejects a malformed key naming the header', async () => {
    const w = world();
    await expect(
      submitTask(w.submitDeps, { tenantId: 'a', body, idempotencyKey: 'has space' }),
    ).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringContaining('Idempotency-Key'),
    });
  });
});

describe("a task waiting for its tenant's quota, and duplicates of a retried task", () => {
  const runDeps = (w: ReturnType<typeof world>, maxRunning: number) => ({
    store: w.store,
    queue: w.queue,
    artifacts: new FakeArtifacts(),
    resultCache: w.resultCache,
    browser: new FakeBrowser([succeedWith('x')]),
    clock: w.clock,
    workerId: 'w1',
    leaseMs: 10_000,
    heartbeatMs: 1_000,
    backoff: { baseMs: 1_000, capMs: 60_000 },
    random: () => 0.5,
    maxRunningTasks: async () => maxRunning,
  });

  it('its circulating copy keeps the row fresh, so the sweeper adds no copy of its own', async () => {
    const w = world();
    const { task } = await submitTask(w.submitDeps, { tenantId: 'ten', body });
    w.queue.sent.length = 0;
    // Ten minutes of waits, a receive every 5 s: the copy is alive all along.
    for (let t = 0; t < 120; t++) {
      w.advance(5_000);
      const outcome = await runTask(runDeps(w, 0), { taskId: task.id, ack: async () => {} });
      expect(outcome).toMatchObject({ kind: 'wait', reason: 'quota' });
      expect(await sweepTasks(w.sweepDeps)).toMatchObject({ resent: 0 });
    }
    expect(w.queue.sent).toEqual([]);
  });

  it('a duplicate delivered inside its retry backoff waits out the rest of it and claims nothing', async () => {
    const w = world();
    const { task } = await submitTask(w.submitDeps, { tenantId: 'ten', body });
    const row = await w.store.get(task.id);
    if (row === undefined) throw new Error('no row');
    await w.store.save({ ...row, availableAt: T0 + 30_000, version: row.version + 1 }, row);
    const outcome = await runTask(runDeps(w, 10), { taskId: task.id, ack: async () => {} });
    expect(outcome).toEqual({ kind: 'wait', reason: 'backoff', delaySeconds: 30 });
    expect(await w.store.get(task.id)).toMatchObject({ status: 'queued', attempts: 0 });
    w.advance(30_000);
    expect(await runTask(runDeps(w, 10), { taskId: task.id, ack: async () => {} })).toMatchObject({
      kind: 'succeeded',
    });
  });
});

describe('a sweep that meets a failing row', () => {
  it('sweeps the rows after it, counts the failure, and tries the row again next run', async () => {
    const w = world();
    const first = await submitTask(w.submitDeps, { tenantId: 'ten', body });
    const second = await submitTask(w.submitDeps, { tenantId: 'ten', body });
    w.queue.sent.length = 0;
    const save = w.store.save.bind(w.store);
    let throttled = true;
    w.store.save = async (next, current, quota) => {
      if (throttled && next.id === first.task.id) {
        throw Object.assign(new Error('Throughput exceeds the current capacity.'), {
          name: 'ProvisionedThroughputExceededException',
        });
      }
      return save(next, current, quota);
    };
    const failed: string[] = [];
    w.advance(60_001);
    expect(await sweepTasks({ ...w.sweepDeps, onError: (id) => failed.push(id) })).toMatchObject({
      resent: 1,
      errors: 1,
    });
    expect(failed).toEqual([first.task.id]);
    expect(w.queue.sent.map((m) => (m.message as { taskId: string }).taskId)).toEqual([second.task.id]);
    throttled = false;
    expect(await sweepTasks(w.sweepDeps)).toMatchObject({ resent: 1, errors: 0 });
    expect(w.queue.sent.map((m) => (m.message as { taskId: string }).taskId)).toEqual([
      second.task.id,
      first.task.id,
    ]);
  });
});
