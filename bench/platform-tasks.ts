/**
 * Screenshot tasks through the platform's HTTP API, as a client drives it: a burst of
 * submits (each with an Idempotency-Key, sent again after a 429 or 503), then each task
 * awaited with the API's long poll; or one submit that holds for its answer (`?wait=`).
 */
import type { apiClient } from '../test/support/fixtures.js';
import { tasksPerSecond, VIEWPORT } from './workload.js';

type Api = ReturnType<typeof apiClient>;

const MAX_SUBMIT_ATTEMPTS = 8;

const screenshotTask = (url: string) =>
  JSON.stringify({ type: 'screenshot', tier: 'fleet', url, options: { viewport: VIEWPORT } });

/** One task, submitted and held for its answer; answers the client's latency in ms. */
export const runHeld = async (api: Api, url: string): Promise<number> => {
  const t0 = performance.now();
  const res = await api.call('POST', '/v1/tasks?wait=25', {
    body: screenshotTask(url),
    headers: { 'content-type': 'application/json' },
  });
  if (res.body.status !== 'succeeded') {
    throw new Error(`bench task failed: HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 500)}`);
  }
  return performance.now() - t0;
};

export interface Burst {
  /** Service times (claim → succeeded), in ms. */
  latencies: number[];
  /** First submit → last task ended, on the server's clock. */
  wallMs: number;
  tasksPerSecond: number;
  /** Submits answered 429 or 503 and sent again. */
  resubmits: number;
}

/** Submits `count` tasks at once and waits for them all to succeed (a failure throws). */
export const runBurst = async (api: Api, url: string, count: number): Promise<Burst> => {
  let resubmits = 0;
  const run = `${Date.now()}-${Math.random().toString(36).slice(2)}`;
  const submitOnce = async (key: string): Promise<string> => {
    for (let attempt = 1; ; attempt++) {
      const res = await api.call('POST', '/v1/tasks', {
        body: screenshotTask(url),
        headers: { 'content-type': 'application/json', 'idempotency-key': key },
      });
      if (res.status === 202 || res.status === 200) return res.body.id as string;
      if ((res.status !== 429 && res.status !== 503) || attempt >= MAX_SUBMIT_ATTEMPTS) {
        throw new Error(`bench submit failed: HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
      }
      resubmits++;
      // Jittered exponential backoff: a burst on one tenant contends for its usage row.
      await new Promise((r) => setTimeout(r, Math.random() * 100 * 2 ** attempt));
    }
  };
  const ids = await Promise.all(Array.from({ length: count }, (_, i) => submitOnce(`bench-${run}-${i}`)));
  // One waiter at a time (tasks finish roughly in order): hundreds of concurrent long polls
  // would load the emulators and measure them instead of the platform.
  const ended: { createdAt: string; startedAt: string; endedAt: string }[] = [];
  for (const id of ids) {
    for (;;) {
      const res = await api.call('GET', `/v1/tasks/${id}?wait=25`);
      if (res.body.status === 'succeeded') {
        ended.push(res.body);
        break;
      }
      if (res.body.status === 'failed') throw new Error(`bench task ${id} failed: ${res.body.error.code}`);
      if (res.status !== 200 && res.status !== 202) {
        throw new Error(`bench task ${id}: HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
      }
    }
  }
  const firstSubmit = Math.min(...ended.map((t) => Date.parse(t.createdAt)));
  const lastEnd = Math.max(...ended.map((t) => Date.parse(t.endedAt)));
  const wallMs = lastEnd - firstSubmit;
  return {
    latencies: ended.map((t) => Date.parse(t.endedAt) - Date.parse(t.startedAt)),
    wallMs,
    tasksPerSecond: tasksPerSecond(count, wallMs),
    resubmits,
  };
};
