/**
 * A session command called in one request (the MCP server's tools), on memory fakes: it is
 * checked by the WebSocket edge's own schema before anything reaches a worker, only the
 * tenant's own live session is called (another tenant's reads as missing), and what the
 * worker answered comes back as it was.
 */
import { describe, expect, it } from 'vitest';
import { BrowserfleetError } from '../../shared/errors.js';
import { newSession, type Session, transitionSession } from '../../shared/session/session.js';
import { callSessionCommand } from '../../shared/session/session-calls.js';
import { MemorySessionStore, RecordingInbox } from '../support/session-fakes.js';

const ENDPOINT = 'http://10.0.1.5:8090';
const T0 = Date.parse('2026-12-01T00:00:00Z');

const pending = (id: string, tenantId = 't1'): Session =>
  newSession({
    id,
    tenantId,
    options: {
      timeoutMs: 60_000,
      idleTimeoutMs: 60_000,
      viewport: { width: 800, height: 600, deviceScaleFactor: 1 },
    },
    now: T0,
  });

const live = (s: Session): Session => {
  const claimed = transitionSession(s, { kind: 'claim', owner: 'w1', leaseMs: 30_000 }, T0);
  if (!claimed.ok) throw new Error(claimed.reason);
  const up = transitionSession(
    claimed.session,
    { kind: 'live', leaseToken: claimed.session.leaseToken, endpoint: ENDPOINT, leaseMs: 30_000 },
    T0,
  );
  if (!up.ok) throw new Error(up.reason);
  return up.session;
};

const setup = (...rows: Session[]) => {
  const inbox = new RecordingInbox();
  let n = 0;
  const deps = { sessions: new MemorySessionStore(...rows), inbox, newId: () => `cmd-${++n}` };
  return { deps, inbox };
};

const refusal = async (work: Promise<unknown>): Promise<BrowserfleetError> => {
  try {
    await work;
  } catch (error) {
    if (error instanceof BrowserfleetError) return error;
    throw error;
  }
  throw new Error('accepted');
};

describe('callSessionCommand', () => {
  it("calls the worker that hosts the tenant's live session and answers what the command answered", async () => {
    const { deps, inbox } = setup(live(pending('s1')));
    inbox.answer = async (command) => ({ ok: true, result: { echoed: command.params } });
    const outcome = await callSessionCommand(deps, {
      tenantId: 't1',
      sessionId: 's1',
      method: 'navigate',
      params: { url: 'https://example.test/' },
      timeoutMs: 5_000,
    });
    expect(outcome).toEqual({ ok: true, result: { echoed: { url: 'https://example.test/' } } });
    expect(inbox.calls).toEqual([
      {
        endpoint: ENDPOINT,
        sessionId: 's1',
        tenantId: 't1',
        command: {
          action: 'command',
          id: 'cmd-1',
          method: 'navigate',
          params: { url: 'https://example.test/' },
          timeoutMs: 5_000,
        },
      },
    ]);
  });

  it("answers a command's own failure as its outcome, not as a throw", async () => {
    const { deps, inbox } = setup(live(pending('s1')));
    inbox.answer = async () => ({ ok: false, error: { code: 'STALE_REF', message: 'Ref e3 names…' } });
    expect(
      await callSessionCommand(deps, {
        tenantId: 't1',
        sessionId: 's1',
        method: 'click',
        params: { ref: 'e3' },
      }),
    ).toEqual({ ok: false, error: { code: 'STALE_REF', message: 'Ref e3 names…' } });
    // The default timeout, as a WebSocket command's.
    expect(inbox.calls[0]?.command.timeoutMs).toBe(30_000);
  });

  it('refuses a bad param or method at params.<field>, before reaching any worker', async () => {
    const { deps, inbox } = setup(live(pending('s1')));
    const bad = await refusal(
      callSessionCommand(deps, {
        tenantId: 't1',
        sessionId: 's1',
        method: 'snapshot',
        params: { maxChars: 10 },
      }),
    );
    expect(bad.code).toBe('VALIDATION_FAILED');
    expect(bad.message).toMatch(/^params\.maxChars: /);
    const both = await refusal(
      callSessionCommand(deps, {
        tenantId: 't1',
        sessionId: 's1',
        method: 'fill',
        params: { selector: '#a', ref: 'e1', value: 'x' },
      }),
    );
    expect(both.message).toBe('params: give exactly one of selector and ref');
    const method = await refusal(
      callSessionCommand(deps, { tenantId: 't1', sessionId: 's1', method: 'rm -rf' }),
    );
    expect(method.code).toBe('VALIDATION_FAILED');
    expect(method.message).toMatch(/^method: /);
    const timeout = await refusal(
      callSessionCommand(deps, { tenantId: 't1', sessionId: 's1', method: 'back', timeoutMs: 600_000 }),
    );
    expect(timeout.message).toMatch(/^timeoutMs: /);
    expect(inbox.calls).toEqual([]);
  });

  it("answers NOT_FOUND for a missing session and for another tenant's, the same way", async () => {
    const { deps, inbox } = setup(live(pending('s1', 'other')));
    const theirs = await refusal(
      callSessionCommand(deps, { tenantId: 't1', sessionId: 's1', method: 'back' }),
    );
    const missing = await refusal(
      callSessionCommand(deps, { tenantId: 't1', sessionId: 's2', method: 'back' }),
    );
    expect([theirs.code, missing.code]).toEqual(['NOT_FOUND', 'NOT_FOUND']);
    expect(theirs.message).toBe('Session s1 not found.');
    expect(inbox.calls).toEqual([]);
  });

  it('answers SESSION_NOT_LIVE for a session still starting or already ended', async () => {
    const ended = transitionSession(pending('s2'), { kind: 'close' }, T0);
    if (!ended.ok) throw new Error(ended.reason);
    const { deps, inbox } = setup(pending('s1'), ended.session);
    const starting = await refusal(
      callSessionCommand(deps, { tenantId: 't1', sessionId: 's1', method: 'back' }),
    );
    expect(starting.code).toBe('SESSION_NOT_LIVE');
    expect(starting.message).toBe('Session s1 is pending.');
    const closed = await refusal(
      callSessionCommand(deps, { tenantId: 't1', sessionId: 's2', method: 'back' }),
    );
    expect(closed.code).toBe('SESSION_NOT_LIVE');
    expect(inbox.calls).toEqual([]);
  });

  it("passes the inbox's own errors on (a worker that is gone)", async () => {
    const { deps, inbox } = setup(live(pending('s1')));
    inbox.failWith = new BrowserfleetError(
      'SESSION_UNREACHABLE',
      'The worker hosting the session did not answer.',
    );
    const error = await refusal(
      callSessionCommand(deps, { tenantId: 't1', sessionId: 's1', method: 'back' }),
    );
    expect(error.code).toBe('SESSION_UNREACHABLE');
  });
});
