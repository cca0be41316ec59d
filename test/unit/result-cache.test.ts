/**
 * The result cache as pure logic: how a request becomes a key (URL normalization, options
 * in canonical order, delivery fields left out), and the submit → run → submit path on the
 * in-memory twins with a fake clock, so expiry is tested to the millisecond without waiting.
 */
import { describe, expect, it } from 'vitest';
import { MemoryIdempotencyStore } from '../../shared/adapters/memory-idempotency-store.js';
import { MemoryResultCache } from '../../shared/adapters/memory-result-cache.js';
import { MemoryTaskStore } from '../../shared/adapters/memory-task-store.js';
import { normalizeTaskUrl, resultCacheKey } from '../../shared/task/result-cache.js';
import { runTask } from '../../shared/task/run-task.js';
import { submitTask } from '../../shared/task/submit-task.js';
import { createTaskInputSchema } from '../../shared/task/task-input.js';
import { toTaskView } from '../../shared/task/task-view.js';
import { fakeClock } from '../support/fake-clock.js';
import { FakeArtifacts, FakeBrowser, FakeQueue, succeedWith, throwCode } from '../support/fakes.js';

describe('normalizeTaskUrl', () => {
  it.each([
    ['HTTP://Example.TEST/a', 'http://example.test/a'],
    ['http://example.test:80/a', 'http://example.test/a'],
    ['https://example.test:443/a', 'https://example.test/a'],
    ['https://example.test:8443/a', 'https://example.test:8443/a'],
    ['http://example.test', 'http://example.test/'],
    ['http://example.test/a/./b/../c', 'http://example.test/a/c'],
    ['http://example.test/a?', 'http://example.test/a'],
    ['http://example.test/a#', 'http://example.test/a'],
    ['http://example.test/%7efred?q=%2f', 'http://example.test/%7Efred?q=%2F'],
  ])('%s → %s', (input, normalized) => {
    expect(normalizeTaskUrl(input)).toBe(normalized);
  });

  it('keeps what can change the page: the path case, the query order and a fragment', () => {
    expect(normalizeTaskUrl('http://a.test/Path')).toBe('http://a.test/Path');
    expect(normalizeTaskUrl('http://a.test/?b=2&a=1')).toBe('http://a.test/?b=2&a=1');
    // The browser acts on a fragment (scrolls to it, routes a single-page app by it).
    expect(normalizeTaskUrl('http://a.test/#/settings')).toBe('http://a.test/#/settings');
  });
});

describe('resultCacheKey', () => {
  const keyOf = (body: Record<string, unknown>) => {
    const parsed = createTaskInputSchema.parse(body);
    return resultCacheKey({ type: parsed.type, options: parsed.options, url: parsed.url } as never);
  };
  const base = { type: 'screenshot', url: 'http://a.test/' };

  it('is the same for the same meaning: URL spelling, option order, defaults written out', () => {
    const key = keyOf({ ...base, options: { viewport: { width: 800, height: 600 }, fullPage: true } });
    expect(
      keyOf({
        type: 'screenshot',
        url: 'HTTP://A.TEST:80',
        options: { fullPage: true, format: 'png', viewport: { height: 600, width: 800 } },
      }),
    ).toBe(key);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
  });

  it('leaves out what only decides delivery: cacheTTL, tier, maxAttempts', () => {
    expect(keyOf({ ...base, cacheTTL: 60, tier: 'fleet', maxAttempts: 1 })).toBe(keyOf(base));
  });

  it('differs by type, URL, any option, and a fragment', () => {
    const keys = [
      keyOf(base),
      keyOf({ ...base, type: 'pdf' }),
      keyOf({ ...base, url: 'http://a.test/b' }),
      keyOf({ ...base, url: 'http://a.test/?x=1' }),
      keyOf({ ...base, url: 'http://a.test/#top' }),
      keyOf({ ...base, options: { fullPage: true } }),
      keyOf({ ...base, options: { cookies: [{ name: 'session', value: 'alice' }] } }),
      keyOf({ ...base, options: { cookies: [{ name: 'session', value: 'bob' }] } }),
    ];
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('holds no option value in clear (a hash, not the cookie)', () => {
    expect(keyOf({ ...base, options: { cookies: [{ name: 'session', value: 'secret-42' }] } })).not.toContain(
      'secret-42',
    );
  });
});

const T0 = Date.parse('2026-03-01T00:00:00Z');

const world = () => {
  const clock = fakeClock(T0);
  const store = new MemoryTaskStore();
  const queue = new FakeQueue();
  const artifacts = new FakeArtifacts();
  const resultCache = new MemoryResultCache();
  let n = 0;
  const submitDeps = {
    store,
    queue,
    clock,
    idempotency: new MemoryIdempotencyStore(),
    resultCache,
    // A secret to sign with, so a task may carry its own webhook.
    tenantWebhooks: async () => ({
      endpoints: [],
      secrets: [{ secret: 'whsec_dGVzdA==', createdAt: new Date(T0).toISOString() }],
    }),
    newId: () => `task-${++n}`,
    idempotencyTtlSeconds: 3600,
    checkDestination: async () => ({
      allowed: true as const,
      host: 'fixture.test',
      port: 80,
      addresses: ['203.0.113.9'],
    }),
  };
  let browserCalls = 0;
  const run = (taskId: string, behaviour = succeedWith('page')) => {
    const browser = new FakeBrowser([
      (job, signal) => {
        browserCalls++;
        return behaviour(job, signal);
      },
    ]);
    return runTask(
      {
        store,
        queue,
        artifacts,
        resultCache,
        browser,
        clock,
        workerId: 'w1',
        leaseMs: 10_000,
        heartbeatMs: 1_000,
        backoff: { baseMs: 1_000, capMs: 60_000 },
        random: () => 0.5,
        maxRunningTasks: async () => 100,
      },
      { taskId, ack: async () => {} },
    );
  };
  const submit = (tenantId: string, body: Record<string, unknown>, idempotencyKey?: string) =>
    submitTask(submitDeps, { tenantId, body, ...(idempotencyKey === undefined ? {} : { idempotencyKey }) });
  return { clock, store, queue, artifacts, run, submit, browserCalls: () => browserCalls };
};

const body = { type: 'screenshot', url: 'http://fixture.test/', cacheTTL: 60 };

describe('a submit with cacheTTL', () => {
  it('answers a repeat at once from the first result, until end + cacheTTL and not a ms longer', async () => {
    const w = world();
    const first = await w.submit('ten', body);
    expect(first.task).toMatchObject({ status: 'queued', cacheTTL: 60 });
    expect(toTaskView(first.task).cache).toEqual({ hit: false });
    await w.clock.advance(250);
    const ran = await w.run(first.task.id);
    expect(ran.kind).toBe('succeeded');
    const source = await w.store.get(first.task.id);
    const endedAt = Date.parse(source?.endedAt ?? '');
    expect(w.queue.sent).toHaveLength(1);

    await w.clock.advance(10_000);
    // Same meaning, other spelling: the host's case, the default port, options written out.
    const hit = await w.submit('ten', {
      ...body,
      url: 'HTTP://FIXTURE.TEST:80/',
      options: { fullPage: false },
    });
    expect(hit.task).toMatchObject({
      status: 'succeeded',
      attempts: 0,
      history: [],
      cacheHit: { sourceTaskId: first.task.id, expiresAt: new Date(endedAt + 60_000).toISOString() },
      result: {
        browserMs: 0,
        timings: { queueWaitMs: 0, launchMs: 0, navigationMs: 0, captureMs: 0 },
        artifacts: source?.result?.artifacts,
        finalUrl: 'http://fixture.test/',
        httpStatus: 200,
      },
    });
    expect(toTaskView(hit.task).cache).toEqual({
      hit: true,
      sourceTaskId: first.task.id,
      expiresAt: new Date(endedAt + 60_000).toISOString(),
    });
    // Nothing enqueued, nothing run, nothing counted as queued or running.
    expect(w.queue.sent).toHaveLength(1);
    expect(w.browserCalls()).toBe(1);
    expect(await w.store.usage('ten')).toEqual({ queuedTasks: 0, runningTasks: 0 });
    expect(await w.run(hit.task.id)).toEqual({ kind: 'settled', reason: 'already-final' });
    expect(w.browserCalls()).toBe(1);

    await w.clock.advance(endedAt + 60_000 - 1 - w.clock.now());
    expect((await w.submit('ten', body)).task.status).toBe('succeeded');
    await w.clock.advance(1);
    const expired = await w.submit('ten', body);
    expect(expired.task).toMatchObject({ status: 'queued' });
    expect(expired.task.cacheHit).toBeUndefined();
    expect(w.queue.sent).toHaveLength(2);
  });

  it('a hit with a webhook owes its end event from its first write, like any task that ends', async () => {
    const w = world();
    const first = await w.submit('ten', body);
    await w.run(first.task.id);
    const hit = await w.submit('ten', { ...body, webhook: { url: 'http://fixture.test/hook' } });
    expect(hit.task.status).toBe('succeeded');
    expect((await w.store.get(hit.task.id))?.outbox).toEqual({
      eventId: `msg_task_${hit.task.id}`,
      type: 'task.succeeded',
      dueAt: w.clock.now(),
    });
    // Without a webhook nothing is owed.
    const plain = await w.submit('ten', body);
    expect((await w.store.get(plain.task.id))?.outbox).toBeUndefined();
  });

  it("never answers another tenant's request from an entry", async () => {
    const w = world();
    const mine = await w.submit('alpha', body);
    await w.run(mine.task.id);
    const theirs = await w.submit('beta', body);
    expect(theirs.task).toMatchObject({ status: 'queued', tenantId: 'beta' });
    expect(theirs.task.cacheHit).toBeUndefined();
  });

  it('is bounded by the reader’s TTL too: a 5 s request never gets a result older than 5 s', async () => {
    const w = world();
    const long = await w.submit('ten', { ...body, cacheTTL: 3600 });
    await w.run(long.task.id);
    const endedAt = Date.parse((await w.store.get(long.task.id))?.endedAt ?? '');
    await w.clock.advance(4_000);
    const young = await w.submit('ten', { ...body, cacheTTL: 5 });
    expect(young.task.cacheHit).toEqual({
      sourceTaskId: long.task.id,
      expiresAt: new Date(endedAt + 5_000).toISOString(),
    });
    await w.clock.advance(1_000);
    expect((await w.submit('ten', { ...body, cacheTTL: 5 })).task.status).toBe('queued');
    expect((await w.submit('ten', { ...body, cacheTTL: 3600 })).task.status).toBe('succeeded');
  });

  it('cacheTTL 0 neither records nor hits; different options miss; a failure records nothing', async () => {
    const w = world();
    const off = await w.submit('ten', { ...body, cacheTTL: 0 });
    expect(off.task.cacheTTL).toBeUndefined();
    expect(toTaskView(off.task).cache).toBeUndefined();
    await w.run(off.task.id);
    expect((await w.submit('ten', body)).task.status).toBe('queued');

    const w2 = world();
    const first = await w2.submit('ten', body);
    await w2.run(first.task.id);
    expect((await w2.submit('ten', { ...body, cacheTTL: 0 })).task.status).toBe('queued');
    expect((await w2.submit('ten', { ...body, options: { fullPage: true } })).task.status).toBe('queued');

    const w3 = world();
    const failing = await w3.submit('ten', { ...body, maxAttempts: 1 });
    expect((await w3.run(failing.task.id, throwCode('NAVIGATION_FAILED'))).kind).toBe('failed');
    expect((await w3.submit('ten', body)).task.status).toBe('queued');
  });

  it('a hit under an Idempotency-Key replays as that same hit', async () => {
    const w = world();
    const first = await w.submit('ten', body);
    await w.run(first.task.id);
    const hit = await w.submit('ten', body, 'k-1');
    expect(hit).toMatchObject({ replayed: false, task: { status: 'succeeded' } });
    const again = await w.submit('ten', body, 'k-1');
    expect(again).toMatchObject({ replayed: true, task: { id: hit.task.id, status: 'succeeded' } });
    // A different cacheTTL is a different request under the same key.
    await expect(w.submit('ten', { ...body, cacheTTL: 30 }, 'k-1')).rejects.toMatchObject({
      code: 'IDEMPOTENCY_KEY_REUSED',
    });
  });
});
