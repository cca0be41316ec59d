import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LAMBDA_RUNNER } from '../shared/contracts.js';
import { apiClient, startFixtureServer } from '../test/support/fixtures.js';
import { startTestCloud, TEST_API_KEY } from '../test/support/local-cloud.js';
import { spawnWorker, type WorkerProcess } from '../test/support/worker-process.js';
import { awsCost, callsBetween, PRICES_USD } from './aws-costs.js';
import { Cleanup } from './cleanup.js';
import { lambdaColdUnavailable, measureLambdaCold } from './lambda-cold.js';
import { ALL_CORES, MEASURED_CORE, pinSurroundings, SURROUNDINGS_CORE } from './pinning.js';
import { runBurst, runHeld } from './platform-tasks.js';
import {
  surroundingsCpuSeconds,
  type TreeMemory,
  treeCpuSeconds,
  treeMemory,
  treePids,
} from './process-stats.js';
import { runRawLoop } from './raw-run.js';
import { type Figure, TARGETS, table } from './report.js';
import { measureScaling } from './scaling.js';
import { measureSessionStarts } from './sessions.js';
import { closedLoop, PAGE, quantile, summarize, VIEWPORT } from './workload.js';

const envNumber = (name: string, fallback: number): number => {
  const value = Number(process.env[name] || fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
};
const TASKS = envNumber('BENCH_TASKS', 200);
const CONCURRENCY = envNumber('BENCH_CONCURRENCY', 4);
const SESSIONS = envNumber('BENCH_SESSIONS', 10);
const LAMBDA_COLD_RUNS = envNumber('BENCH_LAMBDA_COLD', 3);
const SCALING_TASKS = envNumber('BENCH_SCALING_TASKS', 60);
const SCALING_WORKERS = [1, 2, 3];
const WARM_UP_TASKS = 20;
/** The idle worker's memory is read this long after its last task, once Chromium has settled. */
const IDLE_SETTLE_MS = 1_000;
const PEAK_SAMPLE_MS = 200;
const WORKER_STOP_GRACE_MS = 10_000;

const round = (n: number, digits: number) => Number(n.toFixed(digits));
const mb = (bytes: number) => Math.round(bytes / 2 ** 20);

const memorySummary = (m: TreeMemory) => ({
  rss: { worker: mb(m.worker.rss), chromium: mb(m.chromium.rss), total: mb(m.worker.rss + m.chromium.rss) },
  pss: { worker: mb(m.worker.pss), chromium: mb(m.chromium.pss), total: mb(m.worker.pss + m.chromium.pss) },
});

const cleanup = new Cleanup();
await cleanup.main(async () => {
  const benchStarted = performance.now();
  const pinning = pinSurroundings();
  if (!pinning.pinned) process.stderr.write(`bench: not pinned to cores: ${pinning.reason}\n`);
  const site = cleanup.add('fixture server', await startFixtureServer({ '/': PAGE }), (s) => s.close());
  const url = `${site.url}/`;
  const step = (what: string) =>
    process.stderr.write(`bench: ${((performance.now() - benchStarted) / 1000).toFixed(0)} s: ${what}\n`);

  step(`raw loop, ${TASKS} screenshots`);
  const raw = await runRawLoop(cleanup, pinning, url, TASKS, CONCURRENCY);

  // The platform, with the fleet worker as its own process (as on Fargate).
  const cloud = cleanup.add(
    'local cloud',
    await startTestCloud({ worker: false, lambdaTier: false, sweeper: false }),
    (c) => c.dispose(),
  );
  const api = apiClient(cloud.url, TEST_API_KEY);

  const coldUnavailable = lambdaColdUnavailable();
  step(`Lambda cold start, ${LAMBDA_COLD_RUNS} runs`);
  const lambda =
    coldUnavailable === undefined
      ? await measureLambdaCold({
          api,
          url,
          env: cloud.roleEnv(LAMBDA_RUNNER.functionName),
          runs: LAMBDA_COLD_RUNS,
          pinning,
        })
      : undefined;

  const startWorker = (id: string, cores: string): WorkerProcess =>
    cleanup.add(
      `worker ${id}`,
      spawnWorker(cloud.env, id, { WORKER_CONCURRENCY: String(CONCURRENCY), LOG_LEVEL: 'INFO' }, (argv) =>
        pinning.onCores(cores, argv),
      ),
      async (w) => {
        w.kill('SIGTERM');
        // An idle worker stops at once; one that doesn't within the grace is killed (its
        // Chromium, on the CDP pipe, goes with it).
        const grace = setTimeout(() => w.kill('SIGKILL'), WORKER_STOP_GRACE_MS);
        await w.exited;
        clearTimeout(grace);
      },
    );
  const worker = startWorker('bench', MEASURED_CORE);
  const workerPid = worker.child.pid ?? 0;
  await worker.waitForLog((l) => l.message === 'worker started');
  step('platform warm-up');
  await closedLoop(WARM_UP_TASKS, CONCURRENCY, () => runHeld(api, url)); // browser up, connections open
  await new Promise((r) => setTimeout(r, IDLE_SETTLE_MS));
  const idle = treeMemory(workerPid);
  let peak = idle;
  const total = (m: TreeMemory) => m.worker.rss + m.chromium.rss;
  const sampler = setInterval(() => {
    const m = treeMemory(workerPid);
    if (total(m) > total(peak)) peak = m;
  }, PEAK_SAMPLE_MS);
  cleanup.add('memory sampler', sampler, clearInterval);

  // The worker's throughput: every task submitted at once, CONCURRENCY pages at a time as
  // the raw loop runs them, on the same lone core; first submit → last end, server's clock.
  step(`platform burst, ${TASKS} tasks`);
  const cpuBefore = { worker: treeCpuSeconds(workerPid), rest: surroundingsCpuSeconds([workerPid]) };
  const burst = await runBurst(api, url, TASKS);
  const cpuAfter = { worker: treeCpuSeconds(workerPid), rest: surroundingsCpuSeconds([workerPid]) };

  // End to end at the same concurrency: CONCURRENCY clients, each submits and waits.
  step(`platform closed loop, ${TASKS} tasks`);
  const ledgerBefore = cloud.iam?.calls() ?? [];
  const platform = await closedLoop(TASKS, CONCURRENCY, () => runHeld(api, url));
  // Every AWS call of the closed loop (the IAM front's ledger; LOCAL_IAM=off has none).
  const aws =
    cloud.iam === undefined ? undefined : awsCost(callsBetween(ledgerBefore, cloud.iam.calls()), TASKS);
  await cleanup.release(sampler);

  step(`live sessions, ${SESSIONS}`);
  const sessionMs = await measureSessionStarts({
    api,
    wsUrl: cloud.wsUrl,
    apiKey: TEST_API_KEY,
    sessions: SESSIONS,
    cleanup,
  });

  step(`scaling, ${SCALING_WORKERS.join(', ')} workers, ${SCALING_TASKS} tasks each`);
  const scaling = await measureScaling({
    api,
    url,
    addWorker: async (i) => {
      // The measured worker is the first: stopping it here would leave the queue's emulator
      // holding its pending long polls, and the tasks they are given lost for the visibility
      // timeout. Moved to both cores (its Chromium too), it is one worker like the others.
      if (i === 0) {
        pinning.move(treePids(workerPid), ALL_CORES);
        return worker;
      }
      const w = startWorker(`scale-${i}`, ALL_CORES);
      await w.waitForLog((l) => l.message === 'worker started');
      return w;
    },
    workerCounts: SCALING_WORKERS,
    tasksPerPoint: SCALING_TASKS,
    concurrency: CONCURRENCY,
  });
  await cleanup.run();
  step('done');

  const rawSummary = summarize(raw);
  const burstSummary = summarize(burst);
  const platformSummary = summarize(platform);
  const cpu = {
    workerAndChromiumSeconds: round(cpuAfter.worker - cpuBefore.worker, 1),
    emulatorsGatewayAndClientSeconds: round(cpuAfter.rest - cpuBefore.rest, 1),
    /** The raw loop's CPU (its process and its Chromium), for the same number of screenshots. */
    rawSeconds: round(raw.cpuSeconds, 1),
  };
  const memory = { idle: memorySummary(idle), peakLoaded: memorySummary(peak) };
  const result = {
    at: new Date().toISOString(),
    workload: { tasks: TASKS, concurrency: CONCURRENCY, viewport: VIEWPORT },
    pinned: pinning.pinned,
    ...(pinning.pinned
      ? { cores: { measured: MEASURED_CORE, surroundings: SURROUNDINGS_CORE, scaling: ALL_CORES } }
      : { notPinnedBecause: pinning.reason }),
    /** The worker's burst throughput over the raw loop's, each alone on the measured core. */
    workerRatio: round(burstSummary.throughputPerSecond / rawSummary.throughputPerSecond, 3),
    /** Closed-loop throughput (submit → answer, on the client's clock) over the raw loop's. */
    endToEndRatio: round(platformSummary.throughputPerSecond / rawSummary.throughputPerSecond, 3),
    /** Closed-loop p50 latency minus the raw loop's. */
    addedP50Ms: platformSummary.p50Ms - rawSummary.p50Ms,
    /** AWS calls of the closed loop per task, and their list price (bench/aws-costs.ts). */
    requestsPerTask: aws?.requestsPerTask.total ?? null,
    usdPer1000: aws?.usdPer1000 ?? null,
    /** The idle worker and its Chromium: RSS (shared pages in each process) and PSS (once). */
    idleRssMb: memory.idle.rss.total,
    idlePssMb: memory.idle.pss.total,
    /** POST /v1/sessions → live on the WebSocket API, median of BENCH_SESSIONS. */
    sessionLiveP50Ms: Math.round(quantile(sessionMs, 0.5)),
    /** New process → first task's result in the Lambda-like sandbox, Chromium unpacked; median. */
    lambdaColdMs: lambda === undefined ? null : Math.round(quantile(lambda.coldMs, 0.5)),
    scaling,
    targets: Object.fromEntries(
      Object.entries(TARGETS).map(([name, t]) => [name, `${t.op} ${round(t.value, 2)}`]),
    ),
    raw: rawSummary,
    /** Burst: latencies are service times (claim → succeeded). */
    platformBurst: { ...burstSummary, resubmits: burst.resubmits },
    /** Closed loop: latencies are submit → answer (succeeded), on the client's clock. */
    platform: platformSummary,
    cpuDuringBurst: cpu,
    memoryMb: memory,
    sessions: {
      count: sessionMs.length,
      p95Ms: Math.round(quantile(sessionMs, 0.95)),
      ms: sessionMs.map(Math.round),
    },
    lambda:
      lambda === undefined
        ? { unavailable: coldUnavailable }
        : { coldMs: lambda.coldMs, handlerMs: lambda.handlerMs, peakMemoryMb: lambda.peakMemoryMb },
    aws: aws === undefined ? undefined : { ...aws, prices: PRICES_USD },
    scalingTasksPerPoint: SCALING_TASKS,
  };
  mkdirSync('.bench', { recursive: true });
  writeFileSync(join('.bench', 'screenshot.json'), `${JSON.stringify(result, null, 2)}\n`);

  const figures: Figure[] = [
    {
      name: 'workerRatio',
      label: 'worker burst / raw throughput, one core',
      value: result.workerRatio,
      target: TARGETS.workerRatio,
    },
    {
      name: 'endToEndRatio',
      label: 'closed loop / raw throughput',
      value: result.endToEndRatio,
      target: TARGETS.endToEndRatio,
    },
    {
      name: 'addedP50Ms',
      label: 'closed-loop p50 − raw p50',
      value: result.addedP50Ms,
      unit: ' ms',
      target: TARGETS.addedP50Ms,
    },
    {
      name: 'requestsPerTask',
      label: 'AWS calls per task',
      value: result.requestsPerTask,
      target: TARGETS.requestsPerTask,
      note: 'LOCAL_IAM=off',
    },
    {
      name: 'usdPer1000',
      label: `AWS $ per 1,000 tasks (${PRICES_USD.region})`,
      value: result.usdPer1000,
      note: 'LOCAL_IAM=off',
    },
    {
      name: 'idleRssMb',
      label: 'idle worker + Chromium, RSS',
      value: result.idleRssMb,
      unit: ' MB',
      target: TARGETS.idleRssMb,
    },
    { name: 'idlePssMb', label: 'idle worker + Chromium, PSS', value: result.idlePssMb, unit: ' MB' },
    {
      name: 'sessionLiveP50Ms',
      label: `session create → live, p50 of ${sessionMs.length}`,
      value: result.sessionLiveP50Ms,
      unit: ' ms',
      target: TARGETS.sessionLiveP50Ms,
    },
    {
      name: 'lambdaColdMs',
      label: `Lambda new process → result, p50 of ${LAMBDA_COLD_RUNS}`,
      value: result.lambdaColdMs,
      unit: ' ms',
      target: TARGETS.lambdaColdMs,
      ...(coldUnavailable === undefined ? {} : { note: coldUnavailable }),
    },
    ...scaling.map((p) => ({
      name: `scaling[${p.workers}]`,
      label: `tasks/s with ${p.workers} worker${p.workers === 1 ? '' : 's'}, both cores`,
      value: p.tasksPerSecond,
    })),
  ];
  const row = (name: string, s: ReturnType<typeof summarize>, note: string) =>
    `  ${name.padEnd(24)}${String(s.throughputPerSecond).padStart(12)}${String(s.p50Ms).padStart(9)}${String(s.p95Ms).padStart(9)}   ${note}`;
  console.log(`
  workload: ${TASKS} screenshots at concurrency ${CONCURRENCY}, ${VIEWPORT.width}x${VIEWPORT.height}; ${
    pinning.pinned
      ? `raw loop, worker and Lambda sandbox on core ${MEASURED_CORE}, emulators + gateway + client on core ${SURROUNDINGS_CORE}`
      : `NOT pinned (${pinning.reason})`
  }
                          throughput/s   p50 ms   p95 ms
${row('raw puppeteer', rawSummary, '(latency: new context → screenshot → closed)')}
${row('platform, burst', burstSummary, '(latency: claim → succeeded)')}
${row('platform, closed loop', platformSummary, '(latency: submit → answer, client side)')}
  CPU in the burst: worker + Chromium ${cpu.workerAndChromiumSeconds} s, emulators + gateway + client ${cpu.emulatorsGatewayAndClientSeconds} s; raw loop ${cpu.rawSeconds} s
  memory loaded (peak): RSS ${memory.peakLoaded.rss.total} MB, PSS ${memory.peakLoaded.pss.total} MB; submits sent again after 429/503: ${burst.resubmits}
  ${
    aws === undefined
      ? ''
      : Object.entries(aws.operationsPerTask)
          .map(([op, n]) => `${op} ${n}`)
          .join(', ')
  }

${table(figures)}

  written to .bench/screenshot.json`);
});
