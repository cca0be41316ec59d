/**
 * The engine's promises with real worker processes (the container entrypoint), real
 * signals, DynamoDB Local, the SQS and S3 emulators and Chromium.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FAST_ENGINE_ENV } from '../support/engine-env.js';
import { type ApiResponse, apiClient, type FixtureServer, startFixtureServer } from '../support/fixtures.js';
import { startTestCloud, TEST_API_KEY } from '../support/local-cloud.js';
import { spawnWorker, type WorkerProcess } from '../support/worker-process.js';

let site: FixtureServer;
let cloud: Awaited<ReturnType<typeof startTestCloud>>;
let api: ReturnType<typeof apiClient>;
const workers: WorkerProcess[] = [];
/** Every request the fixture server has seen, with its query (so a test knows a page is loading). */
const requested: string[] = [];
const whenRequested = async (path: string): Promise<void> => {
  await expect.poll(() => requested.includes(path), { timeout: 30_000, interval: 20 }).toBe(true);
};

beforeAll(async () => {
  site = await startFixtureServer({ '/': '<h1>fast</h1>' }, (req) => {
    requested.push(req.url ?? '');
  });
  cloud = await startTestCloud({ worker: false, lambdaTier: false, extraEnv: { ...FAST_ENGINE_ENV } });
  api = apiClient(cloud.url, TEST_API_KEY);
});
afterEach(async () => {
  for (const w of workers.splice(0)) {
    w.kill('SIGCONT');
    w.kill('SIGKILL');
    await w.exited;
  }
});
afterAll(async () => {
  await cloud?.dispose();
  await site?.close();
});

const worker = (id: string, extra: Record<string, string> = {}) => {
  const w = spawnWorker(cloud.env, id, extra);
  workers.push(w);
  return w;
};
const claimedBy = (w: WorkerProcess, taskId: string) =>
  w.waitForLog((l) => l.message === 'task claimed' && l.taskId === taskId);
const settled = async (id: string): Promise<ApiResponse> => {
  for (;;) {
    const res = await api.call('GET', `/v1/tasks/${id}?wait=25`);
    if (['succeeded', 'failed', 'cancelled'].includes(res.body.status)) return res;
  }
};

describe('worker processes', () => {
  it('a worker paused past its lease (SIGSTOP) cannot overwrite the result of the worker that took over', async () => {
    const w1 = worker('w1');
    const { body: task } = await api.submit({
      type: 'screenshot',
      tier: 'fleet',
      url: `${site.url}/slow?ms=4000&once=stale`,
    });
    await claimedBy(w1, task.id);
    w1.kill('SIGSTOP');
    // The lease (2 s) runs out, the sweeper requeues, a second worker runs it to the end.
    const w2 = worker('w2');
    await claimedBy(w2, task.id);
    const done = await settled(task.id);
    w1.kill('SIGCONT');
    // Its browser work ends one way or another; its write is refused either way.
    await w1.waitForLog(
      (l) => l.message === 'task run ended' && l.taskId === task.id && l.outcome === 'lease-lost',
    );
    expect(w1.logs.filter((l) => l.taskId === task.id && l.outcome === 'succeeded')).toEqual([]);

    const row = (await api.get(task.id)).body;
    expect(row).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect(row.history.map((h: { worker: string; outcome: string }) => `${h.worker}:${h.outcome}`)).toEqual([
      'w1:lease-expired',
      'w2:succeeded',
    ]);
    expect(done.body.result.artifacts).toHaveLength(1);
    expect(done.body.result.artifacts[0].url).toContain(`/tasks/${task.id}/2/screenshot.png`);
  });

  it('SIGTERM drains: finishes what it can, hands the rest back at once, exits 0 before the deadline', async () => {
    // A drain long enough for the quick page on a loaded machine, far shorter than the long one.
    const DRAIN_MS = 5_000;
    const w1 = worker('w1', { DRAIN_MS: String(DRAIN_MS), WORKER_CONCURRENCY: '2' });
    const quick = (await api.submit({ type: 'screenshot', tier: 'fleet', url: `${site.url}/slow?ms=600` }))
      .body;
    const long = (
      await api.submit({ type: 'screenshot', tier: 'fleet', url: `${site.url}/slow?ms=30000&once=drain` })
    ).body;
    await Promise.all([claimedBy(w1, quick.id), claimedBy(w1, long.id)]);
    // Both pages are loading (Chromium is up): SIGTERM lands mid-task for each.
    await whenRequested('/slow?ms=600');
    await whenRequested('/slow?ms=30000&once=drain');

    const signalled = Date.now();
    w1.kill('SIGTERM');
    const exit = await w1.exited;
    const stopMs = Date.now() - signalled;
    expect(exit).toEqual({ code: 0, signal: null });
    // The drain, then the browser's close (its own 5 s deadline).
    expect(stopMs).toBeLessThan(DRAIN_MS + 5_000);

    expect((await api.get(quick.id)).body).toMatchObject({
      status: 'succeeded',
      history: [{ worker: 'w1' }],
    });
    const handedBack = (await api.get(long.id)).body;
    expect(handedBack).toMatchObject({
      status: 'queued',
      history: [{ worker: 'w1', outcome: 'handed-back' }],
    });

    // Another worker starts it at once (the message was sent with no delay).
    const w2 = worker('w2');
    const done = await settled(long.id);
    expect(done.body).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect(done.body.history.map((h: { outcome: string }) => h.outcome)).toEqual([
      'handed-back',
      'succeeded',
    ]);
    w2.kill('SIGTERM');
    expect((await w2.exited).code).toBe(0);
  });
});

describe('restart', () => {
  // Two clouds started one after the other: a loaded CI machine needs more than the default.
  it('tasks still queued when the local cloud stops complete after it restarts', async () => {
    const first = await startTestCloud({
      worker: false,
      sweeper: false,
      lambdaTier: false,
      extraEnv: { ...FAST_ENGINE_ENV },
    });
    const client = apiClient(first.url, TEST_API_KEY);
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await client.submit({ type: 'screenshot', url: `${site.url}/` });
      expect(res.body.status).toBe('queued');
      ids.push(res.body.id);
    }
    await first.stop();

    // The SQS emulator's messages are gone with the process; the rows are not.
    const second = await startTestCloud({
      dataDir: first.dataDir,
      extraEnv: { ...FAST_ENGINE_ENV, SWEEP_RESEND_AFTER_MS: '500' },
    });
    try {
      const again = apiClient(second.url, TEST_API_KEY);
      for (const id of ids) {
        const res = await again.call('GET', `/v1/tasks/${id}?wait=25`);
        expect(res.body.status).toBe('succeeded');
      }
    } finally {
      await second.stop();
      await first.dispose();
    }
  }, 120_000);
});
