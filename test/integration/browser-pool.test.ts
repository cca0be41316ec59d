/**
 * Leak test: hundreds of tasks through one runner. Chromium's process count and the temp
 * dir return to their baseline, RSS stays bounded across browser recycles, and nothing
 * is left behind after close.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PuppeteerBrowserRunner } from '../../shared/adapters/puppeteer/browser-runner.js';
import { processGroupRss } from '../../shared/adapters/puppeteer/chromium-processes.js';
import { RecordingMetrics } from '../../shared/metrics/metrics.js';
import type { BrowserJob } from '../../shared/task/ports.js';
import { screenshotOptionsSchema } from '../../shared/task/task-input.js';
import { type FixtureServer, startFixtureServer } from '../support/fixtures.js';

const TASKS = Number(process.env.LEAK_TASKS ?? 300);
const CONCURRENCY = 4;
const RECYCLE_AFTER = 100;

let site: FixtureServer;
beforeAll(async () => {
  site = await startFixtureServer({
    '/': `<html><body><h1>leak check</h1><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="><script>
      window.blob = new Array(20000).fill('x').join('');</script></body></html>`,
  });
});
afterAll(async () => {
  await site?.close();
});

const profileDirs = (): string[] =>
  readdirSync(tmpdir()).filter((d) => d.startsWith(`bf-chrome-${process.pid}-`));
const dirBytes = (dir: string): number => {
  let total = 0;
  const walk = (p: string) => {
    for (const entry of readdirSync(p, { withFileTypes: true })) {
      const full = join(p, entry.name);
      try {
        if (entry.isDirectory()) walk(full);
        else total += statSync(full).size;
      } catch {}
    }
  };
  walk(dir);
  return total;
};
/** Processes in Chromium's process group, from /proc: live ones, or zombies too. */
const chromiumProcesses = (pgid: number, { zombies = false } = {}): number =>
  readdirSync('/proc').filter((entry) => {
    if (!/^\d+$/.test(entry)) return false;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return Number(pgrp) === pgid && (zombies || state !== 'Z');
    } catch {
      return false;
    }
  }).length;

describe('browser pool', () => {
  it(`${TASKS} tasks: processes, temp dir and RSS stay bounded, and close leaves nothing`, async () => {
    const events: string[] = [];
    const runner = new PuppeteerBrowserRunner({
      hostEnv: process.env,
      pool: { recycleAfterTasks: RECYCLE_AFTER },
      onEvent: (event) => events.push(event),
    });
    const job: BrowserJob = {
      type: 'screenshot',
      url: `${site.url}/`,
      options: screenshotOptionsSchema.parse({ viewport: { width: 800, height: 600 } }),
    };
    const samples: { processes: number; rss: number; tempBytes: number }[] = [];
    let done = 0;
    const sample = () => {
      const [pid] = runner.browserPids();
      if (pid === undefined) return;
      samples.push({
        processes: chromiumProcesses(pid),
        rss: processGroupRss(pid),
        tempBytes: profileDirs().reduce((n, d) => n + dirBytes(join(tmpdir(), d)), 0),
      });
    };
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (done < TASKS) {
          done++;
          const out = await runner.run(job, AbortSignal.timeout(30_000));
          expect(out.artifacts[0]?.body.byteLength).toBeGreaterThan(1000);
          if (done % 25 === 0) sample();
        }
      }),
    );
    const recycles = events.filter((e) => e === 'browser-recycled').length;
    const baseline = samples[0];
    const worst = {
      processes: Math.max(...samples.map((s) => s.processes)),
      rss: Math.max(...samples.map((s) => s.rss)),
      tempBytes: Math.max(...samples.map((s) => s.tempBytes)),
    };
    console.log(
      `leak figures: tasks=${TASKS} recycles=${recycles} processes baseline=${baseline?.processes} max=${worst.processes} ` +
        `rss baseline=${Math.round((baseline?.rss ?? 0) / 2 ** 20)}MB max=${Math.round(worst.rss / 2 ** 20)}MB ` +
        `temp max=${Math.round(worst.tempBytes / 2 ** 20)}MB`,
    );
    expect(recycles).toBeGreaterThanOrEqual(Math.floor(TASKS / RECYCLE_AFTER) - 1);
    // Process count and memory stay within a small multiple of the warm baseline.
    expect(worst.processes).toBeLessThanOrEqual((baseline?.processes ?? 0) + CONCURRENCY + 2);
    expect(worst.rss).toBeLessThan(Math.max(2 * (baseline?.rss ?? 0), 600 * 2 ** 20));
    expect(worst.tempBytes).toBeLessThan(64 * 2 ** 20);

    const pids = runner.browserPids();
    await runner.close();
    // No Chromium process is left, not even a zombie: the browser is our child and reaped at
    // once; its zygotes, orphaned when it exits, go to PID 1, which reaps them (on ECS that is
    // the init process the task definition enables, as Node would not).
    for (const pid of pids) {
      await expect.poll(() => chromiumProcesses(pid, { zombies: true }), { timeout: 10_000 }).toBe(0);
    }
    expect(profileDirs()).toEqual([]);
  }, 180_000);

  it('counts a browser that dies under it as a crash (BrowserCrashes), and the next task gets a new one', async () => {
    const metrics = new RecordingMetrics();
    let disconnected!: () => void;
    const gone = new Promise<void>((resolve) => {
      disconnected = resolve;
    });
    const runner = new PuppeteerBrowserRunner({
      hostEnv: process.env,
      metrics,
      onEvent: (event) => {
        if (event === 'browser-disconnected') disconnected();
      },
    });
    const job: BrowserJob = {
      type: 'screenshot',
      url: `${site.url}/`,
      options: screenshotOptionsSchema.parse({ viewport: { width: 320, height: 240 } }),
    };
    await runner.run(job, AbortSignal.timeout(30_000));
    const [first] = runner.browserPids();
    process.kill(first as number, 'SIGKILL');
    await gone;
    expect(metrics.total('BrowserCrashes', { where: 'task' })).toBe(1);
    const again = await runner.run(job, AbortSignal.timeout(30_000));
    expect(again.artifacts[0]?.body.byteLength).toBeGreaterThan(100);
    expect(runner.browserPids()).not.toContain(first);
    await runner.close();
    // A recycle or a close is not a crash.
    expect(metrics.total('BrowserCrashes')).toBe(1);
  }, 60_000);
});
