/**
 * Session tickets: short-lived, signed capabilities for one session, carried in a URL where
 * a header can't be (`puppeteer.connect({ browserWSEndpoint })`, the live-view page's
 * WebSocket). `<payload>.<signature>`, both base64url; the signature is HMAC-SHA256 over
 * the payload with the deployment's ticket secret. Verified in constant time.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { SESSIONS } from '../contracts.js';

export type TicketScope = 'cdp' | 'live';

export interface TicketClaims {
  /** Session id. */
  sid: string;
  /** Tenant id. */
  tid: string;
  scope: TicketScope;
  /** Epoch seconds. */
  exp: number;
}

/** HMAC-SHA256 of `data`, base64url. */
export const sign = (secret: string, data: string): string =>
  createHmac('sha256', secret).update(data).digest('base64url');

/**
 * Whether `signature` is `data` signed with one of `secrets` (during a rotation, the
 * current key and the one it replaced). Each comparison is constant-time.
 */
export const signedWithOneOf = (
  secrets: string | readonly string[],
  data: string,
  signature: string,
): boolean => {
  const got = Buffer.from(signature);
  return (typeof secrets === 'string' ? [secrets] : secrets).some((secret) => {
    const want = Buffer.from(sign(secret, data));
    return want.length === got.length && timingSafeEqual(want, got);
  });
};

export const issueTicket = (secret: string, claims: TicketClaims): string => {
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${payload}.${sign(secret, payload)}`;
};

/**
 * A session's ticket for `scope`, valid for SESSIONS.ticketTtlSeconds from `nowMs`, and when
 * it expires (epoch seconds).
 */
export const issueSessionTicket = (
  secret: string,
  session: { id: string; tenantId: string },
  scope: TicketScope,
  nowMs: number,
): { ticket: string; exp: number } => {
  const exp = Math.floor(nowMs / 1000) + SESSIONS.ticketTtlSeconds;
  return { ticket: issueTicket(secret, { sid: session.id, tid: session.tenantId, scope, exp }), exp };
};

export type TicketCheck =
  | { ok: true; claims: TicketClaims }
  | { ok: false; reason: 'malformed' | 'bad-signature' | 'expired' | 'wrong-scope' | 'other-session' };

export const verifyTicket = (
  /** The key, or the keys accepted now (see ticket-keys.ts). */
  secrets: string | readonly string[],
  ticket: string,
  /** `sessionId`: the session the ticket must be for (a URL's, say). */
  expected: { scope: TicketScope; nowSeconds: number; sessionId?: string },
): TicketCheck => {
  const [payload, signature, extra] = ticket.split('.');
  if (payload === undefined || signature === undefined || extra !== undefined)
    return { ok: false, reason: 'malformed' };
  if (!signedWithOneOf(secrets, payload, signature)) return { ok: false, reason: 'bad-signature' };
  let claims: TicketClaims;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as TicketClaims;
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (typeof claims.exp !== 'number' || typeof claims.sid !== 'string' || typeof claims.tid !== 'string') {
    return { ok: false, reason: 'malformed' };
  }
  if (claims.scope !== expected.scope) return { ok: false, reason: 'wrong-scope' };
  if (claims.exp <= expected.nowSeconds) return { ok: false, reason: 'expired' };
  if (expected.sessionId !== undefined && claims.sid !== expected.sessionId) {
    return { ok: false, reason: 'other-session' };
  }
  return { ok: true, claims };
};
