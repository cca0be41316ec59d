/**
 * The worker's session host with fakes (no AWS, no Chromium): what it counts as a session
 * goes live, runs commands, streams frames and ends; and a session's browser going away on
 * its own — a crash ends the session `failed` with BROWSER_CRASHED and counts one
 * BrowserCrashes (`where: session`); a browser closed over CDP ends it too, but is no crash.
 */
import { describe, expect, it } from 'vitest';
import { RecordingMetrics } from '../../shared/metrics/metrics.js';
import { SessionHost } from '../../shared/session/host-session.js';
import type {
  ServerMessage,
  SessionBrowser,
  SessionBrowserEvents,
  SessionSaveOutcome,
  SessionStore,
} from '../../shared/session/ports.js';
import { newSession, type Session, transitionSession } from '../../shared/session/session.js';
import type { CommandMethod, InboxMessage } from '../../shared/session/session-input.js';
import { fakeClock } from '../support/fake-clock.js';
import { deferred, FakeArtifacts } from '../support/fakes.js';

const T0 = Date.parse('2026-11-22T10:00:00Z');
const LEASE_MS = 30_000;
const options = {
  // Past the 90 s the metrics test runs for: it ends the session itself.
  timeoutMs: 120_000,
  idleTimeoutMs: 60_000,
  viewport: { width: 800, height: 600, deviceScaleFactor: 1 },
};

/** A session browser that answers every command with `null` and sends one frame per start. */
const fakeBrowser = (now: () => number): SessionBrowser => ({
  cdpEndpoint: 'ws://127.0.0.1:9/devtools/browser/fake',
  downloadDir: '/nonexistent/downloads',
  execute: async () => null,
  screenshot: async () => ({ body: new Uint8Array(), contentType: 'image/png' }),
  downloads: async () => [],
  readDownload: async () => new Uint8Array(),
  startScreencast: async (_options, onFrame) => {
    onFrame({ data: 'AAAA', width: 800, height: 600, timestamp: now() / 1000 });
  },
  stopScreencast: async () => {},
  close: async () => {},
});

/** One session row, written only at the version it was read at (as the DynamoDB store does). */
class OneSessionStore implements SessionStore {
  /** A write this answers `true` for fails as DynamoDB does when throttled past the SDK's retries. */
  failWhen: (next: Session) => boolean = () => false;
  constructor(public row: Session) {}
  async create(): Promise<void> {
    throw new Error('not used by the host');
  }
  async list(): Promise<Session[]> {
    throw new Error('not used by the host');
  }
  async listDue(): Promise<Session[]> {
    throw new Error('not used by the host');
  }
  async liveCount(): Promise<number> {
    throw new Error('not used by the host');
  }
  async get(): Promise<Session | undefined> {
    return this.row;
  }
  async save(next: Session, current: Session): Promise<SessionSaveOutcome> {
    if (this.failWhen(next)) {
      throw Object.assign(new Error('Rate of requests exceeds the allowed throughput.'), {
        name: 'ThrottlingException',
      });
    }
    if (current.version !== this.row.version) return { saved: false, current: this.row };
    this.row = next;
    return { saved: true };
  }
}

const hostOneSession = async (setup: { failWhen?: (next: Session) => boolean; awaitLive?: boolean } = {}) => {
  const store = new OneSessionStore(newSession({ id: 's1', tenantId: 't1', options, now: T0 }));
  if (setup.failWhen !== undefined) store.failWhen = setup.failWhen;
  const metrics = new RecordingMetrics();
  const clock = fakeClock(T0);
  const sent: { connectionId: string; message: ServerMessage }[] = [];
  const answered = new Map<string, () => void>();
  const live = deferred();
  const ended = deferred();
  let events: SessionBrowserEvents | undefined;
  const host = new SessionHost({
    sessions: store,
    launcher: {
      launch: async (_session, e) => {
        events = e;
        return fakeBrowser(clock.now);
      },
    },
    notifier: {
      send: async (connectionId, message) => {
        sent.push({ connectionId, message });
        answered.get(message.type)?.();
        return true;
      },
    },
    connections: { attached: async () => ['c1'] },
    artifacts: new FakeArtifacts(),
    artifactUrlTtlSeconds: 60,
    clock,
    metrics,
    workerId: 'w1',
    endpoint: () => 'http://127.0.0.1:8090',
    leaseMs: LEASE_MS,
    heartbeatMs: 10_000,
    slots: 1,
    log: (event) => {
      if (event === 'session live') live.resolve();
      if (event === 'session ended') ended.resolve();
    },
  });
  expect(await host.start({ sessionId: 's1', tenantId: 't1' }, async () => {})).toBe('started');
  if (setup.awaitLive !== false) await live.promise;
  /** The first message of this type sent to a client from now on. */
  const nextSent = (type: string) =>
    new Promise<void>((resolve) => {
      answered.set(type, resolve);
    });
  return {
    host,
    store,
    metrics,
    sent,
    nextSent,
    clock,
    ended: ended.promise,
    gone: (why: 'closed' | 'crashed') => events?.onGone(why),
  };
};

describe('a session whose DynamoDB writes fail', () => {
  it('the live write throttled: the session ends START_FAILED, its client is told, nothing escapes', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const { store, sent, ended } = await hostOneSession({
        failWhen: (next) => next.status === 'live',
        awaitLive: false,
      });
      await ended;
      expect(store.row).toMatchObject({ status: 'failed', endReason: { code: 'START_FAILED' } });
      expect(sent.filter((m) => m.message.type === 'closed').map((m) => m.connectionId)).toEqual(['c1']);
      await new Promise((r) => setImmediate(r));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('heartbeats failing past the lease: the host stops the session rather than run it unowned', async () => {
    let failing = false;
    const { ended, clock, host } = await hostOneSession({ failWhen: () => failing });
    failing = true;
    // Heartbeats at 10 s and 20 s fail and are retried; at 30 s the lease we hold has run out.
    await clock.advance(LEASE_MS - 1);
    expect(host.isHosted('s1')).toBe(true);
    await clock.advance(1);
    await ended;
    expect(host.isHosted('s1')).toBe(false);
    expect(clock.pending()).toBe(0);
  });
});

describe('a live session whose browser goes away', () => {
  it('crashed: the session fails with BROWSER_CRASHED and one BrowserCrashes is counted, where: session', async () => {
    const { store, metrics, ended, gone, clock } = await hostOneSession();
    gone('crashed');
    await ended;
    expect(clock.pending()).toBe(0);
    expect(store.row).toMatchObject({ status: 'failed', endReason: { code: 'BROWSER_CRASHED' } });
    expect(metrics.total('BrowserCrashes')).toBe(1);
    expect(metrics.total('BrowserCrashes', { where: 'session' })).toBe(1);
  });

  it('closed over CDP (browser.close()): the session closes and no crash is counted', async () => {
    const { store, metrics, ended, gone, clock } = await hostOneSession();
    gone('closed');
    await ended;
    expect(clock.pending()).toBe(0);
    expect(store.row).toMatchObject({ status: 'closed', endReason: { code: 'BROWSER_CLOSED' } });
    expect(metrics.total('BrowserCrashes')).toBe(0);
  });
});

/** A client's command, as the inbox hands it to the host. */
const command = (id: string, method: CommandMethod, params: Record<string, unknown>): InboxMessage => ({
  kind: 'command',
  connectionId: 'c1',
  command: { action: 'command', id, method, params, timeoutMs: 5_000 },
});

describe('session metrics', () => {
  it('counts a session going live, its commands and their latency, screencast frames, and its end with its minutes', async () => {
    const { host, metrics, sent, nextSent, clock, ended } = await hostOneSession();
    expect(metrics.total('SessionsLive')).toBe(1);

    const result = nextSent('result');
    host.deliver('s1', 't1', command('1', 'evaluate', { expression: '1' }));
    await result;
    const error = nextSent('error');
    host.deliver('s1', 't1', command('2', 'navigate', { url: 'file:///x' }));
    await error;
    expect(metrics.total('SessionCommands', { method: 'evaluate', outcome: 'ok' })).toBe(1);
    expect(metrics.total('SessionCommands', { method: 'navigate', outcome: 'error' })).toBe(1);
    expect(metrics.calls.filter((c) => c.name === 'SessionCommandMs')).toHaveLength(1);

    const frame = nextSent('frame');
    host.deliver('s1', 't1', {
      kind: 'screencast',
      connectionId: 'c1',
      screencast: {
        action: 'screencast',
        enabled: true,
        quality: 60,
        maxFps: 5,
        maxWidth: 1024,
        maxHeight: 768,
      },
    });
    await frame;
    expect(metrics.total('ScreencastFrames')).toBe(1);
    expect(sent.find((s) => s.message.type === 'frame')?.connectionId).toBe('c1');

    await clock.advance(90_000);
    expect(metrics.total('SessionsEnded')).toBe(0);
    host.deliver('s1', 't1', { kind: 'close' });
    await ended;
    expect(clock.pending()).toBe(0);
    expect(metrics.total('SessionsEnded', { reason: 'CLOSED_BY_CLIENT' })).toBe(1);
    expect(metrics.total('SessionMinutes')).toBeCloseTo(1.5, 2);
  });

  it("answers nothing for another tenant's session", async () => {
    const { host } = await hostOneSession();
    expect(host.deliver('s1', 'someone-else', { kind: 'close' })).toBe(false);
    expect(host.deliver('s1', 't1', { kind: 'detach', connectionId: 'c1' })).toBe(true);
  });
});

describe('a session closed before it went live', () => {
  const hostWith = (store: OneSessionStore, launch: () => Promise<void>, slots = 0) => {
    const sent: { connectionId: string; type: string; code?: string }[] = [];
    const done = deferred();
    const host = new SessionHost({
      sessions: store,
      launcher: {
        launch: async () => {
          await launch();
          return fakeBrowser(() => T0);
        },
      },
      notifier: {
        send: async (connectionId, message) => {
          sent.push({
            connectionId,
            type: message.type,
            ...(message.type === 'closed' ? { code: message.reason.code } : {}),
          });
          if (message.type === 'closed') done.resolve();
          return true;
        },
      },
      // The client attached while the session waited: only the connection store knows.
      connections: { attached: async () => ['c9'] },
      artifacts: new FakeArtifacts(),
      artifactUrlTtlSeconds: 60,
      clock: fakeClock(T0),
      metrics: new RecordingMetrics(),
      workerId: 'w1',
      endpoint: () => 'http://127.0.0.1:8090',
      leaseMs: 30_000,
      heartbeatMs: 10_000,
      slots,
      log: () => {},
    });
    return { host, sent, told: done.promise };
  };

  it('while pending: the worker that receives its start message tells the attached client, even with no free slot', async () => {
    const pending = newSession({ id: 's1', tenantId: 't1', options, now: T0 });
    const out = transitionSession(pending, { kind: 'close' }, T0 + 1);
    if (!out.ok) throw new Error(out.reason);
    const store = new OneSessionStore(out.session);
    const { host, sent, told } = hostWith(store, async () => {});
    expect(await host.start({ sessionId: 's1', tenantId: 't1' }, async () => {})).toBe('not-claimable');
    await told;
    expect(sent).toEqual([
      { connectionId: 'c9', type: 'status' },
      { connectionId: 'c9', type: 'closed', code: 'CLOSED_BY_CLIENT' },
    ]);
  });

  it('while starting: the worker finds the row closed when it would mark it live, and tells the attached client', async () => {
    const store = new OneSessionStore(newSession({ id: 's1', tenantId: 't1', options, now: T0 }));
    const launching = deferred();
    const release = deferred();
    const { host, sent, told } = hostWith(
      store,
      async () => {
        launching.resolve();
        await release.promise;
      },
      1,
    );
    expect(await host.start({ sessionId: 's1', tenantId: 't1' }, async () => {})).toBe('started');
    await launching.promise;
    // The client closes it while its browser starts.
    const out = transitionSession(store.row, { kind: 'close' }, T0 + 1);
    if (!out.ok) throw new Error(out.reason);
    store.row = { ...out.session, version: store.row.version + 1 };
    release.resolve();
    await told;
    expect(sent).toContainEqual({ connectionId: 'c9', type: 'closed', code: 'CLOSED_BY_CLIENT' });
    expect(store.row.status).toBe('closed');
  });
});

describe('a command called over the inbox', () => {
  it("runs on the tenant's session hosted here, answered to the caller; none elsewhere", async () => {
    const { host, sent } = await hostOneSession();
    const command = {
      action: 'command' as const,
      id: 'call-1',
      method: 'back' as const,
      params: {},
      timeoutMs: 1_000,
    };
    expect(await host.call('s1', 't1', command)).toEqual({ ok: true, result: null });
    expect(await host.call('s1', 't1', { ...command, method: 'press' })).toMatchObject({
      ok: false,
      error: { code: 'VALIDATION_FAILED' },
    });
    // Not hosted here, or another tenant's: no command runs, and the inbox answers 404.
    expect(host.call('s2', 't1', command)).toBeUndefined();
    expect(host.call('s1', 't2', command)).toBeUndefined();
    // Its answer went to the caller only: no client was sent a result.
    expect(sent.filter((m) => m.message.type === 'result' || m.message.type === 'error')).toEqual([]);
  });
});
