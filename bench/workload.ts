/**
 * The bench's one workload, shared by the platform run and the raw loop (bench/raw-loop.ts,
 * its own process): the fixture page, the viewport, the closed loop and its summary.
 */

/** The page every screenshot takes: some text and a list for the renderer to lay out. */
export const PAGE = `<!doctype html><html><body style="font-family:sans-serif;margin:40px">
<h1>browserfleet bench</h1><p>${'A paragraph of text for the renderer to lay out. '.repeat(40)}</p>
<ul>${Array.from({ length: 30 }, (_, i) => `<li>item ${i}</li>`).join('')}</ul></body></html>`;

export const VIEWPORT = { width: 1280, height: 720, deviceScaleFactor: 1 } as const;

/** How bench/raw-loop.ts prefixes the one line that carries its result. */
export const RAW_RESULT_PREFIX = 'BENCH-RAW-RESULT ';

export interface Run {
  /** Per-task latencies, in ms. */
  latencies: number[];
  wallMs: number;
}

export const quantile = (values: number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
};

/** Runs `count` jobs with `concurrency` loops; answers per-job latencies and wall time. */
export const closedLoop = async (
  count: number,
  concurrency: number,
  job: () => Promise<number>,
): Promise<Run> => {
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

export const tasksPerSecond = (tasks: number, wallMs: number): number =>
  Number(((tasks / wallMs) * 1000).toFixed(2));

export const summarize = (run: Run) => ({
  tasks: run.latencies.length,
  throughputPerSecond: tasksPerSecond(run.latencies.length, run.wallMs),
  p50Ms: Math.round(quantile(run.latencies, 0.5)),
  p95Ms: Math.round(quantile(run.latencies, 0.95)),
});
