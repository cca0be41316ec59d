/**
 * One hosted session's own life, on a fake clock (no AWS, no Chromium): the idle timeout
 * counts only time with nobody attached (WebSocket or CDP), the absolute timeout ends it
 * whatever its activity, and its lease — renewed by each heartbeat — ends it when lost or
 * when failed writes outlast it: clients are told, the browser is closed. The screencast's
 * frame-rate cap holds a frame for the rest of its interval. No timer outlives a session.
 */
import { describe, expect, it } from 'vitest';
import { RecordingMetrics } from '../../shared/metrics/metrics.js';
import { HostedSession } from '../../shared/session/hosted-session.js';
import { newSession, type Session, transitionSession } from '../../shared/session/session.js';
import { type FakeClock, fakeClock } from '../support/fake-clock.js';
import { deferred, FakeArtifacts } from '../support/fakes.js';
import { FakeLauncher, MemorySessionStore, RecordingNotifier } from '../support/session-fakes.js';

const T0 = Date.parse('2026-11-22T10:00:00Z');
const LEASE_MS = 30_000;
const HEARTBEAT_MS = 10_000;
const IDLE_MS = 20_000;
const TIMEOUT_MS = 120_000;

const ok = (out: ReturnType<typeof transitionSession>): Session => {
  if (!out.ok) throw new Error(out.reason);
  return out.session;
};

/** A session claimed by this worker, not yet started; `attached` are known to the connection store. */
const claimOne = (attached: string[] = [], readAttached: () => Promise<string[]> = async () => attached) => {
  const clock = fakeClock(T0);
  const pending = newSession({
    id: 's1',
    tenantId: 't1',
    options: {
      timeoutMs: TIMEOUT_MS,
      idleTimeoutMs: IDLE_MS,
      viewport: { width: 800, height: 600, deviceScaleFactor: 1 },
    },
    now: T0,
  });
  const store = new MemorySessionStore(
    ok(transitionSession(pending, { kind: 'claim', owner: 'w1', leaseMs: LEASE_MS }, T0)),
  );
  const launcher = new FakeLauncher();
  const notifier = new RecordingNotifier();
  const live = deferred();
  const abandoned = deferred();
  const ended = deferred();
  let endedCalls = 0;
  const session = new HostedSession(
    {
      sessions: store,
      launcher,
      notifier,
      connections: { attached: readAttached },
      artifacts: new FakeArtifacts(),
      artifactUrlTtlSeconds: 60,
      clock,
      metrics: new RecordingMetrics(),
      endpoint: () => 'http://127.0.0.1:8090',
      leaseMs: LEASE_MS,
      heartbeatMs: HEARTBEAT_MS,
      log: (event: string) => {
        if (event === 'session live') live.resolve();
        if (event === 'session start abandoned') abandoned.resolve();
        if (event === 'session ended') ended.resolve();
      },
    },
    store.row('s1'),
    () => endedCalls++,
  );
  return {
    clock,
    session,
    store,
    launcher,
    notifier,
    live: live.promise,
    /** Its bring-up is over: it went live, or gave up because the session had ended. */
    startDone: Promise.race([live.promise, abandoned.promise]),
    ended: ended.promise,
    /** Whether the session has ended (told its host) by now. */
    hasEnded: () => endedCalls > 0,
  };
};

/** A session claimed by this worker and brought up live; `attached` are known to the connection store. */
const hostOne = async (attached: string[] = []) => {
  const hosted = claimOne(attached);
  hosted.session.start();
  await hosted.live;
  return hosted;
};

/** Once a session has ended, no timer of its may be left to run. */
const expectNoTimers = (clock: FakeClock) => expect(clock.pending()).toBe(0);

describe('the idle timeout', () => {
  it('with nobody attached, ends the session IDLE_TIMEOUT once the idle timeout has passed, not a tick sooner', async () => {
    const { clock, store, launcher, hasEnded, ended } = await hostOne();
    await clock.advance(IDLE_MS - 1);
    expect(hasEnded()).toBe(false);
    expect(store.row('s1').status).toBe('live');
    await clock.advance(1);
    await ended;
    expectNoTimers(clock);
    expect(store.row('s1')).toMatchObject({ status: 'closed', endReason: { code: 'IDLE_TIMEOUT' } });
    expect(launcher.closed).toEqual(['s1']);
  });

  it('an attached client keeps the session up; the idle timeout counts from its detach', async () => {
    const { clock, session, store, hasEnded, ended, notifier } = await hostOne(['c1']);
    await clock.advance(3 * IDLE_MS);
    expect(hasEnded()).toBe(false);
    session.detach('c1');
    await clock.advance(IDLE_MS - 1);
    expect(hasEnded()).toBe(false);
    await clock.advance(1);
    await ended;
    expectNoTimers(clock);
    expect(store.row('s1').endReason?.code).toBe('IDLE_TIMEOUT');
    // Detached, it is not told: it is no longer the session's client.
    expect(notifier.closedReasonTo('c1')).toBeUndefined();
  });

  it('a CDP client counts as attached until it leaves', async () => {
    const { clock, session, store, hasEnded, ended } = await hostOne();
    session.cdpClient(1);
    await clock.advance(3 * IDLE_MS);
    expect(hasEnded()).toBe(false);
    session.cdpClient(-1);
    await clock.advance(IDLE_MS);
    await ended;
    expectNoTimers(clock);
    expect(store.row('s1').endReason?.code).toBe('IDLE_TIMEOUT');
  });
});

describe('the absolute timeout', () => {
  it('ends the session SESSION_TIMEOUT at its timeout even while a client is attached and sending commands', async () => {
    const { clock, session, store, notifier, launcher, hasEnded, ended } = await hostOne(['c1']);
    const commands = TIMEOUT_MS / IDLE_MS - 1;
    for (let i = 0; i < commands; i++) {
      session.command('c1', {
        action: 'command',
        id: `cmd-${i}`,
        method: 'evaluate',
        params: { expression: '1' },
        timeoutMs: 5_000,
      });
      await clock.advance(IDLE_MS);
    }
    await clock.advance(IDLE_MS - 1);
    expect(hasEnded()).toBe(false);
    expect(notifier.typesTo('c1').filter((type: string) => type === 'result')).toHaveLength(commands);
    await clock.advance(1);
    await ended;
    expectNoTimers(clock);
    expect(store.row('s1')).toMatchObject({ status: 'closed', endReason: { code: 'SESSION_TIMEOUT' } });
    expect(notifier.closedReasonTo('c1')).toBe('SESSION_TIMEOUT');
    expect(launcher.closed).toEqual(['s1']);
  });
});

describe('the lease', () => {
  it('each heartbeat extends the lease on the row', async () => {
    const { clock, store } = await hostOne(['c1']);
    expect(store.row('s1').lease?.expiresAt).toBe(T0 + LEASE_MS);
    await clock.advance(HEARTBEAT_MS);
    expect(store.row('s1').lease?.expiresAt).toBe(T0 + HEARTBEAT_MS + LEASE_MS);
    await clock.advance(HEARTBEAT_MS);
    expect(store.row('s1').lease?.expiresAt).toBe(T0 + 2 * HEARTBEAT_MS + LEASE_MS);
  });

  it('lost (the sweeper ended the row): the next heartbeat stops the session, tells WORKER_LOST, closes the browser, writes nothing', async () => {
    const { clock, store, notifier, launcher, ended } = await hostOne(['c1']);
    store.overwrite(ok(transitionSession(store.row('s1'), { kind: 'expire' }, T0 + LEASE_MS + 1)));
    const swept = store.row('s1');
    await clock.advance(HEARTBEAT_MS);
    await ended;
    expectNoTimers(clock);
    expect(notifier.closedReasonTo('c1')).toBe('WORKER_LOST');
    expect(launcher.closed).toEqual(['s1']);
    expect(store.row('s1')).toEqual(swept);
  });

  it('renewals failing: the session runs on while the lease it holds lasts, and stops once that has run out', async () => {
    const { clock, store, notifier, launcher, hasEnded, ended } = await hostOne(['c1']);
    store.failWhen = () => true;
    // Heartbeats at 10 s and 20 s fail; the lease written when it went live lasts to 30 s.
    await clock.advance(LEASE_MS - 1);
    expect(hasEnded()).toBe(false);
    expect(launcher.closed).toEqual([]);
    await clock.advance(1);
    await ended;
    expectNoTimers(clock);
    expect(notifier.closedReasonTo('c1')).toBe('WORKER_LOST');
    expect(launcher.closed).toEqual(['s1']);
    // Its row is the sweeper's to end: we could not write it.
    expect(store.row('s1').status).toBe('live');
  });
});

describe('an end that lands while the live write is in flight', () => {
  it('nothing is announced live and no timer is left running once the session has ended', async () => {
    const { clock, session, store, notifier, launcher, startDone, ended } = claimOne(['c1']);
    // The live write lands, but its answer is slow: the client's close overtakes it.
    const liveWritten = deferred();
    const answer = deferred();
    store.afterSave = async (next) => {
      if (next.status !== 'live') return;
      liveWritten.resolve();
      await answer.promise;
    };
    session.start();
    await liveWritten.promise;
    await session.end('CLOSED_BY_CLIENT');
    await ended;
    expectNoTimers(clock);
    expect(store.row('s1')).toMatchObject({ status: 'closed', endReason: { code: 'CLOSED_BY_CLIENT' } });
    expect(launcher.closed).toEqual(['s1']);
    answer.resolve();
    await startDone;
    expect(notifier.sent.filter((s) => s.connectionId === 'c1').map((s) => s.message)).toEqual([
      expect.objectContaining({ type: 'status', status: 'closed' }),
      expect.objectContaining({
        type: 'closed',
        reason: expect.objectContaining({ code: 'CLOSED_BY_CLIENT' }),
      }),
    ]);
    expectNoTimers(clock);
  });
});

describe('a command that comes as soon as the row says live', () => {
  it('runs, even while the attached clients are still being read', async () => {
    const reading = deferred();
    let answerRead: (ids: string[]) => void = () => {};
    const { session, store, live } = claimOne([], () => {
      reading.resolve();
      return new Promise<string[]>((resolve) => {
        answerRead = resolve;
      });
    });
    session.start();
    await reading.promise;
    expect(store.row('s1').status).toBe('live');
    const outcome = await session.call({
      action: 'command',
      id: 'cmd-1',
      method: 'evaluate',
      params: { expression: '1' },
      timeoutMs: 5_000,
    });
    expect(outcome).toEqual({ ok: true, result: null });
    answerRead([]);
    await live;
  });
});

describe('the screencast frame-rate cap', () => {
  const watch = {
    action: 'screencast',
    enabled: true,
    quality: 60,
    maxFps: 5,
    maxWidth: 1024,
    maxHeight: 768,
  } as const;
  const FRAME_MS = 1000 / watch.maxFps;
  const frames = (notifier: RecordingNotifier) =>
    notifier.typesTo('c1').filter((type) => type === 'frame').length;

  it('a frame inside the interval is held and sent when the interval is up, not sooner', async () => {
    const { clock, session, notifier } = await hostOne(['c1']);
    session.requestScreencast('c1', watch);
    await clock.advance(0);
    expect(frames(notifier)).toBe(1);
    // Asking again restarts the stream: its first frame comes at once, inside the interval.
    session.requestScreencast('c1', watch);
    await clock.advance(FRAME_MS - 1);
    expect(frames(notifier)).toBe(1);
    await clock.advance(1);
    expect(frames(notifier)).toBe(2);
  });

  it('the session ending drops a held frame and its timer', async () => {
    const { clock, session, notifier, ended } = await hostOne(['c1']);
    session.requestScreencast('c1', watch);
    await clock.advance(0);
    session.requestScreencast('c1', watch);
    await clock.advance(0);
    expect(clock.pending()).toBe(4); // timeout, heartbeat, idle check, the held frame
    await session.end('CLOSED_BY_CLIENT');
    await ended;
    expectNoTimers(clock);
    await clock.advance(FRAME_MS);
    expect(frames(notifier)).toBe(1);
  });

  it('a frame arriving while the session ends (its browser still closing) is neither sent nor held', async () => {
    const { clock, session, notifier, launcher, ended } = await hostOne(['c1']);
    session.requestScreencast('c1', watch);
    await clock.advance(0);
    const closing = deferred();
    const release = deferred();
    launcher.beforeClose = async () => {
      closing.resolve();
      await release.promise;
    };
    const end = session.end('CLOSED_BY_CLIENT');
    await closing.promise;
    session.requestScreencast('c1', watch);
    await clock.advance(0);
    expectNoTimers(clock);
    release.resolve();
    await end;
    await ended;
    await clock.advance(FRAME_MS);
    expect(frames(notifier)).toBe(1);
  });
});
