/**
 * Throughput against the number of worker processes (1, 2, 3 …), each with its own
 * Chromium and WORKER_CONCURRENCY pages, all on both cores: a burst of BENCH_SCALING_TASKS
 * per point. Workers are added one at a time and kept (stopping one mid-run costs the
 * queue emulator's pending long polls, see the bench); a warm-up burst before each point
 * launches the new worker's browser.
 */
import type { apiClient } from '../test/support/fixtures.js';
import type { WorkerProcess } from '../test/support/worker-process.js';
import { runBurst } from './platform-tasks.js';

export interface ScalingPoint {
  workers: number;
  tasksPerSecond: number;
}

export const measureScaling = async (options: {
  api: ReturnType<typeof apiClient>;
  url: string;
  /** Starts one more worker (registered for cleanup) and answers it once it runs. */
  addWorker: (index: number) => Promise<WorkerProcess>;
  workerCounts: number[];
  tasksPerPoint: number;
  /** Pages per worker, to size the warm-up so every worker's browser is up. */
  concurrency: number;
}): Promise<ScalingPoint[]> => {
  const points: ScalingPoint[] = [];
  let running = 0;
  for (const workers of options.workerCounts) {
    while (running < workers) await options.addWorker(running++);
    await runBurst(options.api, options.url, 2 * workers * options.concurrency);
    const burst = await runBurst(options.api, options.url, options.tasksPerPoint);
    points.push({ workers, tasksPerSecond: burst.tasksPerSecond });
  }
  return points;
};
