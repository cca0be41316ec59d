/** The task engine's HTTP surface: sync wait, cancellation, idempotency keys. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAST_ENGINE_ENV } from '../support/engine-env.js';
import { apiClient, type FixtureServer, startFixtureServer } from '../support/fixtures.js';
import { createTestTenant, startTestCloud, TEST_API_KEY } from '../support/local-cloud.js';

let site: FixtureServer;
let cloud: Awaited<ReturnType<typeof startTestCloud>>;
let api: ReturnType<typeof apiClient>;

beforeAll(async () => {
  site = await startFixtureServer({ '/': '<h1>engine</h1>' });
  cloud = await startTestCloud({ extraEnv: { ...FAST_ENGINE_ENV } });
  api = apiClient(cloud.url, TEST_API_KEY);
});
afterAll(async () => {
  await cloud?.dispose();
  await site?.close();
});

const post = (body: unknown, { query = '', key }: { query?: string; key?: string } = {}) =>
  api.call('POST', `/v1/tasks${query}`, {
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...(key === undefined ? {} : { 'idempotency-key': key }) },
  });

/** Waits for the task to be claimed (the long poll answers only final states); fails loudly. */
const untilRunning = async (id: string) => {
  await expect
    .poll(async () => (await api.get(id)).body.status, { timeout: 30_000, interval: 50 })
    .toBe('running');
};

describe('pressure', () => {
  it('GET /v1/pressure (no key) reports running tasks and queue depth per tier, and that it accepts work', async () => {
    const slow = await post({ type: 'screenshot', tier: 'fleet', url: `${site.url}/slow?ms=10000` });
    await untilRunning(slow.body.id);
    const res = await fetch(`${cloud.url}/v1/pressure`);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({
      accepting: true,
      queued: { fleet: expect.any(Number), lambda: expect.any(Number) },
      inFlight: { fleet: expect.any(Number), lambda: expect.any(Number) },
    });
    expect(body.running).toBeGreaterThanOrEqual(1);
    await api.call('DELETE', `/v1/tasks/${slow.body.id}`);
  });
});

describe('sync wait', () => {
  it('POST ?wait=N answers 200 with the finished task when it ends in time', async () => {
    const res = await post({ type: 'screenshot', url: `${site.url}/` }, { query: '?wait=25' });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('succeeded');
    expect(res.body.result.artifacts[0].url).toMatch(/^http/);
  });

  it('POST ?wait=N answers 202 with the task as it stands when N passes first', async () => {
    const started = Date.now();
    const res = await post({ type: 'screenshot', url: `${site.url}/slow?ms=30000` }, { query: '?wait=1' });
    expect(res.status).toBe(202);
    expect(['queued', 'running']).toContain(res.body.status);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    // Answered when the wait ran out, long before the page would have loaded.
    expect(Date.now() - started).toBeLessThan(20_000);
    // Nothing more to see: let the worker go.
    expect((await api.call('DELETE', `/v1/tasks/${res.body.id}`)).status).toBeLessThan(300);
  });

  it.each(['?wait=26', '?wait=-1', '?wait=soon', '?colour=red'])(
    'refuses %s with 400 naming the parameter',
    async (q) => {
      const res = await api.call('GET', `/v1/tasks/x${q}`);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
      expect(res.body.error.message).toMatch(/wait|colour/);
    },
  );
});

describe('cancellation', () => {
  it('stops a running task: 202 with cancelRequested, then cancelled within a heartbeat or two', async () => {
    const submitted = await post({ type: 'screenshot', url: `${site.url}/slow?ms=20000` });
    await untilRunning(submitted.body.id);
    const cancel = await api.call('DELETE', `/v1/tasks/${submitted.body.id}`);
    expect(cancel.status).toBe(202);
    expect(cancel.body).toMatchObject({ status: 'running', cancelRequested: true });
    const started = Date.now();
    const done = await api.call('GET', `/v1/tasks/${submitted.body.id}?wait=10`);
    expect(done.body.status).toBe('cancelled');
    // Well before the page's 20 s: the worker noticed at a heartbeat and stopped.
    expect(Date.now() - started).toBeLessThan(10_000);
    // A second cancel is a no-op.
    expect((await api.call('DELETE', `/v1/tasks/${submitted.body.id}`)).status).toBe(200);
  });

  it('refuses to cancel a task that already succeeded with 409 TASK_ALREADY_ENDED', async () => {
    const submitted = await post({ type: 'screenshot', url: `${site.url}/` });
    const done = await api.waitForEnd(submitted.body.id);
    expect(done.body.status).toBe('succeeded');
    const res = await api.call('DELETE', `/v1/tasks/${done.body.id}`);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('TASK_ALREADY_ENDED');
  });

  it('answers cancelling an unknown task with 404', async () => {
    expect((await api.call('DELETE', '/v1/tasks/nope')).status).toBe(404);
  });
});

describe('running quota', () => {
  it('runs no more than maxRunningTasks of a tenant at once; the others wait their turn and succeed', async () => {
    const { key } = await createTestTenant(cloud, 'one-at-a-time', { maxRunningTasks: 1 });
    const tenant = apiClient(cloud.url, key);
    // Three slow pages at once on the fleet, whose worker has two slots: one runs, the
    // others are put back until it ends.
    const ids = await Promise.all(
      [0, 1, 2].map(
        async (i) =>
          (await tenant.submit({ type: 'screenshot', tier: 'fleet', url: `${site.url}/slow?ms=700&n=${i}` }))
            .body.id as string,
      ),
    );
    const ended = await Promise.all(
      ids.map(async (id) => {
        for (;;) {
          const res = await tenant.call('GET', `/v1/tasks/${id}?wait=25`);
          if (res.body.status !== 'queued' && res.body.status !== 'running') return res.body;
        }
      }),
    );
    expect(ended.map((t) => t.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    const spans = ended
      .map((t) => [Date.parse(t.startedAt), Date.parse(t.endedAt)] as const)
      .sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) {
      expect(spans[i]?.[0], 'a task started before the previous one ended').toBeGreaterThanOrEqual(
        spans[i - 1]?.[1] ?? Number.POSITIVE_INFINITY,
      );
    }
  });
});

describe('idempotency', () => {
  it('replays the original task for the same key and body, with Idempotent-Replayed', async () => {
    const key = `k-${Date.now()}`;
    const body = { type: 'screenshot', url: `${site.url}/` };
    const [a, b] = await Promise.all([post(body, { key }), post(body, { key })]);
    expect(a.body.id).toBe(b.body.id);
    const replayed = [a, b].map((r) => r.headers.get('idempotent-replayed'));
    expect(replayed.filter((h) => h === 'true')).toHaveLength(1);
    expect(replayed.filter((h) => h === null)).toHaveLength(1);
    const done = await api.waitForEnd(a.body.id);
    expect(done.body).toMatchObject({ status: 'succeeded', attempts: 1 });
  });

  it('answers the same key with a different body with 409 IDEMPOTENCY_KEY_REUSED', async () => {
    const key = `k2-${Date.now()}`;
    expect((await post({ type: 'screenshot', url: `${site.url}/` }, { key })).status).toBe(202);
    const res = await post({ type: 'screenshot', url: `${site.url}/other` }, { key });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
  });
});
