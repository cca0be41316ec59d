/**
 * What /proc says about the processes the bench measures: memory (RSS and PSS from
 * smaps_rollup) and CPU seconds of a worker (or the raw loop) with its Chromium, whose
 * processes share the browser's process group (Puppeteer starts it detached).
 */
import { readdirSync, readFileSync } from 'node:fs';

const USER_HZ = 100; // clock ticks per second in /proc/<pid>/stat, on Linux

interface ProcessStat {
  pid: number;
  ppid: number;
  pgrp: number;
  /** User + system CPU seconds. */
  cpu: number;
  /** …of its children that ended and that it reaped (Chromium's renderers, one per context). */
  reapedCpu: number;
}

/** Every live (not zombie) process, from /proc/<pid>/stat. */
const processes = (): ProcessStat[] =>
  readdirSync('/proc').flatMap((entry) => {
    if (!/^\d+$/.test(entry)) return [];
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name may hold spaces: the fields start after its closing parenthesis.
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (f[0] === 'Z') return [];
      return [
        {
          pid: Number(entry),
          ppid: Number(f[1]),
          pgrp: Number(f[2]),
          cpu: (Number(f[11]) + Number(f[12])) / USER_HZ,
          reapedCpu: (Number(f[13]) + Number(f[14])) / USER_HZ,
        },
      ];
    } catch {
      return []; // gone between the listing and the read
    }
  });

/** `rootPid` and the process groups of the browsers it started (its Chromium processes). */
export const treePids = (rootPid: number): number[] => {
  const all = processes();
  const browsers = new Set(all.filter((p) => p.ppid === rootPid).map((p) => p.pid));
  return all.filter((p) => p.pid === rootPid || browsers.has(p.pgrp)).map((p) => p.pid);
};

/**
 * CPU seconds used so far by `rootPid` and its Chromium, the renderers that have ended
 * included: a context's renderer exits when the context closes, and its seconds then live
 * on only in its reaper's (the zygote's or the browser's) children's counts.
 */
export const treeCpuSeconds = (rootPid: number): number => {
  const pids = new Set(treePids(rootPid));
  return processes()
    .filter((p) => pids.has(p.pid))
    .reduce((n, p) => n + p.cpu + (p.pid === rootPid ? 0 : p.reapedCpu), 0);
};

/** What a process of the tree is: the Node process itself, or Chromium's `--type=` (browser when none). */
const kindOf = (pid: number, rootPid: number): string => {
  if (pid === rootPid) return 'node';
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split(/[\0 ]/);
    const type = argv.find((a) => a.startsWith('--type='))?.slice('--type='.length);
    if (type === undefined) return 'browser';
    const service = argv
      .find((a) => a.startsWith('--utility-sub-type='))
      ?.split('.')
      .at(-2);
    return type === 'utility' && service !== undefined ? `utility:${service}` : type;
  } catch {
    return 'gone';
  }
};

/**
 * CPU seconds so far of `rootPid` and its Chromium, by kind of process (`node`, `browser`,
 * `renderer`, `gpu-process`, `utility:network`…): where a workload's CPU goes. Ended
 * children count under their reaper's kind with `:reaped` (a zygote's: the renderers).
 */
export const treeCpuByKind = (rootPid: number): Record<string, number> => {
  const pids = new Set(treePids(rootPid));
  const byKind: Record<string, number> = {};
  // The Node process by thread: its main thread (JS, what --cpu-prof sees) and the rest
  // (GC helpers, libuv's pool, the inspector's profiler).
  try {
    for (const tid of readdirSync(`/proc/${rootPid}/task`)) {
      const stat = readFileSync(`/proc/${rootPid}/task/${tid}/stat`, 'utf8');
      const name =
        tid === String(rootPid) ? 'main' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const kind = `node thread:${name}`;
      byKind[kind] = (byKind[kind] ?? 0) + (Number(f[11]) + Number(f[12])) / USER_HZ;
    }
  } catch {
    // gone
  }
  for (const p of processes()) {
    if (!pids.has(p.pid)) continue;
    const kind = kindOf(p.pid, rootPid);
    byKind[kind] = (byKind[kind] ?? 0) + p.cpu;
    if (p.pid !== rootPid && p.reapedCpu > 0)
      byKind[`${kind}:reaped`] = (byKind[`${kind}:reaped`] ?? 0) + p.reapedCpu;
  }
  return byKind;
};

/** CPU seconds by kind between two `treeCpuByKind` readings, rounded to 0.01 s. */
export const cpuByKindSince = (
  before: Record<string, number>,
  after: Record<string, number>,
): Record<string, number> =>
  Object.fromEntries(
    Object.entries(after)
      .map(([kind, s]) => [kind, Math.round((s - (before[kind] ?? 0)) * 100) / 100] as const)
      .sort(([, a], [, b]) => b - a),
  );

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

export interface TreeMemory {
  worker: { rss: number; pss: number };
  chromium: { rss: number; pss: number };
}

/**
 * Memory of `rootPid` and of its Chromium processes, in bytes. RSS counts the pages the
 * processes share in each of them (so the sum overstates); PSS counts each shared page once,
 * split between its sharers.
 */
export const treeMemory = (rootPid: number): TreeMemory => {
  const chromium = treePids(rootPid)
    .filter((pid) => pid !== rootPid)
    .map(residency);
  return {
    worker: residency(rootPid),
    chromium: {
      rss: chromium.reduce((n, r) => n + r.rss, 0),
      pss: chromium.reduce((n, r) => n + r.pss, 0),
    },
  };
};

/**
 * CPU seconds used so far by this process and the children it started itself (DynamoDB
 * Local's Java process), leaving out the trees of `measuredPids` (workers, raw loop).
 */
export const surroundingsCpuSeconds = (measuredPids: number[]): number => {
  const measured = new Set(measuredPids.flatMap(treePids));
  return processes()
    .filter((p) => (p.pid === process.pid || p.ppid === process.pid) && !measured.has(p.pid))
    .reduce((n, p) => n + p.cpu, 0);
};
