import { describe, expect, it } from 'vitest';
import { isClaimable, newTask, type Task, transition } from '../../shared/task/task.js';
import { screenshotOptionsSchema } from '../../shared/task/task-input.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const queued = (): Task =>
  newTask({
    id: 't1',
    tenantId: 'ten',
    spec: { type: 'screenshot', options: screenshotOptionsSchema.parse({}) },
    url: 'http://example.test/',
    now: T0,
  });

const claimed = (owner = 'w1', leaseMs = 10_000, at = T0): Task => {
  const out = transition(queued(), { kind: 'claim', owner, leaseMs }, at);
  if (!out.ok) throw new Error(out.reason);
  return out.task;
};

describe('task state machine', () => {
  it('starts queued, unclaimed, with token 0', () => {
    const t = queued();
    expect(t).toMatchObject({
      status: 'queued',
      attempts: 0,
      leaseToken: 0,
      createdAt: '2026-01-01T00:00:00.000Z',
    });
    expect(t.lease).toBeUndefined();
  });

  it('a claim moves queued to running, sets the lease and bumps the fencing token', () => {
    const t = claimed('w1', 5_000, T0 + 10);
    expect(t).toMatchObject({
      status: 'running',
      attempts: 1,
      leaseToken: 1,
      lease: { owner: 'w1', expiresAt: T0 + 10 + 5_000 },
    });
    expect(t.startedAt).toBe(new Date(T0 + 10).toISOString());
  });

  it('refuses to claim a running task whose lease is live', () => {
    const t = claimed('w1', 5_000);
    expect(transition(t, { kind: 'claim', owner: 'w2', leaseMs: 5_000 }, T0 + 4_999)).toEqual({
      ok: false,
      reason: 'lease-held',
    });
    expect(isClaimable(t, T0 + 4_999)).toBe(false);
  });

  it('takes over a running task whose lease expired, with a higher token', () => {
    const t = claimed('w1', 5_000);
    const out = transition(t, { kind: 'claim', owner: 'w2', leaseMs: 5_000 }, T0 + 5_000);
    expect(out.ok && out.task).toMatchObject({
      status: 'running',
      leaseToken: 2,
      attempts: 2,
      lease: { owner: 'w2' },
    });
  });

  it('succeeds only with the current token, and drops the lease', () => {
    const t = claimed();
    const result = { artifacts: [{ name: 'a.png', contentType: 'image/png', size: 3, key: 'k' }] };
    expect(transition(t, { kind: 'succeed', leaseToken: 0, result }, T0 + 1)).toEqual({
      ok: false,
      reason: 'stale-token',
    });
    const out = transition(t, { kind: 'succeed', leaseToken: 1, result }, T0 + 1);
    expect(out.ok).toBe(true);
    if (!out.ok) return;
    expect(out.task).toMatchObject({ status: 'succeeded', result, endedAt: new Date(T0 + 1).toISOString() });
    expect(out.task.lease).toBeUndefined();
  });

  it('fails with the error it was given', () => {
    const out = transition(
      claimed(),
      { kind: 'fail', leaseToken: 1, error: { code: 'TIMEOUT', message: 'slow' } },
      T0,
    );
    expect(out.ok && out.task).toMatchObject({
      status: 'failed',
      error: { code: 'TIMEOUT', message: 'slow' },
    });
  });

  it('cannot end a task that is not running', () => {
    expect(
      transition(queued(), { kind: 'fail', leaseToken: 0, error: { code: 'X', message: 'x' } }, T0),
    ).toEqual({
      ok: false,
      reason: 'not-running',
    });
  });

  it('cancels a queued task at once', () => {
    const out = transition(queued(), { kind: 'cancel' }, T0 + 5);
    expect(out.ok && out.task).toMatchObject({
      status: 'cancelled',
      endedAt: new Date(T0 + 5).toISOString(),
    });
  });

  it('marks a running task cancelRequested; only its owner ends it, as cancelled', () => {
    const requested = transition(claimed('w1', 5_000), { kind: 'cancel' }, T0 + 1);
    if (!requested.ok) throw new Error(requested.reason);
    expect(requested.task).toMatchObject({ status: 'running', cancelRequested: true });
    expect(transition(requested.task, { kind: 'cancel' }, T0 + 2)).toEqual({
      ok: false,
      reason: 'cancel-requested',
    });
    expect(transition(requested.task, { kind: 'cancelled', leaseToken: 0 }, T0 + 2)).toEqual({
      ok: false,
      reason: 'stale-token',
    });
    const ended = transition(requested.task, { kind: 'cancelled', leaseToken: 1 }, T0 + 3);
    expect(ended.ok && ended.task).toMatchObject({ status: 'cancelled' });
    expect(ended.ok && ended.task.history.at(-1)).toMatchObject({ outcome: 'cancelled', worker: 'w1' });
  });

  it.each(['retry', 'handBack'] as const)(
    'a %s of a task whose cancel was requested ends it cancelled (a queued row could never be claimed)',
    (kind) => {
      const requested = transition(claimed('w1', 5_000), { kind: 'cancel' }, T0 + 1);
      if (!requested.ok) throw new Error(requested.reason);
      const event =
        kind === 'retry'
          ? ({ kind, leaseToken: 1, delayMs: 1_000, error: { code: 'TIMEOUT', message: 'slow' } } as const)
          : ({ kind, leaseToken: 1 } as const);
      const out = transition(requested.task, event, T0 + 2);
      expect(out.ok && out.task).toMatchObject({ status: 'cancelled' });
      expect(out.ok && out.task.lease).toBeUndefined();
      expect(out.ok && out.task.history.at(-1)).toMatchObject({ outcome: 'cancelled' });
    },
  );

  it('cancels a running task whose owner is gone without waiting for it', () => {
    const out = transition(claimed('w1', 5_000), { kind: 'cancel' }, T0 + 5_000);
    expect(out.ok && out.task).toMatchObject({ status: 'cancelled' });
  });

  it('never leaves a final state', () => {
    const done = transition(claimed(), { kind: 'succeed', leaseToken: 1, result: { artifacts: [] } }, T0);
    if (!done.ok) throw new Error('setup');
    for (const event of [
      { kind: 'claim', owner: 'w9', leaseMs: 1 } as const,
      { kind: 'cancel' } as const,
      { kind: 'fail', leaseToken: 1, error: { code: 'X', message: 'x' } } as const,
    ]) {
      expect(transition(done.task, event, T0 + 1e9)).toEqual({ ok: false, reason: 'already-final' });
    }
  });
});
