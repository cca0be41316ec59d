import { describe, expect, it } from 'vitest';
import { TICKET_SECRET } from '../../shared/contracts.js';
import { signInboxCall } from '../../shared/session/inbox-protocol.js';
import { issueTicket } from '../../shared/session/ticket.js';
import {
  CachedTicketKeys,
  type TicketSecretSource,
  type TicketSecretVersions,
  verifyInboxCallWithKeys,
  verifyTicketWithKeys,
} from '../../shared/session/ticket-keys.js';

const OLD = 'o'.repeat(64);
const NEW = 'n'.repeat(64);
const T0 = Date.parse('2026-12-01T00:00:00Z');

/** A secret store whose rotation the test drives, counting reads. */
const rotatingSecret = (clock: { ms: number }) => {
  let versions: TicketSecretVersions = { current: { value: OLD, createdAtMs: T0 - 86_400_000 } };
  let fail = false;
  const source: TicketSecretSource & { reads: number } = {
    reads: 0,
    read: async () => {
      source.reads += 1;
      if (fail) throw new Error('Secrets Manager unavailable');
      return versions;
    },
  };
  return {
    source,
    rotate: () => {
      versions = { current: { value: NEW, createdAtMs: clock.ms }, previous: { value: OLD } };
    },
    failReads: (value: boolean) => {
      fail = value;
    },
  };
};

const setup = () => {
  const clock = { ms: T0 };
  const secret = rotatingSecret(clock);
  const keys = new CachedTicketKeys(secret.source, { now: () => clock.ms });
  return { clock, secret, keys, advance: (s: number) => (clock.ms += s * 1000) };
};

const ticketFor = (key: string, nowMs: number) =>
  issueTicket(key, { sid: 's1', tid: 't1', scope: 'cdp', exp: Math.floor(nowMs / 1000) + 600 });
const expect_ = (nowMs: number) => ({ scope: 'cdp' as const, nowSeconds: Math.floor(nowMs / 1000) });

describe('ticket secret rotation', () => {
  it('reads the secret once per cache period, not per ticket', async () => {
    const { keys, secret, advance } = setup();
    await keys.signingKey();
    await keys.verificationKeys();
    advance(TICKET_SECRET.cacheSeconds - 1);
    await keys.signingKey();
    expect(secret.source.reads).toBe(1);
    advance(1);
    await keys.signingKey();
    expect(secret.source.reads).toBe(2);
  });

  it('a process signs with the new key once its cache expires after a rotation', async () => {
    const { keys, secret, advance } = setup();
    expect(await keys.signingKey()).toBe(OLD);
    secret.rotate();
    expect(await keys.signingKey()).toBe(OLD);
    advance(TICKET_SECRET.cacheSeconds);
    expect(await keys.signingKey()).toBe(NEW);
  });

  it('accepts the previous key inside the rotation window and refuses it after', async () => {
    const { keys, secret, clock, advance } = setup();
    await keys.signingKey();
    secret.rotate();
    const rotatedAt = clock.ms;
    advance(TICKET_SECRET.cacheSeconds);
    // A ticket a not-yet-refreshed signer issued with the old key, just before its cache expired.
    const oldTicket = ticketFor(OLD, clock.ms - 1000);
    expect((await verifyTicketWithKeys(keys, oldTicket, expect_(clock.ms))).ok).toBe(true);
    expect(await keys.verificationKeys()).toEqual([NEW, OLD]);

    // Up to the end of the window, measured from the new version's creation.
    clock.ms = rotatedAt + TICKET_SECRET.previousAcceptedSeconds * 1000 - 1;
    expect(await keys.verificationKeys()).toEqual([NEW, OLD]);
    clock.ms = rotatedAt + TICKET_SECRET.previousAcceptedSeconds * 1000;
    expect(await keys.verificationKeys()).toEqual([NEW]);
    const lateOldTicket = ticketFor(OLD, clock.ms);
    expect(await verifyTicketWithKeys(keys, lateOldTicket, expect_(clock.ms))).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
  });

  it('the window outlasts every ticket and inbox call an old-key signer can still make', () => {
    // Old-key signing lasts up to one cache period; a ticket then lives its TTL; a minute for clocks.
    expect(TICKET_SECRET.previousAcceptedSeconds).toBeGreaterThanOrEqual(
      TICKET_SECRET.cacheSeconds + 600 + 60,
    );
  });

  it('a verifier with a stale cache re-reads once when a ticket is signed with a key it does not know', async () => {
    const { keys, secret, clock, advance } = setup();
    await keys.verificationKeys();
    secret.rotate();
    advance(TICKET_SECRET.refreshFloorSeconds);
    // Another process has the new key already and signs with it.
    const newTicket = ticketFor(NEW, clock.ms);
    expect((await verifyTicketWithKeys(keys, newTicket, expect_(clock.ms))).ok).toBe(true);
    expect(secret.source.reads).toBe(2);

    const call = { path: '/inbox/sessions/s1', body: '{}' };
    const signed = signInboxCall(NEW, call, clock.ms / 1000);
    const headers = {
      timestamp: signed['x-browserfleet-timestamp'] ?? '',
      signature: signed['x-browserfleet-signature'] ?? '',
    };
    expect(await verifyInboxCallWithKeys(keys, call, headers, clock.ms / 1000)).toBe(true);
  });

  it('forged signatures re-read the secret at most once per refresh floor', async () => {
    const { keys, secret, clock, advance } = setup();
    await keys.verificationKeys();
    advance(TICKET_SECRET.refreshFloorSeconds);
    const forged = ticketFor('f'.repeat(64), clock.ms);
    for (let i = 0; i < 20; i += 1) {
      expect((await verifyTicketWithKeys(keys, forged, expect_(clock.ms))).ok).toBe(false);
    }
    expect(secret.source.reads).toBe(2);
    advance(TICKET_SECRET.refreshFloorSeconds);
    await verifyTicketWithKeys(keys, forged, expect_(clock.ms));
    expect(secret.source.reads).toBe(3);
  });

  it('keeps the keys it knows when a re-read fails, and throws only when it never read any', async () => {
    const { keys, secret, advance } = setup();
    secret.failReads(true);
    await expect(keys.signingKey()).rejects.toThrow(/unavailable/);
    secret.failReads(false);
    expect(await keys.signingKey()).toBe(OLD);
    secret.failReads(true);
    advance(TICKET_SECRET.cacheSeconds);
    expect(await keys.signingKey()).toBe(OLD);
  });

  it('concurrent callers share one read', async () => {
    const { keys, secret } = setup();
    await Promise.all([keys.signingKey(), keys.verificationKeys(), keys.signingKey()]);
    expect(secret.source.reads).toBe(1);
  });
});
