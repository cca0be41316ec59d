/**
 * `npm run bench:requests`: the AWS calls per screenshot task, by part and operation, in a
 * minute instead of the whole bench's seven. The same path as the bench's closed loop
 * (HTTP submit held with `?wait=` → DynamoDB → SQS → a fleet worker process → Chromium →
 * S3), counted from the IAM front's ledger; no timings worth reading (not pinned to cores).
 *
 * BENCH_REQUEST_TASKS (40) tasks, BENCH_CONCURRENCY (4) clients at a time, after a short
 * warm-up. Prints JSON: calls per task by operation and by `part service operation`.
 */
import type { CallCount } from '../local/iam-front.js';
import { apiClient, startFixtureServer } from '../test/support/fixtures.js';
import { startTestCloud, TEST_API_KEY } from '../test/support/local-cloud.js';
import { spawnWorker } from '../test/support/worker-process.js';
import { awsCost, callsBetween } from './aws-costs.js';
import { Cleanup } from './cleanup.js';
import { runHeld } from './platform-tasks.js';
import { closedLoop, PAGE, summarize } from './workload.js';

const envNumber = (name: string, fallback: number): number => {
  const value = Number(process.env[name] || fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
};
const TASKS = envNumber('BENCH_REQUEST_TASKS', 40);
const CONCURRENCY = envNumber('BENCH_CONCURRENCY', 4);
const WARM_UP_TASKS = 8;
const WORKER_STOP_GRACE_MS = 10_000;

const byPart = (calls: CallCount[]): Record<string, number> =>
  Object.fromEntries(
    calls
      .map((c) => [`${c.part} ${c.service} ${c.operation}`, Number((c.calls / TASKS).toFixed(2))] as const)
      .sort((a, b) => b[1] - a[1]),
  );

const cleanup = new Cleanup();
await cleanup.main(async () => {
  const site = cleanup.add('fixture server', await startFixtureServer({ '/': PAGE }), (s) => s.close());
  const url = `${site.url}/`;
  const cloud = cleanup.add(
    'local cloud',
    await startTestCloud({ worker: false, lambdaTier: false, sweeper: false }),
    (c) => c.dispose(),
  );
  if (cloud.iam === undefined) throw new Error('the IAM front is off (LOCAL_IAM=off): no ledger to count');
  const api = apiClient(cloud.url, TEST_API_KEY);
  const worker = cleanup.add(
    'worker',
    spawnWorker(cloud.env, 'requests', { WORKER_CONCURRENCY: String(CONCURRENCY), LOG_LEVEL: 'INFO' }),
    async (w) => {
      w.kill('SIGTERM');
      const grace = setTimeout(() => w.kill('SIGKILL'), WORKER_STOP_GRACE_MS);
      await w.exited;
      clearTimeout(grace);
    },
  );
  await worker.waitForLog((l) => l.message === 'worker started');
  await closedLoop(WARM_UP_TASKS, CONCURRENCY, () => runHeld(api, url));
  const before = cloud.iam.calls();
  const run = await closedLoop(TASKS, CONCURRENCY, () => runHeld(api, url));
  const calls = callsBetween(before, cloud.iam.calls());
  const cost = awsCost(calls, TASKS);
  process.stdout.write(
    `${JSON.stringify(
      {
        tasks: TASKS,
        concurrency: CONCURRENCY,
        requestsPerTask: cost.requestsPerTask,
        capacityUnitsPerTask: cost.capacityUnitsPerTask,
        operationsPerTask: cost.operationsPerTask,
        byPartPerTask: byPart(calls),
        closedLoop: summarize(run),
      },
      null,
      2,
    )}\n`,
  );
});
