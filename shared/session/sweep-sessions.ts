import type { Clock } from '../clock.js';
import type { SessionMessage } from '../task/ports.js';
import { applySessionEvent, tellEnded } from './manage-sessions.js';
import type { ConnectionNotifier, ConnectionStore, SessionStore } from './ports.js';

export interface SweepSessionsDeps {
  sessions: SessionStore;
  sessionQueue: { send(message: SessionMessage): Promise<void> };
  connections: ConnectionStore;
  notifier: ConnectionNotifier;
  clock: Clock;
  /** A pending session whose message should have been taken this long ago gets a new one. */
  resendAfterMs: number;
  batchSize?: number;
}

export interface SweepSessionsReport {
  /** Sessions whose worker stopped renewing the lease, ended `failed` with `WORKER_LOST`. */
  lost: number;
  /** Pending sessions that got a fresh queue message. */
  resent: number;
}

/**
 * The sessions' half of the sweeper. A session's browser dies with its worker, so an
 * expired lease ends the session (`failed`, `WORKER_LOST`) and its attached clients are
 * told why; a pending session whose message went missing gets a new one.
 */
export const sweepSessions = async (deps: SweepSessionsDeps): Promise<SweepSessionsReport> => {
  const now = deps.clock.now();
  const limit = deps.batchSize ?? 100;
  const report: SweepSessionsReport = { lost: 0, resent: 0 };
  for (const status of ['starting', 'live'] as const) {
    for (const s of await deps.sessions.listDue(status, now, limit)) {
      const out = await applySessionEvent(deps.sessions, s, { kind: 'expire' }, deps.clock.now);
      if (!out.ok) continue;
      report.lost++;
      await tellEnded(deps, out.session).catch(() => {});
    }
  }
  for (const s of await deps.sessions.listDue('pending', now - deps.resendAfterMs, limit)) {
    const out = await applySessionEvent(deps.sessions, s, { kind: 'enqueued' }, deps.clock.now);
    if (!out.ok) continue;
    await deps.sessionQueue.send({ sessionId: s.id, tenantId: s.tenantId });
    report.resent++;
  }
  return report;
};
