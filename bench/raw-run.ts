/** Runs the raw baseline (bench/raw-loop.ts) as a process of its own, on the measured core. */
import { spawn } from 'node:child_process';
import type { Cleanup } from './cleanup.js';
import { MEASURED_CORE, type Pinning } from './pinning.js';
import { RAW_RESULT_PREFIX, type Run } from './workload.js';

export interface RawRun extends Run {
  /** CPU seconds of the loop's process and its Chromium over the measured screenshots. */
  cpuSeconds: number;
  /** …by kind of process (bench/process-stats.ts `treeCpuByKind`). */
  cpuByKind: Record<string, number>;
}

/** Runs bench/raw-loop.ts on the measured core; answers its run and CPU seconds. */
export const runRawLoop = async (
  cleanup: Cleanup,
  pinning: Pinning,
  url: string,
  tasks: number,
  concurrency: number,
): Promise<RawRun> => {
  const argv = pinning.onCores(MEASURED_CORE, [
    process.execPath,
    '--import',
    'tsx',
    'bench/raw-loop.ts',
    url,
    String(tasks),
    String(concurrency),
  ]);
  const child = spawn(argv[0] ?? process.execPath, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  cleanup.add('raw loop', child, async (c) => {
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    await exited;
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const code = await exited;
  await cleanup.release(child);
  const line = stdout.split('\n').find((l) => l.startsWith(RAW_RESULT_PREFIX));
  if (code !== 0 || line === undefined) {
    throw new Error(`the raw loop failed (exit ${code}): ${stderr.slice(-3000)}`);
  }
  return JSON.parse(line.slice(RAW_RESULT_PREFIX.length)) as RawRun;
};
