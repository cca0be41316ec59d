/**
 * A worker survives its browser: Chromium killed mid-task (the task retries and succeeds),
 * a page that never finishes loading and one that spins its JS forever (each times out at
 * its deadline, and the next task runs normally).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAST_ENGINE_ENV } from '../support/engine-env.js';
import { apiClient, type FixtureServer, startFixtureServer } from '../support/fixtures.js';
import { startTestCloud, TEST_API_KEY } from '../support/local-cloud.js';
import { spawnWorker, type WorkerProcess } from '../support/worker-process.js';

let site: FixtureServer;
let cloud: Awaited<ReturnType<typeof startTestCloud>>;
let api: ReturnType<typeof apiClient>;
let worker: WorkerProcess;
const requested: string[] = [];

beforeAll(async () => {
  site = await startFixtureServer(
    {
      '/': '<h1>fine</h1>',
      '/spin': '<h1>spinning</h1><script>for (;;) {}</script>',
    },
    (req) => {
      requested.push(req.url ?? '');
    },
  );
  cloud = await startTestCloud({ worker: false, lambdaTier: false, extraEnv: { ...FAST_ENGINE_ENV } });
  api = apiClient(cloud.url, TEST_API_KEY);
  worker = spawnWorker(cloud.env, 'resilient', { WORKER_CONCURRENCY: '2' });
});
afterAll(async () => {
  worker?.kill('SIGKILL');
  await worker?.exited;
  await cloud?.dispose();
  await site?.close();
});

const submit = async (task: Record<string, unknown>) =>
  (await api.submit({ tier: 'fleet', ...task })).body.id as string;
const settled = async (id: string) => {
  for (;;) {
    const res = await api.call('GET', `/v1/tasks/${id}?wait=25`);
    if (['succeeded', 'failed', 'cancelled'].includes(res.body.status)) return res.body;
  }
};
const healthyAfter = async () => {
  const next = await settled(await submit({ type: 'screenshot', url: `${site.url}/` }));
  expect(next.status).toBe('succeeded');
  expect(worker.child.exitCode).toBeNull();
};

describe('browser resilience', () => {
  it('a task whose Chromium is killed mid-task retries on a fresh browser and succeeds', async () => {
    // Slow the first time: long enough that the kill lands mid-task however loaded the machine.
    const id = await submit({ type: 'screenshot', url: `${site.url}/slow?ms=15000&once=crash` });
    await worker.waitForLog((l) => l.message === 'task claimed' && l.taskId === id);
    const launched = await worker.waitForLog((l) => l.message === 'browser-launched');
    // Mid-task: the page is loading (so its retry gets the fast answer).
    await expect
      .poll(() => requested.includes('/slow?ms=15000&once=crash'), { timeout: 30_000, interval: 20 })
      .toBe(true);
    process.kill(Number(launched.pid), 'SIGKILL');

    const task = await settled(id);
    expect(task.status, JSON.stringify(task.history)).toBe('succeeded');
    expect(
      task.history.map(
        (h: { outcome: string; error?: { code: string } }) => `${h.outcome}:${h.error?.code ?? ''}`,
      ),
    ).toEqual(['retried:BROWSER_CRASHED', 'succeeded:']);
    const launches = worker.logs.filter((l) => l.message === 'browser-launched');
    expect(launches.length).toBeGreaterThanOrEqual(2);
    expect(launches.at(-1)?.pid).not.toBe(launched.pid);
    await healthyAfter();
  });

  it.each([
    ['never finishes loading', '/slow?ms=600000'],
    ['spins its JavaScript forever', '/spin'],
  ])('a page that %s times out at its deadline, and the next task runs normally', async (_what, path) => {
    const task = await settled(
      await submit({
        type: 'screenshot',
        url: `${site.url}${path}`,
        maxAttempts: 1,
        options: { timeoutMs: 2_000 },
      }),
    );
    expect(task).toMatchObject({ status: 'failed', error: { code: 'TIMEOUT' } });
    // Ended at its 2 s deadline (the row's own clock: claim to end), not when the page gave up.
    expect(Date.parse(task.endedAt) - Date.parse(task.startedAt)).toBeLessThan(6_000);
    await healthyAfter();
  });
});
