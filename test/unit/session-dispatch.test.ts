/**
 * The session host's slots and dispatch, with fakes (no AWS, no Chromium): a full worker
 * refuses a start without claiming it, two starts can't both take the last slot, a slot
 * held while starting is freed when the session ends; and attaches that race the session's
 * start or its end are each answered — told it is live, or told it closed.
 */
import { describe, expect, it } from 'vitest';
import { RecordingMetrics } from '../../shared/metrics/metrics.js';
import { SessionHost } from '../../shared/session/host-session.js';
import { newSession, type Session } from '../../shared/session/session.js';
import { fakeClock } from '../support/fake-clock.js';
import { deferred, FakeArtifacts } from '../support/fakes.js';
import { FakeLauncher, MemorySessionStore, RecordingNotifier } from '../support/session-fakes.js';

const T0 = Date.parse('2026-11-22T10:00:00Z');
const pending = (id: string): Session =>
  newSession({
    id,
    tenantId: 't1',
    options: {
      timeoutMs: 60_000,
      idleTimeoutMs: 60_000,
      viewport: { width: 800, height: 600, deviceScaleFactor: 1 },
    },
    now: T0,
  });

const hostWith = (setup: { slots: number; rows: Session[]; attached?: string[] }) => {
  const store = new MemorySessionStore(...setup.rows);
  const launcher = new FakeLauncher();
  const notifier = new RecordingNotifier();
  const metrics = new RecordingMetrics();
  const clock = fakeClock(T0);
  const loads: number[] = [];
  const live = new Map<string, ReturnType<typeof deferred>>();
  const ended = new Map<string, ReturnType<typeof deferred>>();
  const signal = (map: Map<string, ReturnType<typeof deferred>>, id: string) => {
    const d = map.get(id) ?? deferred();
    map.set(id, d);
    return d;
  };
  const host = new SessionHost({
    sessions: store,
    launcher,
    notifier,
    connections: { attached: async () => setup.attached ?? [] },
    artifacts: new FakeArtifacts(),
    artifactUrlTtlSeconds: 60,
    clock,
    metrics,
    workerId: 'w1',
    endpoint: () => 'http://127.0.0.1:8090',
    leaseMs: 30_000,
    heartbeatMs: 10_000,
    slots: setup.slots,
    log: (event, details) => {
      if (event === 'session live') signal(live, String(details.sessionId)).resolve();
      if (event === 'session ended') signal(ended, String(details.sessionId)).resolve();
    },
    onLoad: (n) => loads.push(n),
  });
  return {
    clock,
    host,
    store,
    launcher,
    notifier,
    metrics,
    loads,
    live: (id: string) => signal(live, id).promise,
    ended: (id: string) => signal(ended, id).promise,
  };
};

describe('slots', () => {
  it('a full worker answers no-slot and leaves the session pending, its message not acked', async () => {
    const { host, store, live } = hostWith({ slots: 1, rows: [pending('s1'), pending('s2')] });
    expect(await host.start({ sessionId: 's1', tenantId: 't1' }, async () => {})).toBe('started');
    await live('s1');
    const before = store.row('s2');
    let acked = false;
    const outcome = await host.start({ sessionId: 's2', tenantId: 't1' }, async () => {
      acked = true;
    });
    expect(outcome).toBe('no-slot');
    expect(acked).toBe(false);
    expect(store.row('s2')).toEqual(before);
    expect(host.count()).toBe(1);
    expect(host.isHosted('s2')).toBe(false);
  });

  it('two starts at once for the last slot: one is started, the other refused unclaimed', async () => {
    const { host, store } = hostWith({ slots: 1, rows: [pending('s1'), pending('s2')] });
    const outcomes = await Promise.all([
      host.start({ sessionId: 's1', tenantId: 't1' }, async () => {}),
      host.start({ sessionId: 's2', tenantId: 't1' }, async () => {}),
    ]);
    expect([...outcomes].sort()).toEqual(['no-slot', 'started']);
    const statuses = [store.row('s1').status, store.row('s2').status].sort();
    expect(statuses).toEqual(['pending', 'starting']);
    expect(host.count()).toBe(1);
  });

  it('a session still starting holds its slot; the slot is free again once the session has ended', async () => {
    const { host, launcher, loads, ended } = hostWith({ slots: 1, rows: [pending('s1'), pending('s2')] });
    const launch = deferred();
    launcher.gate = launch.promise;
    expect(await host.start({ sessionId: 's1', tenantId: 't1' }, async () => {})).toBe('started');
    expect(await host.start({ sessionId: 's2', tenantId: 't1' }, async () => {})).toBe('no-slot');
    expect(host.deliver('s1', 't1', { kind: 'close' })).toBe(true);
    await ended('s1');
    expect(host.count()).toBe(0);
    expect(loads).toEqual([1, 0]);
    launch.resolve();
    launcher.gate = Promise.resolve();
    expect(await host.start({ sessionId: 's2', tenantId: 't1' }, async () => {})).toBe('started');
  });
});

describe('a session ended while its browser launches', () => {
  it('its end completing first: the browser that then comes up is closed, not left running', async () => {
    const { clock, host, store, launcher, ended } = hostWith({ slots: 1, rows: [pending('s1')] });
    const launch = deferred();
    launcher.gate = launch.promise;
    expect(await host.start({ sessionId: 's1', tenantId: 't1' }, async () => {})).toBe('started');
    expect(host.deliver('s1', 't1', { kind: 'close' })).toBe(true);
    await ended('s1');
    expect(store.row('s1').status).toBe('closed');
    expect(launcher.closed).toEqual([]);
    launch.resolve();
    await launcher.whenClosed('s1');
    expect(launcher.launched.map((l) => l.sessionId)).toEqual(['s1']);
    expect(launcher.closed).toEqual(['s1']);
    expect(clock.pending()).toBe(0);
  });
});

describe('attaches that race the session', () => {
  it('two clients attaching while it starts are each told it is live, once', async () => {
    // c1 attached through the WebSocket API before the worker took the session (the
    // connection store knows it); it and c2 also reach the inbox while the browser starts.
    const { host, launcher, notifier, live } = hostWith({
      slots: 1,
      rows: [pending('s1')],
      attached: ['c1'],
    });
    const launch = deferred();
    launcher.gate = launch.promise;
    expect(await host.start({ sessionId: 's1', tenantId: 't1' }, async () => {})).toBe('started');
    expect(host.deliver('s1', 't1', { kind: 'attach', connectionId: 'c1' })).toBe(true);
    expect(host.deliver('s1', 't1', { kind: 'attach', connectionId: 'c2' })).toBe(true);
    launch.resolve();
    await live('s1');
    for (const c of ['c1', 'c2']) {
      expect(notifier.typesTo(c)).toEqual(['attached', 'status']);
      const attached = notifier.sent.find((s) => s.connectionId === c && s.message.type === 'attached');
      expect(attached?.message).toMatchObject({ status: 'starting' });
    }
    expect(notifier.sent.filter((s) => s.message.type === 'status')).toHaveLength(2);
  });

  it('an attach while the session is ending is told it closed; one after it has ended is not taken', async () => {
    const { clock, host, store, notifier, metrics, live, ended } = hostWith({
      slots: 1,
      rows: [pending('s1')],
      attached: ['c1'],
    });
    expect(await host.start({ sessionId: 's1', tenantId: 't1' }, async () => {})).toBe('started');
    await live('s1');
    // The end's row write is slow: the attach lands while it is in flight.
    const writing = deferred();
    const release = deferred();
    store.beforeSave = async (next) => {
      if (next.status !== 'closed') return;
      writing.resolve();
      await release.promise;
    };
    expect(host.deliver('s1', 't1', { kind: 'close' })).toBe(true);
    await writing.promise;
    expect(host.deliver('s1', 't1', { kind: 'attach', connectionId: 'c2' })).toBe(true);
    // A second close while ending ends nothing twice.
    expect(host.deliver('s1', 't1', { kind: 'close' })).toBe(true);
    release.resolve();
    await ended('s1');
    expect(notifier.typesTo('c2')).toEqual(['attached', 'status', 'closed']);
    expect(notifier.closedReasonTo('c2')).toBe('CLOSED_BY_CLIENT');
    expect(notifier.closedReasonTo('c1')).toBe('CLOSED_BY_CLIENT');
    expect(metrics.total('SessionsEnded')).toBe(1);
    expect(clock.pending()).toBe(0);

    expect(host.deliver('s1', 't1', { kind: 'attach', connectionId: 'c3' })).toBe(false);
    expect(host.isHosted('s1')).toBe(false);
    expect(notifier.typesTo('c3')).toEqual([]);
  });
});

describe('an attach after the session told its clients closed', () => {
  it('while its browser is still closing: is told closed, with the end reason, and never attached', async () => {
    const { clock, host, launcher, notifier, live, ended } = hostWith({
      slots: 1,
      rows: [pending('s1')],
      attached: ['c1'],
    });
    expect(await host.start({ sessionId: 's1', tenantId: 't1' }, async () => {})).toBe('started');
    await live('s1');
    // The browser's close is slow: the attach lands after c1 was told, before it is done.
    const closing = deferred();
    const release = deferred();
    launcher.beforeClose = async () => {
      closing.resolve();
      await release.promise;
    };
    expect(host.deliver('s1', 't1', { kind: 'close' })).toBe(true);
    await closing.promise;
    expect(notifier.closedReasonTo('c1')).toBe('CLOSED_BY_CLIENT');
    expect(host.deliver('s1', 't1', { kind: 'attach', connectionId: 'c2' })).toBe(true);
    release.resolve();
    await ended('s1');
    expect(notifier.typesTo('c2')).toEqual(['status', 'closed']);
    expect(notifier.closedReasonTo('c2')).toBe('CLOSED_BY_CLIENT');
    expect(notifier.sent.find((s) => s.connectionId === 'c2')?.message).toMatchObject({ status: 'closed' });
    expect(clock.pending()).toBe(0);
  });
});

describe('stopping the worker', () => {
  it('ends every hosted session WORKER_SHUTDOWN and closes its browser', async () => {
    const { clock, host, store, launcher, live } = hostWith({
      slots: 2,
      rows: [pending('s1'), pending('s2')],
    });
    await host.start({ sessionId: 's1', tenantId: 't1' }, async () => {});
    await host.start({ sessionId: 's2', tenantId: 't1' }, async () => {});
    await Promise.all([live('s1'), live('s2')]);
    await host.stopAll();
    expect(store.row('s1').endReason?.code).toBe('WORKER_SHUTDOWN');
    expect(store.row('s2').endReason?.code).toBe('WORKER_SHUTDOWN');
    expect([...launcher.closed].sort()).toEqual(['s1', 's2']);
    expect(host.count()).toBe(0);
    expect(clock.pending()).toBe(0);
  });
});
