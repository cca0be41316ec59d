/**
 * The bench's baseline as a process of its own, so it can be pinned to a core as the
 * platform's worker is: bare puppeteer-core with the platform's own launcher (same binary,
 * flags and profile handling), a browser context per screenshot, BENCH_RAW_CONCURRENCY
 * pages at a time. Started by bench/screenshot.bench.ts as
 * `node --import tsx bench/raw-loop.ts <url> <tasks> <concurrency>`; prints one line
 * `BENCH-RAW-RESULT <json>` (latencies, wall time, CPU seconds of this process and its
 * Chromium) and exits. SIGTERM closes Chromium first.
 */
import { closeChromium, launchChromium } from '../shared/adapters/puppeteer/launch-chromium.js';
import { cpuByKindSince, treeCpuByKind, treeCpuSeconds } from './process-stats.js';
import { closedLoop, RAW_RESULT_PREFIX, VIEWPORT } from './workload.js';

const WARM_UP_TASKS = 20;

const [url, tasksArg, concurrencyArg] = process.argv.slice(2);
if (url === undefined || tasksArg === undefined || concurrencyArg === undefined) {
  throw new Error('usage: raw-loop.ts <url> <tasks> <concurrency>');
}
const launched = await launchChromium({ hostEnv: process.env });
process.once('SIGTERM', () => {
  void closeChromium(launched).finally(() => process.exit(143));
});
const { browser } = launched;
const shot = async () => {
  const t0 = performance.now();
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  await page.setViewport(VIEWPORT);
  await page.goto(url, { waitUntil: 'load' });
  await page.screenshot({ type: 'png' });
  await context.close();
  return performance.now() - t0;
};
const concurrency = Number(concurrencyArg);
await closedLoop(WARM_UP_TASKS, concurrency, shot);
const cpuBefore = treeCpuSeconds(process.pid);
const kindsBefore = treeCpuByKind(process.pid);
const run = await closedLoop(Number(tasksArg), concurrency, shot);
const cpuSeconds = treeCpuSeconds(process.pid) - cpuBefore;
const cpuByKind = cpuByKindSince(kindsBefore, treeCpuByKind(process.pid));
await closeChromium(launched);
process.stdout.write(`${RAW_RESULT_PREFIX}${JSON.stringify({ ...run, cpuSeconds, cpuByKind })}\n`);
process.exit(0);
