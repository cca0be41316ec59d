/**
 * What every session writer shares, whichever side it runs on (the APIs, the worker's host,
 * the sweeper): read a tenant's own session, apply a state-machine event to its row at the
 * version read (re-deciding on a lost race), and tell attached clients that it ended.
 */
import { BrowserfleetError, ERROR_CODES } from '../errors.js';
import { isIdShaped, notFound } from '../ids.js';
import type { ConnectionNotifier, ConnectionStore, SessionStore } from './ports.js';
import { type Session, type SessionEvent, type SessionRefusal, transitionSession } from './session.js';

/** `SESSION_NOT_LIVE` for a session that isn't (yet, or any more), with its end reason. */
export const notLive = (s: Session): BrowserfleetError =>
  new BrowserfleetError(
    ERROR_CODES.SESSION_NOT_LIVE,
    s.endReason === undefined
      ? `Session ${s.id} is ${s.status}.`
      : `Session ${s.id} is ${s.status}: ${s.endReason.code} (${s.endReason.message})`,
  );

/** The tenant's session `sessionId`; a malformed id, a missing row and another tenant's are `NOT_FOUND`. */
export const requireSession = async (
  sessions: SessionStore,
  tenantId: string,
  sessionId: string,
): Promise<Session> => {
  if (!isIdShaped(sessionId)) throw notFound('Session', sessionId);
  const found = await sessions.get(tenantId, sessionId);
  if (found === undefined) throw notFound('Session', sessionId);
  return found;
};

/** Lost races in a row before giving up. */
const MAX_CONFLICTS = 8;

export type SessionApplyOutcome =
  | { ok: true; session: Session }
  | { ok: false; reason: SessionRefusal | 'missing'; session: Session | undefined };

/** The state machine decides, the store writes on the version; a lost race re-decides. */
export const applySessionEvent = async (
  store: SessionStore,
  from: Session,
  event: SessionEvent,
  now: () => number,
): Promise<SessionApplyOutcome> => {
  let current = from;
  for (let i = 0; i < MAX_CONFLICTS; i++) {
    const out = transitionSession(current, event, now());
    if (!out.ok) return { ok: false, reason: out.reason, session: current };
    const saved = await store.save(out.session, current);
    if (saved.saved) return { ok: true, session: out.session };
    if ('quotaExceeded' in saved || saved.current === undefined) {
      return { ok: false, reason: 'missing', session: undefined };
    }
    current = saved.current;
  }
  throw new BrowserfleetError(ERROR_CODES.CONFLICT, `Session ${from.id} kept changing under ${event.kind}.`, {
    retryable: true,
  });
};

/** Tells every connection attached to an ended session why it ended. */
export const tellEnded = async (
  deps: { connections: Pick<ConnectionStore, 'attached'>; notifier: ConnectionNotifier },
  s: Session,
): Promise<void> => {
  if (s.endReason === undefined) return;
  const reason = s.endReason;
  const attached = await deps.connections.attached(s.tenantId, s.id);
  await Promise.all(
    attached.map(async (connectionId) => {
      await deps.notifier.send(connectionId, { type: 'status', sessionId: s.id, status: s.status, reason });
      await deps.notifier.send(connectionId, { type: 'closed', sessionId: s.id, reason });
    }),
  );
};
