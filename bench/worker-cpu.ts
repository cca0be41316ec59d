/**
 * `npm run bench:cpu`: where the fleet worker's CPU goes, beside the raw loop's, for the
 * same screenshots (BENCH_TASKS, 100, at BENCH_CONCURRENCY, 4), each alone on the measured
 * core. Prints CPU seconds per task by kind of process (the worker's Node process, Chromium's
 * browser, renderers, GPU and network processes). With BENCH_CPU_PROFILE=<dir> the worker
 * runs under `node --cpu-prof` and writes its profile there when it stops (read it with
 * bench/cpuprofile-summary.ts).
 */
import { resolve } from 'node:path';
import { apiClient, startFixtureServer } from '../test/support/fixtures.js';
import { startTestCloud, TEST_API_KEY } from '../test/support/local-cloud.js';
import { spawnWorker } from '../test/support/worker-process.js';
import { Cleanup } from './cleanup.js';
import { MEASURED_CORE, pinSurroundings } from './pinning.js';
import { runBurst, runHeld } from './platform-tasks.js';
import { cpuByKindSince, treeCpuByKind, treeCpuSeconds } from './process-stats.js';
import { runRawLoop } from './raw-run.js';
import { closedLoop, PAGE, summarize } from './workload.js';

const TASKS = Number(process.env.BENCH_TASKS || 100);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY || 4);
const PROFILE_DIR = process.env.BENCH_CPU_PROFILE || undefined;
const WARM_UP_TASKS = 20;
const IDLE_SETTLE_MS = 1_000;
const IDLE_MS = 5_000;
const WORKER_STOP_GRACE_MS = 20_000;

const perTask = (kinds: Record<string, number>) =>
  Object.fromEntries(Object.entries(kinds).map(([k, s]) => [k, Math.round((s / TASKS) * 1000) / 1000]));

const perSecond = (kinds: Record<string, number>, ms: number) =>
  Object.fromEntries(
    Object.entries(kinds)
      .filter(([, s]) => s > 0)
      .map(([k, s]) => [k, Math.round((s / ms) * 1e6) / 1000]),
  );

const cleanup = new Cleanup();
await cleanup.main(async () => {
  const pinning = pinSurroundings();
  if (!pinning.pinned) process.stderr.write(`bench: not pinned to cores: ${pinning.reason}\n`);
  const site = cleanup.add('fixture server', await startFixtureServer({ '/': PAGE }), (s) => s.close());
  const url = `${site.url}/`;

  const raw = process.env.BENCH_SKIP_RAW
    ? undefined
    : await runRawLoop(cleanup, pinning, url, TASKS, CONCURRENCY);

  const cloud = cleanup.add(
    'local cloud',
    await startTestCloud({ worker: false, lambdaTier: false, sweeper: false }),
    (c) => c.dispose(),
  );
  const api = apiClient(cloud.url, TEST_API_KEY);
  const profiling = PROFILE_DIR === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${resolve(PROFILE_DIR)}`];
  const worker = cleanup.add(
    'worker',
    spawnWorker(cloud.env, 'cpu', { WORKER_CONCURRENCY: String(CONCURRENCY), LOG_LEVEL: 'INFO' }, (argv) =>
      pinning.onCores(MEASURED_CORE, [argv[0] ?? process.execPath, ...profiling, ...argv.slice(1)]),
    ),
    async (w) => {
      w.kill('SIGTERM');
      const grace = setTimeout(() => w.kill('SIGKILL'), WORKER_STOP_GRACE_MS);
      await w.exited;
      clearTimeout(grace);
    },
  );
  const workerPid = worker.child.pid ?? 0;
  await worker.waitForLog((l) => l.message === 'worker started');
  await closedLoop(WARM_UP_TASKS, CONCURRENCY, () => runHeld(api, url));
  // What the worker and its Chromium burn with nothing to do (per second): what a task pays
  // for each second it takes on top of its own work.
  await new Promise((r) => setTimeout(r, IDLE_SETTLE_MS));
  const idleBefore = treeCpuByKind(workerPid);
  await new Promise((r) => setTimeout(r, IDLE_MS));
  const idlePerSecond = perSecond(cpuByKindSince(idleBefore, treeCpuByKind(workerPid)), IDLE_MS);
  const before = { total: treeCpuSeconds(workerPid), kinds: treeCpuByKind(workerPid) };
  const burst = await runBurst(api, url, TASKS);
  const workerSeconds = treeCpuSeconds(workerPid) - before.total;
  const workerKinds = cpuByKindSince(before.kinds, treeCpuByKind(workerPid));
  await cleanup.run();

  const result = {
    tasks: TASKS,
    concurrency: CONCURRENCY,
    pinned: pinning.pinned,
    raw:
      raw === undefined
        ? undefined
        : {
            cpuSecondsPerTask: Number((raw.cpuSeconds / TASKS).toFixed(3)),
            byKind: perTask(raw.cpuByKind),
            ...summarize(raw),
          },
    worker: {
      cpuSecondsPerTask: Number((workerSeconds / TASKS).toFixed(3)),
      byKind: perTask(workerKinds),
      /** CPU seconds per second, idle, by kind (only the kinds that used any). */
      idlePerSecond,
      // Latencies: claim → succeeded, on the server's clock.
      ...summarize({ latencies: burst.latencies, wallMs: burst.wallMs }),
    },
  };
  console.log(JSON.stringify(result, null, 2));
});
