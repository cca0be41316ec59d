/**
 * Chaos: many tasks across several worker processes while workers are killed with SIGKILL
 * at random moments. Every task must end in a final state, none may be lost, none may show
 * two results, and no Chromium may outlive its worker. Sized by CHAOS_TASKS (200),
 * CHAOS_WORKERS (3) and CHAOS_KILLS (4); figures are printed at the end.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAST_ENGINE_ENV } from '../support/engine-env.js';
import { apiClient, type FixtureServer, startFixtureServer } from '../support/fixtures.js';
import { startTestCloud, TEST_API_KEY } from '../support/local-cloud.js';
import { spawnWorker, type WorkerProcess } from '../support/worker-process.js';

const TASKS = Number(process.env.CHAOS_TASKS ?? 200);
const WORKERS = Number(process.env.CHAOS_WORKERS ?? 3);
const KILLS = Number(process.env.CHAOS_KILLS ?? 4);
const DEADLINE_MS = 240_000;

let site: FixtureServer;
let cloud: Awaited<ReturnType<typeof startTestCloud>>;
const everyWorker: WorkerProcess[] = [];

beforeAll(async () => {
  site = await startFixtureServer({
    '/': '<html><body><h1>chaos</h1></body></html>',
  });
  cloud = await startTestCloud({ worker: false, lambdaTier: false, extraEnv: { ...FAST_ENGINE_ENV } });
});
afterAll(async () => {
  for (const w of everyWorker) {
    w.kill('SIGKILL');
    await w.exited;
  }
  await cloud?.dispose();
  await site?.close();
});

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Tasks a worker has claimed and not finished, as its log tells. */
const inFlight = (w: WorkerProcess): number => {
  const claimed = new Set<unknown>();
  for (const line of w.logs) {
    if (line.message === 'task claimed') claimed.add(line.taskId);
    else if (line.message === 'task run ended') claimed.delete(line.taskId);
  }
  return claimed.size;
};

describe('chaos', () => {
  it(
    `${TASKS} tasks, ${WORKERS} worker processes, ${KILLS} SIGKILLs: every task ends exactly once`,
    async () => {
      const started = Date.now();
      const api = apiClient(cloud.url, TEST_API_KEY);
      let spawned = 0;
      const spawn = () => {
        const w = spawnWorker(cloud.env, `chaos-${++spawned}`, { WORKER_CONCURRENCY: '2' });
        everyWorker.push(w);
        return w;
      };
      let live = Array.from({ length: WORKERS }, spawn);

      // Submit everything up front, a page a few ms slow so kills land mid-task.
      const ids: string[] = [];
      for (let i = 0; i < TASKS; i += 25) {
        const batch = await Promise.all(
          Array.from({ length: Math.min(25, TASKS - i) }, (_, j) =>
            api.submit({
              type: 'screenshot',
              tier: 'fleet',
              url: `${site.url}/slow?ms=${50 + ((i + j) % 7) * 40}`,
            }),
          ),
        );
        for (const res of batch) {
          expect(res.status).toBe(202);
          ids.push(res.body.id);
        }
      }

      const pending = new Set(ids);
      const final = new Map<string, any>();
      const poll = async () => {
        const check = [...pending].slice(0, 40);
        await Promise.all(
          check.map(async (id) => {
            const res = await api.get(id);
            if (['succeeded', 'failed', 'cancelled'].includes(res.body.status)) {
              pending.delete(id);
              final.set(id, res.body);
            }
          }),
        );
      };

      // The chaos: at random moments, SIGKILL a random worker and start a replacement.
      let kills = 0;
      let nextKillAt = Date.now() + 1_000 + Math.random() * 2_000;
      while (pending.size > 0 && Date.now() - started < DEADLINE_MS) {
        if (kills < KILLS && Date.now() >= nextKillAt) {
          // A random worker among those with a task claimed and not yet ended (by their
          // logs), so each kill lands mid-task; none busy just now: try again shortly.
          const busy = live.filter((w) => inFlight(w) > 0);
          const victim = busy[Math.floor(Math.random() * busy.length)];
          if (victim !== undefined) {
            victim.kill('SIGKILL');
            await victim.exited;
            kills++;
            live = [...live.filter((w) => w !== victim), spawn()];
            nextKillAt = Date.now() + 1_000 + Math.random() * 2_000;
          }
        }
        await poll();
        await new Promise((r) => setTimeout(r, 100));
      }
      const elapsedMs = Date.now() - started;

      const rows = [...final.values()];
      const succeeded = rows.filter((t) => t.status === 'succeeded');
      const duplicated = rows.filter(
        (t) =>
          t.history.filter((h: { outcome: string }) => h.outcome === 'succeeded').length > 1 ||
          (t.status === 'succeeded' && t.result.artifacts.length !== 1),
      );
      // The visible artifact is the one written under the winning attempt's fencing token.
      const wrongToken = succeeded.filter(
        (t) => !t.result.artifacts[0].url.includes(`/tasks/${t.id}/${t.attempts}/`),
      );
      const takenOver = rows.filter((t) =>
        t.history.some((h: { outcome: string }) => h.outcome === 'lease-expired'),
      );

      const browserPids = everyWorker.flatMap((w) =>
        w.logs.filter((l) => l.message === 'browser-launched').map((l) => Number(l.pid)),
      );
      const killedWorkers = everyWorker.filter((w) => w.child.signalCode === 'SIGKILL');
      const orphanedBrowsers = killedWorkers
        .flatMap((w) => w.logs.filter((l) => l.message === 'browser-launched').map((l) => Number(l.pid)))
        .filter(alive);

      console.log(
        `chaos figures: tasks=${TASKS} workers=${WORKERS} kills=${kills} succeeded=${succeeded.length} ` +
          `failed=${rows.length - succeeded.length} lost=${pending.size} duplicated=${duplicated.length} ` +
          `taken-over=${takenOver.length} browsers=${browserPids.length} orphaned-browsers=${orphanedBrowsers.length} ` +
          `time=${(elapsedMs / 1000).toFixed(1)}s`,
      );

      expect(pending.size).toBe(0);
      expect(kills).toBe(KILLS);
      // The kills landed mid-task: tasks were taken over from dead workers' leases.
      expect(takenOver.length).toBeGreaterThan(0);
      expect(duplicated).toEqual([]);
      expect(wrongToken).toEqual([]);
      expect(orphanedBrowsers).toEqual([]);
      // Failures are allowed only with a reason (e.g. out of attempts after repeated kills).
      for (const t of rows.filter((r) => r.status === 'failed')) expect(t.error.code).toMatch(/^[A-Z_]+$/);
    },
    DEADLINE_MS + 60_000,
  );
});
