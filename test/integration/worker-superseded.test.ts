/**
 * A worker a newer deployment replaced stops at the end of its grace, so it must not take
 * a new session (sessions live for hours): it hands each session message on, and a newer
 * worker hosts the session. Two real fleet workers in this process, on the local cloud.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FleetWorker, startFleetWorker } from '../../container/worker-deps.js';
import { loadWorkerConfig } from '../../shared/config.js';
import { FAST_ENGINE_ENV } from '../support/engine-env.js';
import { apiClient, startFixtureServer } from '../support/fixtures.js';
import { startTestCloud } from '../support/local-cloud.js';

let cloud: Awaited<ReturnType<typeof startTestCloud>>;
let site: Awaited<ReturnType<typeof startFixtureServer>>;
const workers: FleetWorker[] = [];

const startWorker = (id: string) =>
  startFleetWorker(
    loadWorkerConfig({
      ...cloud.env,
      ...FAST_ENGINE_ENV,
      WORKER_ID: id,
      WORKER_INBOX_PORT: '0',
      LOG_LEVEL: 'ERROR',
    }),
    { pollWaitSeconds: 1 },
  );

beforeAll(async () => {
  site = await startFixtureServer({ '/': '<p>still here</p>' });
  cloud = await startTestCloud({ lambdaTier: false, worker: false });
});
afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop({ drainMs: 0 })));
  await cloud?.dispose();
  await site?.close();
});

describe('a superseded worker', { timeout: 120_000 }, () => {
  it('hands new sessions to a newer worker, and still runs tasks', async () => {
    const old = await startWorker('superseded-old');
    workers.push(old);
    old.worker.supersede();
    const api = apiClient(cloud.url, cloud.apiKey);
    const created = await api.call('POST', '/v1/sessions', {
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    expect(created.status).toBe(201);

    // Only the superseded worker polls: the session stays pending, its message coming back.
    const task = await api.call('POST', '/v1/tasks?wait=25', {
      body: JSON.stringify({ type: 'content', url: `${site.url}/`, tier: 'fleet' }),
      headers: { 'content-type': 'application/json' },
    });
    expect(task.body).toMatchObject({ status: 'succeeded' });
    expect((await api.call('GET', `/v1/sessions/${created.body.id}`)).body.status).toBe('pending');
    expect(old.deps.sessions.count()).toBe(0);

    const fresh = await startWorker('superseded-new');
    workers.push(fresh);
    await expect
      .poll(async () => (await api.call('GET', `/v1/sessions/${created.body.id}`)).body.status, {
        timeout: 60_000,
        interval: 200,
      })
      .toBe('live');
    expect(fresh.deps.sessions.count()).toBe(1);
    expect(old.deps.sessions.count()).toBe(0);
    await api.call('DELETE', `/v1/sessions/${created.body.id}`);
  });
});
