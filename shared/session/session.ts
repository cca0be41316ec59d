/**
 * The live Session model and its state machine. Pure: no I/O, no clock of its own.
 *
 *   pending ──claim──► starting ──live──► live ──end──► closed | failed
 *      │                  │                 │
 *      └──close──► closed └──end/close/expire┴──► closed | failed
 *
 * A worker claims a `pending` session with a lease and a fencing token (as with tasks);
 * only the holder of the current token may mark it live, renew the lease or end it. A
 * client's close ends it at once (the owner sees it at its next heartbeat, or sooner
 * through its inbox). A lease that runs out means the worker died with the browser: the
 * sweeper ends the session `failed` with `WORKER_LOST` — a browser can't be moved.
 */

import { sessionEventId, type WebhookOutbox, type WebhookRecord } from '../webhooks/webhook-event.js';

export const SESSION_STATUSES = ['pending', 'starting', 'live', 'closed', 'failed'] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];

const FINAL: ReadonlySet<SessionStatus> = new Set(['closed', 'failed']);
export const isSessionFinal = (status: SessionStatus): boolean => FINAL.has(status);

/** Why a session ended; sent to attached clients and kept on the row. */
export const CLOSE_REASONS = {
  CLOSED_BY_CLIENT: 'The client closed the session.',
  IDLE_TIMEOUT: 'No command and no attached client for the idle timeout.',
  SESSION_TIMEOUT: 'The session reached its absolute timeout.',
  BROWSER_CLOSED: 'The browser was closed (e.g. browser.close() over CDP).',
  BROWSER_CRASHED: 'The browser crashed.',
  WORKER_SHUTDOWN: 'The worker hosting the session shut down.',
  WORKER_LOST: 'The worker hosting the session stopped renewing its lease (it crashed or was stopped).',
  START_FAILED: 'The browser for the session could not be started.',
  NO_CAPACITY: 'No worker had a free session slot in time; try again later.',
} as const;
export type CloseReasonCode = keyof typeof CLOSE_REASONS;

/** Endings that are the platform's failure rather than an expected close. */
const FAILURE_REASONS: ReadonlySet<CloseReasonCode> = new Set([
  'BROWSER_CRASHED',
  'WORKER_LOST',
  'START_FAILED',
  'NO_CAPACITY',
]);

export interface CloseReason {
  code: CloseReasonCode;
  message: string;
}

export const closeReason = (code: CloseReasonCode, message?: string): CloseReason => ({
  code,
  message: message ?? CLOSE_REASONS[code],
});

export interface SessionOptions {
  /** Absolute lifetime from going live, ms. */
  timeoutMs: number;
  /** Ended after this long with no command and no attached client, ms. */
  idleTimeoutMs: number;
  viewport: { width: number; height: number; deviceScaleFactor: number };
  userAgent?: string;
  locale?: string;
  timezoneId?: string;
}

export interface Session {
  id: string;
  tenantId: string;
  status: SessionStatus;
  options: SessionOptions;
  /** ISO-8601 timestamps. */
  createdAt: string;
  updatedAt: string;
  liveAt?: string;
  endedAt?: string;
  /** Fencing token: grows by one on every claim. */
  leaseToken: number;
  version: number;
  lease?: { owner: string; expiresAt: number };
  /** Where the owning worker's inbox and CDP router listen (`http://10.0.1.5:8090`). */
  endpoint?: string;
  /** Epoch ms of the last queue message sent for this session (the sweeper re-sends). */
  enqueuedAt: number;
  endReason?: CloseReason;
  /** Set when the tenant had an endpoint for `session.ended` at create: its delivery record. */
  webhook?: WebhookRecord;
  /** The `session.ended` event, owed from the write that ended the session (see WebhookOutbox). */
  outbox?: WebhookOutbox;
}

export type SessionEvent =
  | { kind: 'claim'; owner: string; leaseMs: number }
  | { kind: 'live'; leaseToken: number; endpoint: string; leaseMs: number }
  | { kind: 'heartbeat'; leaseToken: number; leaseMs: number }
  | { kind: 'end'; leaseToken: number; reason: CloseReason }
  | { kind: 'close' }
  | { kind: 'expire' }
  /** A pending session no worker took within `maxPendingMs` of its creation. */
  | { kind: 'unplaced'; maxPendingMs: number }
  | { kind: 'enqueued' };

export type SessionRefusal = 'already-final' | 'not-pending' | 'stale-token' | 'lease-live' | 'not-owned';

export type SessionOutcome = { ok: true; session: Session } | { ok: false; reason: SessionRefusal };

/**
 * When the sweeper should look at a session: re-send a pending one, expire a dead owner's,
 * relay an ended one's owed webhook event.
 */
export const sessionSweepDueAt = (s: Session): number | undefined => {
  if (s.status === 'pending') return s.enqueuedAt;
  if (s.status === 'starting' || s.status === 'live') return s.lease?.expiresAt ?? 0;
  return s.outbox?.dueAt;
};

/**
 * Which of the sweeper's lists a session is on: open ones by status, and ended ones whose
 * `session.ended` event waits in the outbox under `webhook`. Other ended ones are on none.
 */
export type SessionSweepList = 'pending' | 'starting' | 'live' | 'webhook';

export const sessionSweepListOf = (s: Session): SessionSweepList | undefined => {
  if (!isSessionFinal(s.status)) return s.status as SessionSweepList;
  return s.outbox === undefined ? undefined : 'webhook';
};

/** Sessions that count against the tenant's `maxLiveSessions`. */
export const holdsSlot = (status: SessionStatus | undefined): boolean =>
  status !== undefined && !isSessionFinal(status);

export const transitionSession = (s: Session, event: SessionEvent, now: number): SessionOutcome => {
  if (isSessionFinal(s.status)) return { ok: false, reason: 'already-final' };
  const at = new Date(now).toISOString();
  const next = (changes: Partial<Session>): SessionOutcome => {
    const { lease: _lease, ...rest } = s;
    const base = 'status' in changes && isSessionFinal(changes.status as SessionStatus) ? rest : s;
    return { ok: true, session: { ...base, ...changes, version: s.version + 1, updatedAt: at } };
  };
  const owns = (token: number): SessionRefusal | undefined => {
    if (s.status !== 'starting' && s.status !== 'live') return 'not-owned';
    return s.leaseToken === token ? undefined : 'stale-token';
  };
  // The end event goes in the outbox in the same write as the end: nothing can end a
  // session without its event being owed.
  const ended = (reason: CloseReason): Partial<Session> => ({
    status: FAILURE_REASONS.has(reason.code) ? 'failed' : 'closed',
    endedAt: at,
    endReason: reason,
    ...(s.webhook === undefined
      ? {}
      : { outbox: { eventId: sessionEventId(s.id), type: 'session.ended', dueAt: now } }),
  });

  switch (event.kind) {
    case 'claim':
      if (s.status !== 'pending') return { ok: false, reason: 'not-pending' };
      return next({
        status: 'starting',
        leaseToken: s.leaseToken + 1,
        lease: { owner: event.owner, expiresAt: now + event.leaseMs },
      });
    case 'live': {
      const refused = owns(event.leaseToken);
      if (refused !== undefined) return { ok: false, reason: refused };
      return next({
        status: 'live',
        liveAt: at,
        endpoint: event.endpoint,
        lease: { owner: s.lease?.owner ?? 'unknown', expiresAt: now + event.leaseMs },
      });
    }
    case 'heartbeat': {
      const refused = owns(event.leaseToken);
      if (refused !== undefined) return { ok: false, reason: refused };
      return next({ lease: { owner: s.lease?.owner ?? 'unknown', expiresAt: now + event.leaseMs } });
    }
    case 'end': {
      const refused = owns(event.leaseToken);
      if (refused !== undefined) return { ok: false, reason: refused };
      return next(ended(event.reason));
    }
    case 'close':
      return next(ended(closeReason('CLOSED_BY_CLIENT')));
    case 'expire': {
      if (s.status === 'pending') return { ok: false, reason: 'not-owned' };
      if ((s.lease?.expiresAt ?? 0) > now) return { ok: false, reason: 'lease-live' };
      return next(ended(closeReason('WORKER_LOST')));
    }
    case 'unplaced':
      if (s.status !== 'pending') return { ok: false, reason: 'not-pending' };
      if (Date.parse(s.createdAt) + event.maxPendingMs > now) return { ok: false, reason: 'lease-live' };
      return next(ended(closeReason('NO_CAPACITY')));
    case 'enqueued':
      if (s.status !== 'pending') return { ok: false, reason: 'not-pending' };
      return next({ enqueuedAt: now });
  }
};

export const newSession = (input: {
  id: string;
  tenantId: string;
  options: SessionOptions;
  now: number;
  /** Whether its end is told to the tenant's `session.ended` endpoints. */
  webhook?: boolean;
}): Session => {
  const at = new Date(input.now).toISOString();
  return {
    id: input.id,
    tenantId: input.tenantId,
    status: 'pending',
    options: input.options,
    createdAt: at,
    updatedAt: at,
    leaseToken: 0,
    version: 1,
    enqueuedAt: input.now,
    ...(input.webhook === true ? { webhook: { deliveries: [] } } : {}),
  };
};
