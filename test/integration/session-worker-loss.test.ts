/**
 * A session's browser lives and dies with its worker. Workers here are real processes (the
 * container's entrypoint): SIGKILL one and its session ends `failed` with `WORKER_LOST`
 * once the lease runs out — told to the attached client by the sweeper — and no Chromium
 * outlives it; SIGTERM one and its session ends `closed` with `WORKER_SHUTDOWN`.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAST_ENGINE_ENV } from '../support/engine-env.js';
import { apiClient } from '../support/fixtures.js';
import { startTestCloud } from '../support/local-cloud.js';
import { spawnWorker, type WorkerProcess } from '../support/worker-process.js';
import { connectWs, isLive } from '../support/ws-client.js';

let cloud: Awaited<ReturnType<typeof startTestCloud>>;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  cloud = await startTestCloud({ worker: false, lambdaTier: false, extraEnv: { ...FAST_ENGINE_ENV } });
});
afterAll(async () => {
  for (const w of workers) w.kill('SIGKILL');
  await Promise.all(workers.map((w) => w.exited));
  await cloud?.dispose();
});

/** Chromium processes started by this worker pid (their profile dir carries it). */
const chromiumOf = (pid: number): number => {
  try {
    return execFileSync('pgrep', ['-f', `bf-chrome-${pid}-`])
      .toString()
      .trim()
      .split('\n')
      .filter(Boolean).length;
  } catch {
    return 0;
  }
};

/** Creates a session once `worker` polls, and attaches. */
const liveSessionOn = async (worker: WorkerProcess) => {
  await worker.waitForLog((l) => l.message === 'worker started');
  const api = apiClient(cloud.url, cloud.apiKey);
  const res = await api.call('POST', '/v1/sessions', {
    body: '{}',
    headers: { 'content-type': 'application/json' },
  });
  expect(res.status).toBe(201);
  const ws = await connectWs(cloud.wsUrl, { apiKey: cloud.apiKey });
  ws.send({ action: 'attach', sessionId: res.body.id });
  // Attached while pending (the worker picks the attachment up when the session goes live)
  // or already live. Generous: on a loaded machine a fresh Chromium can take a while to start.
  await ws.next(isLive, 45_000);
  return { api, ws, id: res.body.id as string };
};

describe('sessions and their worker', () => {
  it('SIGTERM: the session ends closed with WORKER_SHUTDOWN, said before the socket goes quiet', async () => {
    const w = spawnWorker(cloud.env, 'loss-2', { ...FAST_ENGINE_ENV, DRAIN_MS: '0' });
    workers.push(w);
    const { api, ws, id } = await liveSessionOn(w);
    w.kill('SIGTERM');
    const closed = await ws.next((m) => m.type === 'closed', 20_000);
    expect(closed.reason.code).toBe('WORKER_SHUTDOWN');
    expect((await w.exited).code).toBe(0);
    expect((await api.call('GET', `/v1/sessions/${id}`)).body).toMatchObject({
      status: 'closed',
      endReason: { code: 'WORKER_SHUTDOWN' },
    });
    ws.close();
  });

  it('SIGKILL: the session ends failed with WORKER_LOST, the client is told, no Chromium survives', async () => {
    const w = spawnWorker(cloud.env, 'loss-1', FAST_ENGINE_ENV);
    workers.push(w);
    const { api, ws, id } = await liveSessionOn(w);
    const pid = w.child.pid!;
    expect(chromiumOf(pid)).toBeGreaterThan(0);

    w.kill('SIGKILL');
    await w.exited;
    const closed = await ws.next((m) => m.type === 'closed', 20_000);
    expect(closed.reason).toEqual({
      code: 'WORKER_LOST',
      message: 'The worker hosting the session stopped renewing its lease (it crashed or was stopped).',
    });
    const row = await api.call('GET', `/v1/sessions/${id}`);
    expect(row.body).toMatchObject({ status: 'failed', endReason: { code: 'WORKER_LOST' } });
    expect(row.body.cdpUrl).toBeUndefined();
    // The kernel kills the browser process at once; its renderers follow as their IPC closes.
    await expect.poll(() => chromiumOf(pid), { timeout: 10_000 }).toBe(0);
    expect((await api.call('GET', '/v1/limits')).body.usage.liveSessions).toBe(0);
    ws.close();
  });
});
