/**
 * The task engine's timers on fake time (test/support/fake-clock.ts): the heartbeat that
 * renews a run's lease, the deadline that ends it, and the held answer's polling, each
 * moved on by the test instead of waited for.
 */
import { describe, expect, it } from 'vitest';
import { MemoryResultCache } from '../../shared/adapters/memory-result-cache.js';
import { MemoryTaskStore } from '../../shared/adapters/memory-task-store.js';
import { type RunTaskDeps, runTask } from '../../shared/task/run-task.js';
import { newTask, type Task } from '../../shared/task/task.js';
import { TaskDurations } from '../../shared/task/task-durations.js';
import { screenshotOptionsSchema } from '../../shared/task/task-input.js';
import { waitForTask } from '../../shared/task/wait-for-task.js';
import { fakeClock } from '../support/fake-clock.js';
import { deferred, FakeArtifacts, FakeBrowser, FakeQueue, hang, succeedAfter } from '../support/fakes.js';

const LEASE_MS = 30_000;
const HEARTBEAT_MS = 10_000;

const setup = async (timeoutMs = 60_000) => {
  const clock = fakeClock();
  const store = new MemoryTaskStore();
  const task = newTask({
    id: `t-${Math.random().toString(36).slice(2)}`,
    tenantId: 'ten',
    spec: { type: 'screenshot', options: screenshotOptionsSchema.parse({ timeoutMs }) },
    url: 'http://fixture.test/',
    maxAttempts: 1,
    now: clock.now(),
  });
  await store.create(task);
  const deps = (browser: FakeBrowser): RunTaskDeps => ({
    store,
    queue: new FakeQueue(),
    artifacts: new FakeArtifacts(),
    resultCache: new MemoryResultCache(),
    browser,
    clock,
    workerId: 'w1',
    leaseMs: LEASE_MS,
    heartbeatMs: HEARTBEAT_MS,
    backoff: { baseMs: 1_000, capMs: 60_000 },
    random: () => 0.5,
    maxRunningTasks: async () => 100,
  });
  const row = async (): Promise<Task> => {
    const found = await store.get(task.id);
    if (found === undefined) throw new Error('row vanished');
    return found;
  };
  return { clock, store, task, deps, row };
};

describe('run timers on fake time', () => {
  it('each heartbeat pushes the lease a lease-length past its own time, and stops with the run', async () => {
    const s = await setup();
    const gate = deferred();
    const run = runTask(s.deps(new FakeBrowser([succeedAfter(gate.promise, 'done')])), {
      taskId: s.task.id,
      ack: async () => {},
    });
    await s.clock.advance(0);
    const claimedAt = s.clock.now();
    expect((await s.row()).lease?.expiresAt).toBe(claimedAt + LEASE_MS);

    // A minute of a slow page: six beats, each renewing from its own time.
    for (let beat = 1; beat <= 6; beat++) {
      await s.clock.advance(HEARTBEAT_MS);
      expect((await s.row()).lease?.expiresAt).toBe(claimedAt + beat * HEARTBEAT_MS + LEASE_MS);
    }
    gate.resolve();
    expect((await run).kind).toBe('succeeded');
    // No timer of the run outlives it.
    expect(s.clock.pending()).toBe(0);
  });

  it("the task's deadline ends a page that never finishes, on the task's own timeoutMs", async () => {
    const s = await setup(45_000);
    const run = runTask(s.deps(new FakeBrowser([hang])), { taskId: s.task.id, ack: async () => {} });
    await s.clock.advance(44_999);
    expect((await s.row()).status).toBe('running');
    await s.clock.advance(1);
    const outcome = await run;
    expect(outcome.kind).toBe('failed');
    expect(await s.row()).toMatchObject({ status: 'failed', error: { code: 'TIMEOUT' } });
    expect(s.clock.pending()).toBe(0);
  });

  it('a held answer polls the row until the task ends, and gives up at its wait', async () => {
    const s = await setup();
    const start = s.clock.now();
    const reads: number[] = [];
    let endsAt = Number.POSITIVE_INFINITY;
    const store = {
      get: async (id: string) => {
        reads.push(s.clock.now());
        const row = await s.store.get(id);
        return row && s.clock.now() >= endsAt ? { ...row, status: 'succeeded' as const } : row;
      },
    } as unknown as MemoryTaskStore;

    const held = waitForTask(store, s.task, 2_000, undefined, s.clock);
    await s.clock.advance(2_000);
    expect((await held).status).toBe('queued');
    // Growing intervals from 20 ms, capped at 100 ms: about 25 reads in 2 s, none after.
    expect(reads.length).toBeGreaterThan(15);
    expect(reads.length).toBeLessThan(30);
    expect(reads.at(-1)).toBeLessThanOrEqual(start + 2_000);
    expect(s.clock.pending()).toBe(0);

    // The task ends half a second in: the answer follows within one interval.
    reads.length = 0;
    endsAt = s.clock.now() + 500;
    const early = waitForTask(store, s.task, 20_000, undefined, s.clock);
    await s.clock.advance(700);
    expect((await early).status).toBe('succeeded');
    expect((reads.at(-1) ?? 0) - endsAt).toBeLessThanOrEqual(100);
    expect(s.clock.pending()).toBe(0);
  });

  it('with what earlier tasks took, a held answer first reads near the expected end', async () => {
    const s = await setup();
    const iso = (ms: number) => new Date(ms).toISOString();
    const durations = new TaskDurations();
    // Earlier screenshots: 1 s from submit to end, 800 ms of it running.
    for (let i = 0; i < 5; i++) {
      const at = s.clock.now() - 10_000;
      durations.record({
        ...s.task,
        status: 'succeeded',
        createdAt: iso(at),
        startedAt: iso(at + 200),
        endedAt: iso(at + 1_000),
      });
    }
    const reads: number[] = [];
    let startsAt = Number.POSITIVE_INFINITY;
    let endsAt = Number.POSITIVE_INFINITY;
    const store = {
      get: async (id: string) => {
        reads.push(s.clock.now());
        const row = await s.store.get(id);
        if (row === undefined || s.clock.now() < startsAt) return row;
        const running = { ...row, status: 'running' as const, startedAt: iso(startsAt) };
        return s.clock.now() < endsAt
          ? running
          : { ...running, status: 'succeeded' as const, endedAt: iso(endsAt) };
      },
    } as unknown as MemoryTaskStore;
    const submittedAt = Date.parse(s.task.createdAt);
    expect(s.clock.now()).toBe(submittedAt);

    // Ends a little later than the others: one read at the expected end, a few after it.
    startsAt = submittedAt + 200;
    endsAt = submittedAt + 1_100;
    const late = waitForTask(store, s.task, 20_000, undefined, s.clock, durations);
    await s.clock.advance(1_300);
    expect((await late).status).toBe('succeeded');
    expect(reads[0]).toBe(submittedAt + 1_000);
    expect(reads.length).toBeLessThanOrEqual(5);
    expect((reads.at(-1) ?? 0) - endsAt).toBeLessThanOrEqual(100);
    expect(s.clock.pending()).toBe(0);

    // Still queued at the expected end, then started late: the next read waits for the
    // expected end of the run, counted from its start.
    reads.length = 0;
    const base = s.clock.now();
    const task = { ...s.task, createdAt: iso(base) };
    startsAt = base + 1_100;
    endsAt = base + 1_950;
    const queued = waitForTask(store, task, 20_000, undefined, s.clock, durations);
    await s.clock.advance(2_200);
    expect((await queued).status).toBe('succeeded');
    expect(reads[0]).toBe(base + 1_000);
    expect(reads).toContain(startsAt + 800);
    expect(reads.length).toBeLessThanOrEqual(8);
    expect((reads.at(-1) ?? 0) - endsAt).toBeLessThanOrEqual(100);
    expect(s.clock.pending()).toBe(0);

    // After a backlog (recent tasks queued 10 s), a task that starts at once is still read
    // soon after its run: queueing is allowed for only up to 200 ms.
    const backlog = new TaskDurations();
    for (let i = 0; i < 5; i++) {
      const at = s.clock.now() - 20_000;
      backlog.record({
        ...s.task,
        status: 'succeeded',
        createdAt: iso(at),
        startedAt: iso(at + 10_000),
        endedAt: iso(at + 10_800),
      });
    }
    reads.length = 0;
    const fresh = s.clock.now();
    startsAt = fresh + 10;
    endsAt = fresh + 810;
    const quick = waitForTask(
      store,
      { ...s.task, createdAt: iso(fresh) },
      20_000,
      undefined,
      s.clock,
      backlog,
    );
    await s.clock.advance(1_200);
    expect((await quick).status).toBe('succeeded');
    expect((reads.at(-1) ?? 0) - endsAt).toBeLessThanOrEqual(200);
    expect(s.clock.pending()).toBe(0);
  });
});
