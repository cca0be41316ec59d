import { describe, expect, it } from 'vitest';
import {
  INBOX_MAX_SKEW_SECONDS,
  INBOX_SIGNATURE_HEADER,
  INBOX_TIMESTAMP_HEADER,
  signInboxCall,
  verifyInboxCall,
} from '../../shared/session/inbox-protocol.js';
import {
  closeReason,
  newSession,
  type Session,
  sessionSweepDueAt,
  transitionSession,
} from '../../shared/session/session.js';
import { issueTicket, verifyTicket } from '../../shared/session/ticket.js';

const T0 = Date.parse('2026-11-22T10:00:00Z');
const options = {
  timeoutMs: 60_000,
  idleTimeoutMs: 10_000,
  viewport: { width: 800, height: 600, deviceScaleFactor: 1 },
};
const pending = (): Session => newSession({ id: 's1', tenantId: 't1', options, now: T0 });

const ok = (out: ReturnType<typeof transitionSession>): Session => {
  if (!out.ok) throw new Error(`refused: ${out.reason}`);
  return out.session;
};

describe('session state machine', () => {
  it('claim takes only a pending session and bumps the fencing token and version', () => {
    const claimed = ok(transitionSession(pending(), { kind: 'claim', owner: 'w1', leaseMs: 5_000 }, T0));
    expect(claimed).toMatchObject({
      status: 'starting',
      leaseToken: 1,
      version: 2,
      lease: { owner: 'w1', expiresAt: T0 + 5_000 },
    });
    expect(transitionSession(claimed, { kind: 'claim', owner: 'w2', leaseMs: 5_000 }, T0)).toEqual({
      ok: false,
      reason: 'not-pending',
    });
  });

  it('only the current token may mark it live, renew or end it', () => {
    const claimed = ok(transitionSession(pending(), { kind: 'claim', owner: 'w1', leaseMs: 5_000 }, T0));
    const stale = { leaseToken: 0, leaseMs: 5_000 };
    expect(transitionSession(claimed, { kind: 'live', endpoint: 'http://x', ...stale }, T0)).toEqual({
      ok: false,
      reason: 'stale-token',
    });
    const live = ok(
      transitionSession(
        claimed,
        { kind: 'live', leaseToken: 1, endpoint: 'http://x', leaseMs: 5_000 },
        T0 + 10,
      ),
    );
    expect(live).toMatchObject({
      status: 'live',
      endpoint: 'http://x',
      liveAt: new Date(T0 + 10).toISOString(),
    });
    expect(transitionSession(live, { kind: 'heartbeat', ...stale }, T0)).toEqual({
      ok: false,
      reason: 'stale-token',
    });
    expect(
      transitionSession(live, { kind: 'end', leaseToken: 0, reason: closeReason('IDLE_TIMEOUT') }, T0),
    ).toEqual({
      ok: false,
      reason: 'stale-token',
    });
  });

  it("ends closed for expected reasons and failed for the platform's own failures, dropping the lease", () => {
    const claimed = ok(transitionSession(pending(), { kind: 'claim', owner: 'w1', leaseMs: 5_000 }, T0));
    const live = ok(
      transitionSession(claimed, { kind: 'live', leaseToken: 1, endpoint: 'http://x', leaseMs: 5_000 }, T0),
    );
    for (const [code, status] of [
      ['IDLE_TIMEOUT', 'closed'],
      ['SESSION_TIMEOUT', 'closed'],
      ['WORKER_SHUTDOWN', 'closed'],
      ['BROWSER_CLOSED', 'closed'],
      ['BROWSER_CRASHED', 'failed'],
      ['START_FAILED', 'failed'],
    ] as const) {
      const ended = ok(
        transitionSession(live, { kind: 'end', leaseToken: 1, reason: closeReason(code) }, T0 + 1),
      );
      expect(ended.status).toBe(status);
      expect(ended.endReason?.code).toBe(code);
      expect(ended.lease).toBeUndefined();
      expect(sessionSweepDueAt(ended)).toBeUndefined();
      expect(transitionSession(ended, { kind: 'close' }, T0)).toEqual({ ok: false, reason: 'already-final' });
    }
  });

  it("a client's close ends it from any open state", () => {
    for (const s of [
      pending(),
      ok(transitionSession(pending(), { kind: 'claim', owner: 'w1', leaseMs: 5_000 }, T0)),
    ]) {
      expect(ok(transitionSession(s, { kind: 'close' }, T0))).toMatchObject({
        status: 'closed',
        endReason: { code: 'CLOSED_BY_CLIENT' },
      });
    }
  });

  it('expire fails a session only once its lease has run out (the worker is gone)', () => {
    const claimed = ok(transitionSession(pending(), { kind: 'claim', owner: 'w1', leaseMs: 5_000 }, T0));
    expect(sessionSweepDueAt(claimed)).toBe(T0 + 5_000);
    expect(transitionSession(claimed, { kind: 'expire' }, T0 + 4_999)).toEqual({
      ok: false,
      reason: 'lease-live',
    });
    expect(ok(transitionSession(claimed, { kind: 'expire' }, T0 + 5_000))).toMatchObject({
      status: 'failed',
      endReason: { code: 'WORKER_LOST' },
    });
    expect(transitionSession(pending(), { kind: 'expire' }, T0 + 60_000)).toEqual({
      ok: false,
      reason: 'not-owned',
    });
    expect(sessionSweepDueAt(pending())).toBe(T0);
  });

  it('gives up on a session no worker took within maxPendingMs of its creation', () => {
    expect(transitionSession(pending(), { kind: 'unplaced', maxPendingMs: 1_000 }, T0 + 999)).toEqual({
      ok: false,
      reason: 'lease-live',
    });
    expect(
      ok(transitionSession(pending(), { kind: 'unplaced', maxPendingMs: 1_000 }, T0 + 1_000)),
    ).toMatchObject({
      status: 'failed',
      endReason: { code: 'NO_CAPACITY' },
    });
    const claimed = ok(transitionSession(pending(), { kind: 'claim', owner: 'w1', leaseMs: 5_000 }, T0));
    expect(transitionSession(claimed, { kind: 'unplaced', maxPendingMs: 0 }, T0 + 9_999)).toEqual({
      ok: false,
      reason: 'not-pending',
    });
  });
});

describe('session tickets', () => {
  const secret = 'k'.repeat(64);
  const now = 1_800_000_000;
  const claims = { sid: 's1', tid: 't1', scope: 'cdp' as const, exp: now + 600 };

  it('verifies its own tickets and refuses tampering, expiry, another scope and garbage', () => {
    const ticket = issueTicket(secret, claims);
    expect(verifyTicket(secret, ticket, { scope: 'cdp', nowSeconds: now })).toEqual({ ok: true, claims });
    const [payload, signature] = ticket.split('.') as [string, string];
    const otherSession = Buffer.from(JSON.stringify({ ...claims, sid: 's2' })).toString('base64url');
    expect(verifyTicket(secret, `${otherSession}.${signature}`, { scope: 'cdp', nowSeconds: now })).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
    expect(verifyTicket('x'.repeat(64), ticket, { scope: 'cdp', nowSeconds: now })).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
    expect(verifyTicket(secret, ticket, { scope: 'cdp', nowSeconds: now + 600 })).toEqual({
      ok: false,
      reason: 'expired',
    });
    expect(verifyTicket(secret, ticket, { scope: 'live', nowSeconds: now })).toEqual({
      ok: false,
      reason: 'wrong-scope',
    });
    // A ticket for one session opens no other.
    expect(verifyTicket(secret, ticket, { scope: 'cdp', nowSeconds: now, sessionId: 's2' })).toEqual({
      ok: false,
      reason: 'other-session',
    });
    expect(verifyTicket(secret, ticket, { scope: 'cdp', nowSeconds: now, sessionId: 's1' }).ok).toBe(true);
    for (const junk of ['', 'a', 'a.b.c', `${payload}.`, '.x']) {
      expect(verifyTicket(secret, junk, { scope: 'cdp', nowSeconds: now }).ok).toBe(false);
    }
  });

  it('signs inbox calls (path, time, body) so only the platform reaches a worker, and only just now', () => {
    const body = JSON.stringify({ tenantId: 't1', message: { kind: 'close' } });
    const call = { path: '/inbox/sessions/s1', body };
    const t = 1_790_000_000;
    const signed = (c = call, key = secret, at = t) => {
      const h = signInboxCall(key, c, at);
      return { signature: h[INBOX_SIGNATURE_HEADER] ?? '', timestamp: h[INBOX_TIMESTAMP_HEADER] ?? '' };
    };
    expect(verifyInboxCall(secret, call, signed(), t)).toBe(true);
    expect(verifyInboxCall(secret, call, signed(), t + INBOX_MAX_SKEW_SECONDS)).toBe(true);
    // Replayed later, moved to another session's path, or with another body or key: refused.
    expect(verifyInboxCall(secret, call, signed(), t + INBOX_MAX_SKEW_SECONDS + 1)).toBe(false);
    expect(verifyInboxCall(secret, { ...call, path: '/inbox/sessions/s2' }, signed(), t)).toBe(false);
    expect(verifyInboxCall(secret, { ...call, body: `${body} ` }, signed(), t)).toBe(false);
    expect(verifyInboxCall(secret, call, signed(call, 'y'.repeat(64)), t)).toBe(false);
    expect(verifyInboxCall(secret, call, { ...signed(), timestamp: String(t + 1) }, t)).toBe(false);
    expect(verifyInboxCall(secret, call, { signature: '', timestamp: '' }, t)).toBe(false);
  });
});
