/**
 * `npm run bench`: the same workload — BENCH_TASKS (200) screenshots of a local fixture
 * page at a fixed concurrency of BENCH_CONCURRENCY (4) — run (a) through the whole platform
 * (HTTP → DynamoDB → SQS → a fleet worker process → Chromium → S3 → result) and (b) as a
 * bare puppeteer-core loop with the same browser settings and page concurrency, in one run.
 * Prints a table and writes .bench/screenshot.json.
 *
 * Latency of a platform task in the closed loop is the client's: the submit with
 * `?wait=25` until its answer (succeeded) arrives; of a raw task, new context → screenshot
 * → context closed. The raw loop launches Chromium through the platform's own launcher
 * (same binary, flags and profile handling). Memory of the worker process plus its
 * Chromium process group is given as RSS (the target's measure; pages shared between the
 * processes are counted in each, so it overstates) and as PSS (shared pages counted once).
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { closeChromium, launchChromium } from '../shared/adapters/puppeteer/launch-chromium.js';
import { apiClient, startFixtureServer } from '../test/support/fixtures.js';
import { startTestCloud, TEST_API_KEY } from '../test/support/local-cloud.js';
import { spawnWorker } from '../test/support/worker-process.js';
import { awsCost, callsBetween, PRICES_USD } from './aws-costs.js';
import { Cleanup } from './cleanup.js';

const TASKS = Number(process.env.BENCH_TASKS ?? 200);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
const PAGE = `<!doctype html><html><body style="font-family:sans-serif;margin:40px">
<h1>browserfleet bench</h1><p>${'A paragraph of text for the renderer to lay out. '.repeat(40)}</p>
<ul>${Array.from({ length: 30 }, (_, i) => `<li>item ${i}</li>`).join('')}</ul></body></html>`;
const VIEWPORT = { width: 1280, height: 720, deviceScaleFactor: 1 };

const quantile = (values: number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
};

/** Resident and proportional set sizes of a process, in bytes (0 if it is gone). */
const residency = (pid: number): { rss: number; pss: number } => {
  try {
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kb = (field: string) =>
      Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? 0) * 1024;
    return { rss: kb('Rss'), pss: kb('Pss') };
  } catch {
    return { rss: 0, pss: 0 };
  }
};
const groupPids = (pgid: number): number[] =>
  readdirSync('/proc').flatMap((entry) => {
    if (!/^\d+$/.test(entry)) return [];
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return Number(pgrp) === pgid && state !== 'Z' ? [Number(entry)] : [];
    } catch {
      return [];
    }
  });
const mb = (bytes: number) => Math.round(bytes / 2 ** 20);

/** CPU seconds of a process tree (the worker and its Chromium) and of everything else of ours. */
const cpuTimes = (rootPid: number): { tree: number; rest: number } => {
  const ticks = 100; // USER_HZ on Linux
  const procs = readdirSync('/proc').flatMap((e) => {
    if (!/^\d+$/.test(e)) return [];
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return [
        {
          pid: Number(e),
          ppid: Number(f[1]),
          pgrp: Number(f[2]),
          cpu: (Number(f[11]) + Number(f[12])) / ticks,
        },
      ];
    } catch {
      return [];
    }
  });
  const browsers = new Set(procs.filter((p) => p.ppid === rootPid).map((p) => p.pid));
  const inTree = (p: { pid: number; pgrp: number }) => p.pid === rootPid || browsers.has(p.pgrp);
  const ours = new Set([process.pid, ...procs.filter((p) => p.ppid === process.pid).map((p) => p.pid)]);
  return {
    tree: procs.filter(inTree).reduce((n, p) => n + p.cpu, 0),
    rest: procs.filter((p) => !inTree(p) && ours.has(p.pid)).reduce((n, p) => n + p.cpu, 0),
  };
};

/** CPU seconds of this process and of the raw loop's Chromium (its process group). */
const rawCpuSeconds = (browserPid: number): number =>
  readdirSync('/proc').reduce((n, e) => {
    if (!/^\d+$/.test(e)) return n;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const mine = Number(e) === process.pid || Number(f[2]) === browserPid;
      return mine ? n + (Number(f[11]) + Number(f[12])) / 100 : n;
    } catch {
      return n;
    }
  }, 0);

/** Runs `count` jobs with `concurrency` loops; answers per-job latencies and wall time. */
const closedLoop = async (count: number, concurrency: number, job: () => Promise<number>) => {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        next++;
        latencies.push(await job());
      }
    }),
  );
  return { latencies, wallMs: performance.now() - started };
};

const cleanup = new Cleanup();
await cleanup.main(async () => {
  const site = cleanup.add('fixture server', await startFixtureServer({ '/': PAGE }), (s) => s.close());
  const url = `${site.url}/`;

  // (b) Raw puppeteer-core: the same Chromium, flags and viewport, a context per screenshot.
  const launched = cleanup.add('raw Chromium', await launchChromium({ hostEnv: process.env }), closeChromium);
  const { browser } = launched;
  const rawShot = async () => {
    const t0 = performance.now();
    const context = await browser.createBrowserContext();
    const page = await context.newPage();
    await page.setViewport(VIEWPORT);
    await page.goto(url, { waitUntil: 'load' });
    await page.screenshot({ type: 'png' });
    await context.close();
    return performance.now() - t0;
  };
  await closedLoop(20, CONCURRENCY, rawShot); // warm-up
  const rawCpuBefore = rawCpuSeconds(launched.browser.process()?.pid ?? 0);
  const raw = await closedLoop(TASKS, CONCURRENCY, rawShot);
  const rawCpu = rawCpuSeconds(launched.browser.process()?.pid ?? 0) - rawCpuBefore;
  await cleanup.release(launched);

  // (a) The platform, with the fleet worker as its own process (as on Fargate).
  const cloud = cleanup.add(
    'local cloud',
    await startTestCloud({ worker: false, lambdaTier: false, sweeper: false }),
    (c) => c.dispose(),
  );
  const worker = cleanup.add(
    'worker',
    spawnWorker(cloud.env, 'bench', { WORKER_CONCURRENCY: String(CONCURRENCY), LOG_LEVEL: 'WARN' }),
    async (w) => {
      if (w.child.exitCode === null && w.child.signalCode === null) w.kill('SIGTERM');
      await w.exited;
    },
  );
  const api = apiClient(cloud.url, TEST_API_KEY);
  const platformShot = async () => {
    const t0 = performance.now();
    const res = await api.call('POST', '/v1/tasks?wait=25', {
      body: JSON.stringify({ type: 'screenshot', tier: 'fleet', url, options: { viewport: VIEWPORT } }),
      headers: { 'content-type': 'application/json' },
    });
    if (res.body.status !== 'succeeded') {
      throw new Error(`bench task failed: HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 500)}`);
    }
    return performance.now() - t0;
  };
  await closedLoop(20, CONCURRENCY, platformShot); // warm-up: browser launched, connections open

  const memory = () => {
    const workerPid = worker.child.pid ?? 0;
    const chromiumPids = readdirSync('/proc')
      .filter((e) => /^\d+$/.test(e))
      .flatMap((e) => {
        try {
          const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
          const [, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
          return Number(ppid) === workerPid ? groupPids(Number(e)) : [];
        } catch {
          return [];
        }
      });
    const chromium = chromiumPids.map(residency);
    return {
      worker: residency(workerPid),
      chromium: {
        rss: chromium.reduce((n, r) => n + r.rss, 0),
        pss: chromium.reduce((n, r) => n + r.pss, 0),
      },
    };
  };
  await new Promise((r) => setTimeout(r, 1_000));
  const idle = memory();
  let peak = idle;
  const sampler = setInterval(() => {
    const m = memory();
    if (m.worker.rss + m.chromium.rss > peak.worker.rss + peak.chromium.rss) peak = m;
  }, 200);
  // (a1) Saturated: every task submitted at once, the worker runs CONCURRENCY pages at a
  // time, as the raw loop does; throughput from the server's clock, first submit to last end.
  const cpuBefore = cpuTimes(worker.child.pid ?? 0);
  // As a real client does: each submit carries an Idempotency-Key and is sent again after a
  // 429 or 503 (a burst of 200 on one tenant contends for its usage row), so none is lost.
  let resubmits = 0;
  const submitOnce = async (key: string): Promise<string> => {
    for (let attempt = 1; ; attempt++) {
      const res = await api.call('POST', '/v1/tasks', {
        body: JSON.stringify({ type: 'screenshot', tier: 'fleet', url, options: { viewport: VIEWPORT } }),
        headers: { 'content-type': 'application/json', 'idempotency-key': key },
      });
      if (res.status === 202 || res.status === 200) return res.body.id as string;
      if ((res.status !== 429 && res.status !== 503) || attempt >= 8) {
        throw new Error(`bench submit failed: HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
      }
      resubmits++;
      await new Promise((r) => setTimeout(r, Math.random() * 100 * 2 ** attempt));
    }
  };
  const submitted = await Promise.all(
    Array.from({ length: TASKS }, (_, i) => submitOnce(`bench-${Date.now()}-${i}`)),
  );
  // One waiter at a time (tasks finish roughly in order): 200 concurrent long polls would
  // load the emulators on these same cores and measure them instead of the platform.
  const ended = [];
  for (const id of submitted) {
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
  const cpuAfter = cpuTimes(worker.child.pid ?? 0);
  const firstSubmit = Math.min(...ended.map((t) => Date.parse(t.createdAt)));
  const lastEnd = Math.max(...ended.map((t) => Date.parse(t.endedAt)));
  const saturated = {
    latencies: ended.map((t) => Date.parse(t.endedAt) - Date.parse(t.startedAt)),
    wallMs: lastEnd - firstSubmit,
  };
  // (a2) End to end at the same concurrency: CONCURRENCY clients, each submits and waits.
  const ledgerBefore = cloud.iam?.calls() ?? [];
  const platform = await closedLoop(TASKS, CONCURRENCY, platformShot);
  // Every AWS call of the closed loop (the IAM front's ledger; LOCAL_IAM=off has none).
  const aws =
    cloud.iam === undefined ? undefined : awsCost(callsBetween(ledgerBefore, cloud.iam.calls()), TASKS);
  clearInterval(sampler);
  await cleanup.run();

  const summarize = (run: { latencies: number[]; wallMs: number }) => ({
    tasks: run.latencies.length,
    throughputPerSecond: Number(((run.latencies.length / run.wallMs) * 1000).toFixed(2)),
    p50Ms: Math.round(quantile(run.latencies, 0.5)),
    p95Ms: Math.round(quantile(run.latencies, 0.95)),
  });
  const rawSummary = summarize(raw);
  const platformSummary = summarize(platform);
  const saturatedSummary = summarize(saturated);
  const cpu = {
    workerAndChromiumSeconds: Number((cpuAfter.tree - cpuBefore.tree).toFixed(1)),
    emulatorsAndGatewaySeconds: Number((cpuAfter.rest - cpuBefore.rest).toFixed(1)),
    /** The raw loop's CPU (this process and its Chromium), for the same number of screenshots. */
    rawSeconds: Number(rawCpu.toFixed(1)),
  };
  /**
   * What the worker alone costs per screenshot against the raw loop: the throughput ratio the
   * worker would reach with both cores to itself, as on a Fargate task whose DynamoDB, SQS and
   * S3 are AWS's (here the emulators and the gateway share the worker's 2 cores).
   */
  const workerCpuRatio = Number((cpu.rawSeconds / cpu.workerAndChromiumSeconds).toFixed(3));
  const memorySummary = (m: ReturnType<typeof memory>) => ({
    rss: { worker: mb(m.worker.rss), chromium: mb(m.chromium.rss), total: mb(m.worker.rss + m.chromium.rss) },
    pss: { worker: mb(m.worker.pss), chromium: mb(m.chromium.pss), total: mb(m.worker.pss + m.chromium.pss) },
  });
  const result = {
    at: new Date().toISOString(),
    workload: { tasks: TASKS, concurrency: CONCURRENCY, viewport: VIEWPORT },
    raw: rawSummary,
    /** Saturated run: latencies are service times (claim → succeeded). */
    platformSaturated: saturatedSummary,
    /** Closed loop: latencies are submit → answer (succeeded), on the client's clock. */
    platform: platformSummary,
    ratio: Number((saturatedSummary.throughputPerSecond / rawSummary.throughputPerSecond).toFixed(3)),
    workerCpuRatio,
    ratioClosedLoop: Number(
      (platformSummary.throughputPerSecond / rawSummary.throughputPerSecond).toFixed(3),
    ),
    addedLatencyP50Ms: platformSummary.p50Ms - rawSummary.p50Ms,
    cpuDuringSaturatedRun: cpu,
    memoryMb: {
      idle: memorySummary(idle),
      peakLoaded: memorySummary(peak),
    },
    targets: { ratio: '>= 0.9', addedLatencyP50Ms: '<= 50', idleRssTotalMb: '<= 300' },
    resubmits,
    /** AWS calls of the closed loop per task, and their list price (bench/aws-costs.ts). */
    requestsPerTask: aws?.requestsPerTask.total,
    usdPer1000: aws?.usdPer1000,
    aws: aws === undefined ? undefined : { ...aws, prices: PRICES_USD },
  };
  mkdirSync('.bench', { recursive: true });
  writeFileSync(join('.bench', 'screenshot.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log(`
  workload: ${TASKS} screenshots at concurrency ${CONCURRENCY}, ${VIEWPORT.width}x${VIEWPORT.height}
                   throughput/s   p50 ms   p95 ms
  raw puppeteer             ${String(rawSummary.throughputPerSecond).padStart(12)}   ${String(rawSummary.p50Ms).padStart(6)}   ${String(rawSummary.p95Ms).padStart(6)}
  platform, saturated       ${String(saturatedSummary.throughputPerSecond).padStart(12)}   ${String(saturatedSummary.p50Ms).padStart(6)}   ${String(saturatedSummary.p95Ms).padStart(6)}   (latency: claim → succeeded)
  platform, closed loop     ${String(platformSummary.throughputPerSecond).padStart(12)}   ${String(platformSummary.p50Ms).padStart(6)}   ${String(platformSummary.p95Ms).padStart(6)}   (latency: submit → answer, client side)
  ratio (platform saturated / raw throughput): ${result.ratio}   (target >= 0.9); closed loop: ${result.ratioClosedLoop}
  CPU in the saturated run: worker + Chromium ${cpu.workerAndChromiumSeconds} s, emulators + gateway + client ${cpu.emulatorsAndGatewaySeconds} s (same 2 cores); raw loop ${cpu.rawSeconds} s
  worker CPU ratio (raw CPU / worker + Chromium CPU, same ${TASKS} screenshots): ${workerCpuRatio}
  added p50 latency: ${result.addedLatencyP50Ms} ms   (target <= 50 ms)
  failed tasks: 0 of ${TASKS * 2} (a failure stops the bench); submits answered 429/503 and sent again: ${resubmits}
  memory idle:   RSS worker ${result.memoryMb.idle.rss.worker} MB + chromium ${result.memoryMb.idle.rss.chromium} MB = ${result.memoryMb.idle.rss.total} MB (target <= 300 MB); PSS ${result.memoryMb.idle.pss.total} MB
  memory loaded: RSS worker ${result.memoryMb.peakLoaded.rss.worker} MB + chromium ${result.memoryMb.peakLoaded.rss.chromium} MB = ${result.memoryMb.peakLoaded.rss.total} MB; PSS ${result.memoryMb.peakLoaded.pss.total} MB
  AWS calls per task (closed loop): ${aws === undefined ? 'n/a (LOCAL_IAM=off)' : `${aws.requestsPerTask.total} (DynamoDB ${aws.requestsPerTask.dynamodb}, SQS ${aws.requestsPerTask.sqs}, S3 ${aws.requestsPerTask.s3}); capacity units ${aws.capacityUnitsPerTask.read} read + ${aws.capacityUnitsPerTask.write} write; $${aws.usdPer1000} per 1,000 tasks (${PRICES_USD.region} list prices)`}
  ${
    aws === undefined
      ? ''
      : Object.entries(aws.operationsPerTask)
          .map(([op, n]) => `${op} ${n}`)
          .join(', ')
  }
  written to .bench/screenshot.json`);
});
