/**
 * `npm run bench:sessions`: the bench's sessions phase on its own (POST /v1/sessions → live,
 * one session at a time; see sessions.ts), against a local cloud and one fleet worker in its
 * own process, as the full bench runs it, without the minutes of task phases before it.
 * One session first, not counted, brings Chromium's binary and the platform's connections
 * up, as the full bench's warm-up tasks do. Env: BENCH_SESSIONS (default 10); the worker
 * gets the caller's SESSION_SPARE_BROWSER, to compare with and without the warm spare.
 */
import { apiClient } from '../test/support/fixtures.js';
import { startTestCloud, TEST_API_KEY } from '../test/support/local-cloud.js';
import { spawnWorker } from '../test/support/worker-process.js';
import { Cleanup } from './cleanup.js';
import { measureSessionStarts } from './sessions.js';
import { quantile } from './workload.js';

const SESSIONS = Number(process.env.BENCH_SESSIONS || 10);
if (!Number.isInteger(SESSIONS) || SESSIONS < 1) throw new Error('BENCH_SESSIONS must be a positive integer');
/** An idle worker stops at once; one that doesn't within this is killed. */
const WORKER_STOP_GRACE_MS = 10_000;

const cleanup = new Cleanup();
await cleanup.main(async () => {
  const cloud = cleanup.add(
    'local cloud',
    await startTestCloud({ worker: false, lambdaTier: false, sweeper: false }),
    (c) => c.dispose(),
  );
  // The product's default (on) unless the caller says; the test cloud's workers default to off.
  const spare = process.env.SESSION_SPARE_BROWSER || '1';
  const worker = cleanup.add(
    'worker',
    spawnWorker(cloud.env, 'bench-sessions', { SESSION_SPARE_BROWSER: spare }),
    async (w) => {
      w.kill('SIGTERM');
      const grace = setTimeout(() => w.kill('SIGKILL'), WORKER_STOP_GRACE_MS);
      await w.exited;
      clearTimeout(grace);
    },
  );
  await worker.waitForLog((l) => l.message === 'worker started');
  const api = apiClient(cloud.url, TEST_API_KEY);
  const run = (sessions: number) =>
    measureSessionStarts({ api, wsUrl: cloud.wsUrl, apiKey: TEST_API_KEY, sessions, cleanup });
  await run(1);
  const ms = await run(SESSIONS);
  const sorted = [...ms].sort((a, b) => a - b).map((m) => Math.round(m));
  process.stdout.write(
    `${JSON.stringify({
      sessions: SESSIONS,
      spare: spare === '1',
      sessionLiveP50Ms: Math.round(quantile(ms, 0.5)),
      startsMs: sorted,
    })}\n`,
  );
});
