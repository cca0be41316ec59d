/**
 * A hosted session's lease, renewed by its heartbeat. A failed write is retried on the next
 * beat while the lease we hold lasts; past it the sweeper may end the row, so the session
 * is ours no more.
 */
import type { Clock } from '../clock.js';
import type { SessionStore } from './ports.js';
import { type CloseReason, closeReason, type Session } from './session.js';
import { applySessionEvent } from './session-events.js';

export type LeaseRenewal =
  | { kind: 'renewed'; session: Session }
  /** The write failed; the lease still holds, so the next beat tries again. */
  | { kind: 'retry' }
  /** The session is no longer ours to run: stop it, telling clients `reason`. */
  | { kind: 'lost'; reason: CloseReason };

export const renewSessionLease = async (
  deps: {
    sessions: SessionStore;
    clock: Clock;
    leaseMs: number;
    log: (event: string, details: Record<string, unknown>) => void;
  },
  session: Session,
): Promise<LeaseRenewal> => {
  const out = await applySessionEvent(
    deps.sessions,
    session,
    { kind: 'heartbeat', leaseToken: session.leaseToken, leaseMs: deps.leaseMs },
    deps.clock.now,
  ).catch((error: unknown) => {
    deps.log('session heartbeat failed', { sessionId: session.id, error: String(error) });
    return undefined;
  });
  if (out === undefined) {
    // A failed write: the next beat tries again, while the lease we hold lasts. Past it the
    // sweeper may end the row and another worker could claim nothing of ours: stop here.
    const expiresAt = session.lease?.expiresAt ?? 0;
    return expiresAt <= deps.clock.now()
      ? { kind: 'lost', reason: closeReason('WORKER_LOST') }
      : { kind: 'retry' };
  }
  if (out.ok) return { kind: 'renewed', session: out.session };
  // The row moved on without us: closed by its client, or the lease was lost.
  return { kind: 'lost', reason: out.session?.endReason ?? closeReason('WORKER_LOST') };
};
