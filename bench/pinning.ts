/**
 * Cores for the bench's processes, with util-linux's `taskset`: what is measured (the raw
 * loop, the worker, the Lambda sandbox, each with its Chromium) runs alone on core 1, and
 * everything around it (this process: the bench client, the gateway, the in-process SQS
 * and S3 emulators, and DynamoDB Local's Java process, which it starts) on core 0. Children
 * inherit their parent's affinity, so pinning this process first pins what it starts.
 * Without taskset, or with one core, nothing is pinned and the results say so.
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

/** The measured process's core, and the rest's. */
export const MEASURED_CORE = '1';
export const SURROUNDINGS_CORE = '0';
/** Both cores: the scaling runs, where several workers share the machine. */
export const ALL_CORES = '0,1';

const hasTaskset = (): boolean => spawnSync('sh', ['-c', 'command -v taskset']).status === 0;

export interface Pinning {
  pinned: boolean;
  /** Why not, when not. */
  reason?: string;
  /** `argv` run on `cores` (unchanged when not pinned). */
  onCores(cores: string, argv: string[]): string[];
  /** Moves running processes (every thread) to `cores`; their later children follow. */
  move(pids: number[], cores: string): void;
}

/** Pins this process (every thread: `-a`) to the surroundings' core, where it can. */
export const pinSurroundings = (): Pinning => {
  const unpinned = (reason: string): Pinning => ({
    pinned: false,
    reason,
    onCores: (_, argv) => argv,
    move: () => {},
  });
  if (!hasTaskset()) return unpinned('taskset (util-linux) is missing');
  if (availableParallelism() < 2) return unpinned('one core only');
  const pin = (pid: number, cores: string) => spawnSync('taskset', ['-a', '-p', '-c', cores, String(pid)]);
  const self = pin(process.pid, SURROUNDINGS_CORE);
  if (self.status !== 0) return unpinned(`taskset -p failed: ${self.stderr.toString().trim()}`);
  return {
    pinned: true,
    onCores: (cores, argv) => ['taskset', '-c', cores, ...argv],
    move: (pids, cores) => {
      // A process that ended since it was listed has nothing left to move.
      for (const pid of pids) pin(pid, cores);
    },
  };
};
