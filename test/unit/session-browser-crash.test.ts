/**
 * A live session's browser going away on its own: a crash ends the session `failed` with
 * BROWSER_CRASHED and counts one BrowserCrashes (`where: session`); a browser closed over
 * CDP ends it too, but is no crash. The SessionHost with fakes: no AWS, no Chromium.
 */
import { describe, expect, it } from 'vitest';
import { RecordingMetrics } from '../../shared/metrics/metrics.js';
import { type SessionBrowserEvents, SessionHost } from '../../shared/session/host-session.js';
import type { SessionSaveOutcome, SessionStore } from '../../shared/session/ports.js';
import { newSession, type Session } from '../../shared/session/session.js';
import { deferred, FakeArtifacts } from '../support/fakes.js';

const T0 = Date.parse('2026-11-22T10:00:00Z');
const options = {
  timeoutMs: 60_000,
  idleTimeoutMs: 60_000,
  viewport: { width: 800, height: 600, deviceScaleFactor: 1 },
};

/** One session row, written only at the version it was read at (as the DynamoDB store does). */
class OneSessionStore implements SessionStore {
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
    if (current.version !== this.row.version) return { saved: false, current: this.row };
    this.row = next;
    return { saved: true };
  }
}

const hostOneSession = async () => {
  const store = new OneSessionStore(newSession({ id: 's1', tenantId: 't1', options, now: T0 }));
  const metrics = new RecordingMetrics();
  const live = deferred();
  const ended = deferred();
  let events: SessionBrowserEvents | undefined;
  const host = new SessionHost({
    sessions: store,
    launcher: {
      launch: async (_session, e) => {
        events = e;
        return {
          cdpEndpoint: 'ws://127.0.0.1:9/devtools/browser/fake',
          execute: async () => null,
          screenshot: async () => ({ body: new Uint8Array(), contentType: 'image/png' }),
          startScreencast: async () => {},
          stopScreencast: async () => {},
          close: async () => {},
        };
      },
    },
    notifier: { send: async () => true },
    connections: { attached: async () => [] },
    artifacts: new FakeArtifacts(),
    artifactUrlTtlSeconds: 60,
    clock: { now: () => T0 },
    metrics,
    workerId: 'w1',
    endpoint: () => 'http://127.0.0.1:8090',
    leaseMs: 30_000,
    heartbeatMs: 10_000,
    slots: 1,
    log: (event) => {
      if (event === 'session live') live.resolve();
      if (event === 'session ended') ended.resolve();
    },
  });
  expect(await host.start({ sessionId: 's1', tenantId: 't1' }, async () => {})).toBe('started');
  await live.promise;
  return { store, metrics, ended: ended.promise, gone: (why: 'closed' | 'crashed') => events?.onGone(why) };
};

describe('a live session whose browser goes away', () => {
  it('crashed: the session fails with BROWSER_CRASHED and one BrowserCrashes is counted, where: session', async () => {
    const { store, metrics, ended, gone } = await hostOneSession();
    gone('crashed');
    await ended;
    expect(store.row).toMatchObject({ status: 'failed', endReason: { code: 'BROWSER_CRASHED' } });
    expect(metrics.total('BrowserCrashes')).toBe(1);
    expect(metrics.total('BrowserCrashes', { where: 'session' })).toBe(1);
  });

  it('closed over CDP (browser.close()): the session closes and no crash is counted', async () => {
    const { store, metrics, ended, gone } = await hostOneSession();
    gone('closed');
    await ended;
    expect(store.row).toMatchObject({ status: 'closed', endReason: { code: 'BROWSER_CLOSED' } });
    expect(metrics.total('BrowserCrashes')).toBe(0);
  });
});
