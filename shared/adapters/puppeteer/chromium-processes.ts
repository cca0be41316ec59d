/**
 * What the Puppeteer adapters ask of the operating system about Chromium's processes and
 * files: killing a browser's whole process group, measuring it, and sweeping the profile
 * dirs of workers that died without cleaning up. Linux `/proc` where it matters; elsewhere
 * the measurements read as zero and nothing breaks.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Per-worker profile dirs: `bf-chrome-<pid>-XXXXXX` under the temp dir. */
export const PROFILE_PREFIX = 'bf-chrome-';

/** SIGKILL to every process in Chromium's process group: the browser, renderers, GPU, network. */
export const killProcessGroup = (pid: number): void => {
  try {
    // Puppeteer starts Chromium detached, as the leader of its own process group.
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
};

/** Sum of VmRSS over every process in Chromium's process group, from /proc. */
export const processGroupRss = (pgid: number): number => {
  let total = 0;
  for (const entry of safeReaddir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Field 5 (pgrp) comes after the parenthesised command name, which may hold spaces.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) !== pgid) continue;
      const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${entry}/status`, 'utf8'));
      total += Number(rss?.[1] ?? 0) * 1024;
    } catch {
      // The process ended while we looked.
    }
  }
  return total;
};

/** Profile dirs left by workers that died (SIGKILL, OOM): their pid is no longer alive. */
export const removeStaleProfiles = (): void => {
  for (const entry of safeReaddir(tmpdir())) {
    const match = new RegExp(`^${PROFILE_PREFIX}(\\d+)-`).exec(entry);
    if (match?.[1] === undefined) continue;
    const pid = Number(match[1]);
    if (pid === process.pid || isAlive(pid)) continue;
    rmSync(join(tmpdir(), entry), { recursive: true, force: true });
  }
};

const safeReaddir = (dir: string): string[] => {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
};

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};
