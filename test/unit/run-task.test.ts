/**
 * The task engine's promises, on fakes: one visible result per task whatever the
 * deliveries and takeovers, retries with backoff, cancellation, hand-back, deadlines.
 */
import { describe, expect, it } from 'vitest';
import { MemoryResultCache } from '../../shared/adapters/memory-result-cache.js';
import { MemoryTaskStore } from '../../shared/adapters/memory-task-store.js';
import { systemClock } from '../../shared/clock.js';
import { BrowserfleetError, ERROR_CODES } from '../../shared/errors.js';
import { cancelTask } from '../../shared/task/cancel-task.js';
import { type RunTaskDeps, runTask } from '../../shared/task/run-task.js';
import { newTask, type Task } from '../../shared/task/task.js';
import { screenshotOptionsSchema } from '../../shared/task/task-input.js';
import {
  type Behaviour,
  deferred,
  FakeArtifacts,
  FakeBrowser,
  FakeQueue,
  hang,
  succeedAfter,
  succeedWith,
  throwCode,
} from '../support/fakes.js';

const setup = async (options: { maxAttempts?: number; timeoutMs?: number } = {}) => {
  const store = new MemoryTaskStore();
  const queue = new FakeQueue();
  const artifacts = new FakeArtifacts();
  const task = newTask({
    id: `t-${Math.random().toString(36).slice(2)}`,
    tenantId: 'ten',
    spec: {
      type: 'screenshot',
      options: screenshotOptionsSchema.parse({ timeoutMs: options.timeoutMs ?? 10_000 }),
    },
    url: 'http://fixture.test/',
    maxAttempts: options.maxAttempts ?? 3,
    now: Date.now(),
  });
  await store.create(task);
  const deps = (
    browser: FakeBrowser,
    workerId = 'w1',
    overrides: Partial<RunTaskDeps> = {},
  ): RunTaskDeps => ({
    store,
    queue,
    artifacts,
    resultCache: new MemoryResultCache(),
    browser,
    clock: systemClock,
    workerId,
    leaseMs: 1_000,
    heartbeatMs: 20,
    backoff: { baseMs: 1_000, capMs: 60_000 },
    random: () => 0.5,
    maxRunningTasks: async () => 100,
    ...overrides,
  });
  const acks: string[] = [];
  const input = (worker = 'w1') => ({ taskId: task.id, ack: async () => void acks.push(worker) });
  const row = async (): Promise<Task> => {
    const found = await store.get(task.id);
    if (found === undefined) throw new Error('row vanished');
    return found;
  };
  return { store, queue, artifacts, task, deps, input, row, acks };
};

/** The system clock a minute on: any retry backoff of these tests (≤ 60 s) has passed. */
const afterBackoff = { ...systemClock, now: () => Date.now() + 60_000 };

/** The browser work starts (and says so), then hangs until its signal aborts. */
const hangOnceStarted =
  (started: ReturnType<typeof deferred>): Behaviour =>
  (job, signal) => {
    started.resolve();
    return hang(job, signal);
  };

describe('runTask', () => {
  it('claims, acks the message, stores the artifact under its token and succeeds', async () => {
    const s = await setup();
    const outcome = await runTask(s.deps(new FakeBrowser([succeedWith('one')])), s.input());
    expect(outcome.kind).toBe('succeeded');
    expect(s.acks).toEqual(['w1']);
    const row = await s.row();
    expect(row).toMatchObject({ status: 'succeeded', attempts: 1, leaseToken: 1 });
    expect(row.result?.artifacts[0]?.key).toBe(`tasks/${s.task.id}/1/screenshot.png`);
    expect(row.history).toMatchObject([{ attempt: 1, worker: 'w1', outcome: 'succeeded' }]);
    expect(s.artifacts.objects.size).toBe(1);
  });

  it("starts the browser while the message's delete is on its way, and ends after it", async () => {
    const s = await setup();
    const deleting = deferred();
    const browserStarted = deferred();
    let ended = false;
    const startsThenSucceeds: Behaviour = (job, signal) => {
      browserStarted.resolve();
      return succeedWith('one')(job, signal);
    };
    const run = runTask(s.deps(new FakeBrowser([startsThenSucceeds])), {
      taskId: s.task.id,
      ack: () => deleting.promise,
    }).then((outcome) => {
      ended = true;
      return outcome;
    });
    // The browser has the task although the queue hasn't answered the delete yet…
    await browserStarted.promise;
    await new Promise((resolve) => setImmediate(resolve));
    // …and the task doesn't end before it has.
    expect(ended).toBe(false);
    deleting.resolve();
    expect((await run).kind).toBe('succeeded');
  });

  it('runs a message delivered to two workers at once exactly once', async () => {
    const s = await setup();
    const gate = deferred();
    const a = new FakeBrowser([succeedAfter(gate.promise, 'a')]);
    const b = new FakeBrowser([succeedAfter(gate.promise, 'b')]);
    const runs = [runTask(s.deps(a, 'wa'), s.input('wa')), runTask(s.deps(b, 'wb'), s.input('wb'))];
    gate.resolve();
    const outcomes = (await Promise.all(runs)).map((o) => o.kind).sort();
    expect(outcomes).toEqual(['lease-held', 'succeeded']);
    expect(a.calls + b.calls).toBe(1);
    expect(s.artifacts.objects.size).toBe(1);
    expect((await s.row()).attempts).toBe(1);
  });

  it('fences out a stalled worker: the takeover result is the one visible', async () => {
    const s = await setup();
    const stalled = deferred();
    // Worker A never heartbeats (a paused process) and its lease runs out.
    const claimedByA = deferred();
    const runA = runTask(
      s.deps(new FakeBrowser([succeedAfter(stalled.promise, 'stale')]), 'wa', {
        leaseMs: 50,
        heartbeatMs: 60_000,
      }),
      { ...s.input('wa'), onClaimed: () => claimedByA.resolve() },
    );
    await claimedByA.promise;
    // Worker B comes by after A's 50 ms lease ran out (its clock is a second on).
    const later = { ...systemClock, now: () => Date.now() + 1_000 };
    const outcomeB = await runTask(
      s.deps(new FakeBrowser([succeedWith('fresh')]), 'wb', { clock: later }),
      s.input('wb'),
    );
    expect(outcomeB.kind).toBe('succeeded');
    stalled.resolve();
    expect((await runA).kind).toBe('lease-lost');
    const row = await s.row();
    expect(row).toMatchObject({ status: 'succeeded', leaseToken: 2, attempts: 2 });
    const key = row.result?.artifacts[0]?.key ?? '';
    expect(key).toBe(`tasks/${s.task.id}/2/screenshot.png`);
    expect(new TextDecoder().decode(s.artifacts.objects.get(key))).toBe('fresh');
    expect(row.history.map((h) => [h.worker, h.outcome])).toEqual([
      ['wa', 'lease-expired'],
      ['wb', 'succeeded'],
    ]);
  });

  it('retries a retryable error with a backoff delay, then succeeds', async () => {
    const s = await setup();
    const browser = new FakeBrowser([throwCode('BROWSER_CRASHED'), succeedWith('second')]);
    const first = await runTask(s.deps(browser), s.input());
    expect(first).toMatchObject({ kind: 'retry-scheduled', delayMs: 500 });
    expect(await s.row()).toMatchObject({ status: 'queued', attempts: 1 });
    expect(s.queue.sent).toEqual([{ message: { taskId: s.task.id, tier: 'fleet' }, delaySeconds: 0.5 }]);
    // Delivered before its backoff passed, the copy waits out the rest and claims nothing.
    expect(await runTask(s.deps(browser), s.input())).toMatchObject({ kind: 'wait', reason: 'backoff' });
    const second = await runTask(s.deps(browser, 'w1', { clock: afterBackoff }), s.input());
    expect(second.kind).toBe('succeeded');
    const row = await s.row();
    expect(row.history.map((h) => h.outcome)).toEqual(['retried', 'succeeded']);
    expect(row.history[0]?.error?.code).toBe('BROWSER_CRASHED');
  });

  it('fails a terminal error at once, without a retry', async () => {
    const s = await setup();
    const outcome = await runTask(s.deps(new FakeBrowser([throwCode('DESTINATION_BLOCKED')])), s.input());
    expect(outcome.kind).toBe('failed');
    expect(await s.row()).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: { code: 'DESTINATION_BLOCKED' },
    });
    expect(s.queue.sent).toEqual([]);
  });

  it('fails once maxAttempts executions have failed, keeping the attempt history', async () => {
    const s = await setup({ maxAttempts: 2 });
    const browser = new FakeBrowser([throwCode('TIMEOUT'), throwCode('BROWSER_CRASHED')]);
    expect((await runTask(s.deps(browser), s.input())).kind).toBe('retry-scheduled');
    expect((await runTask(s.deps(browser, 'w1', { clock: afterBackoff }), s.input())).kind).toBe('failed');
    const row = await s.row();
    expect(row).toMatchObject({ status: 'failed', attempts: 2, error: { code: 'BROWSER_CRASHED' } });
    expect(row.history.map((h) => `${h.outcome}:${h.error?.code}`)).toEqual([
      'retried:TIMEOUT',
      'failed:BROWSER_CRASHED',
    ]);
  });

  it('stops the browser work of a running task cancelled by its tenant, within a heartbeat', async () => {
    const s = await setup();
    const working = deferred();
    const run = runTask(s.deps(new FakeBrowser([hangOnceStarted(working)])), s.input());
    await working.promise;
    const requested = await cancelTask(
      { store: s.store, clock: systemClock },
      { tenantId: 'ten', taskId: s.task.id },
    );
    expect(requested).toMatchObject({ status: 'running', cancelRequested: true });
    const started = Date.now();
    expect((await run).kind).toBe('cancelled');
    expect(Date.now() - started).toBeLessThan(500);
    expect(await s.row()).toMatchObject({ status: 'cancelled' });
    expect(s.artifacts.objects.size).toBe(0);
  });

  it('a cancel that lands just before a retryable failure ends the task cancelled, not queued', async () => {
    const s = await setup();
    const cancelThenFail: Behaviour = async () => {
      await cancelTask({ store: s.store, clock: systemClock }, { tenantId: 'ten', taskId: s.task.id });
      throw new BrowserfleetError(ERROR_CODES.TIMEOUT, 'slow page');
    };
    const outcome = await runTask(s.deps(new FakeBrowser([cancelThenFail])), s.input());
    expect(outcome.kind).toBe('cancelled');
    expect(await s.row()).toMatchObject({ status: 'cancelled' });
    // No message was sent back for a row that could never be claimed again.
    expect(s.queue.sent).toHaveLength(0);
  });

  it('a queued row that still carries a cancel request ends cancelled when a worker meets it', async () => {
    const s = await setup();
    await s.store.save({ ...(await s.row()), cancelRequested: true, version: 2 }, await s.row());
    const outcome = await runTask(s.deps(new FakeBrowser([succeedWith('never')])), s.input());
    expect(outcome).toEqual({ kind: 'settled', reason: 'expired' });
    expect(await s.row()).toMatchObject({ status: 'cancelled' });
  });

  it('hands a task back on shutdown without spending an attempt', async () => {
    const s = await setup({ maxAttempts: 1 });
    const shutdown = new AbortController();
    const working = deferred();
    const run = runTask(s.deps(new FakeBrowser([hangOnceStarted(working)])), {
      ...s.input(),
      shutdown: shutdown.signal,
    });
    await working.promise;
    shutdown.abort();
    expect((await run).kind).toBe('handed-back');
    expect(await s.row()).toMatchObject({ status: 'queued', attempts: 1 });
    expect(s.queue.sent).toEqual([{ message: { taskId: s.task.id, tier: 'fleet' }, delaySeconds: 0 }]);
    // Even with maxAttempts 1, the next worker may still run it.
    expect((await runTask(s.deps(new FakeBrowser([succeedWith('x')]), 'w2'), s.input('w2'))).kind).toBe(
      'succeeded',
    );
  });

  it('aborts the browser work at the deadline and fails with TIMEOUT', async () => {
    const s = await setup({ maxAttempts: 1, timeoutMs: 1_000 });
    const started = Date.now();
    expect((await runTask(s.deps(new FakeBrowser([hang])), s.input())).kind).toBe('failed');
    expect(Date.now() - started).toBeGreaterThanOrEqual(990);
    expect(await s.row()).toMatchObject({ status: 'failed', error: { code: 'TIMEOUT' } });
  });

  it('drops a message for a task that already ended, without running it', async () => {
    const s = await setup();
    await runTask(s.deps(new FakeBrowser()), s.input());
    const browser = new FakeBrowser();
    expect(await runTask(s.deps(browser), s.input())).toEqual({ kind: 'settled', reason: 'already-final' });
    expect(browser.calls).toBe(0);
  });

  describe("on the message's copy of the row", () => {
    const counted = (s: Awaited<ReturnType<typeof setup>>) => {
      const reads = { count: 0 };
      const get = s.store.get.bind(s.store);
      s.store.get = async (id: string) => {
        reads.count++;
        return get(id);
      };
      return reads;
    };

    it('claims without reading the row, and runs the task once', async () => {
      const s = await setup();
      const reads = counted(s);
      const outcome = await runTask(s.deps(new FakeBrowser([succeedWith('one')])), {
        ...s.input(),
        row: s.task,
      });
      expect(outcome.kind).toBe('succeeded');
      expect(reads.count).toBe(0);
      expect(await s.row()).toMatchObject({ status: 'succeeded', attempts: 1, leaseToken: 1 });
    });

    it('a copy the row has moved on from is refused by the write, which answers the row', async () => {
      const s = await setup();
      const gate = deferred();
      const a = new FakeBrowser([succeedAfter(gate.promise, 'a')]);
      const b = new FakeBrowser([succeedAfter(gate.promise, 'b')]);
      // The same message twice, each with the submit's copy: one claim lands, one can't.
      const runs = [
        runTask(s.deps(a, 'wa'), { ...s.input('wa'), row: s.task }),
        runTask(s.deps(b, 'wb'), { ...s.input('wb'), row: s.task }),
      ];
      gate.resolve();
      expect((await Promise.all(runs)).map((o) => o.kind).sort()).toEqual(['lease-held', 'succeeded']);
      expect(a.calls + b.calls).toBe(1);
      // Delivered again after the end: the copy says queued, the row says it ended.
      const late = new FakeBrowser();
      expect(await runTask(s.deps(late), { ...s.input(), row: s.task })).toEqual({
        kind: 'settled',
        reason: 'already-final',
      });
      expect(late.calls).toBe(0);
      expect((await s.row()).attempts).toBe(1);
    });

    it('a refusal decided on the copy alone is decided again on the row', async () => {
      const s = await setup();
      const reads = counted(s);
      // A copy that says the task isn't available yet; the row says it is.
      const copy = { ...s.task, availableAt: Date.now() + 60_000 };
      const outcome = await runTask(s.deps(new FakeBrowser([succeedWith('one')])), {
        ...s.input(),
        row: copy,
      });
      expect(outcome.kind).toBe('succeeded');
      expect(reads.count).toBe(1);
    });

    it("ignores a copy of another task's row", async () => {
      const s = await setup();
      const reads = counted(s);
      const other = { ...s.task, id: 'someone-else' };
      const outcome = await runTask(s.deps(new FakeBrowser([succeedWith('one')])), {
        ...s.input(),
        row: other,
      });
      expect(outcome.kind).toBe('succeeded');
      expect(reads.count).toBe(1);
    });
  });
});
