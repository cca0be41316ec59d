import type { Clock } from '../clock.js';
import type { SessionMessage } from '../core/fleet-queue.js';
import type { WebhookQueue } from '../webhooks/ports.js';
import { updateEndedRow } from '../webhooks/update-ended-row.js';
import type { ConnectionNotifier, ConnectionStore, SessionStore } from './ports.js';
import { applySessionEvent, tellEnded } from './session-events.js';

export interface SweepSessionsDeps {
  sessions: SessionStore;
  sessionQueue: { send(message: SessionMessage): Promise<void> };
  connections: ConnectionStore;
  notifier: ConnectionNotifier;
  clock: Clock;
  /** A pending session whose message should have been taken this long ago gets a new one. */
  resendAfterMs: number;
  /** A session still pending this long after its creation ends `failed` (`NO_CAPACITY`). */
  maxPendingMs: number;
  /** Where ended sessions' `session.ended` events go (the outbox's relay); unset: they stay owed. */
  webhooks?: WebhookQueue;
  batchSize?: number;
  /** A row whose sweep failed; the next sweep tries it again. */
  onError?: (sessionId: string, error: unknown) => void;
}

export interface SweepSessionsReport {
  /** Sessions whose worker stopped renewing the lease, ended `failed` with `WORKER_LOST`. */
  lost: number;
  /** Pending sessions that got a fresh queue message. */
  resent: number;
  /** Pending sessions no worker took in time. */
  unplaced: number;
  /** `session.ended` events handed from a session's outbox to the webhook queue. */
  webhooksSent: number;
  /** Rows whose sweep failed this run; each is tried again next run, the others went on. */
  errors: number;
}

/**
 * The sessions' half of the sweeper. A session's browser dies with its worker, so an
 * expired lease ends the session (`failed`, `WORKER_LOST`) and its attached clients are
 * told why; a pending session whose message went missing gets a new one, and one that no
 * worker took within `maxPendingMs` ends `failed` with `NO_CAPACITY`. An ended session's
 * owed `session.ended` event is relayed to the webhook queue as a task's end event is.
 */
export const sweepSessions = async (deps: SweepSessionsDeps): Promise<SweepSessionsReport> => {
  const now = deps.clock.now();
  const limit = deps.batchSize ?? 100;
  const report: SweepSessionsReport = {
    lost: 0,
    resent: 0,
    unplaced: 0,
    webhooksSent: 0,
    errors: 0,
  };
  // One row's failure must not leave every row after it unswept.
  const each = async (s: { id: string }, sweep: () => Promise<void>) => {
    try {
      await sweep();
    } catch (error) {
      report.errors++;
      deps.onError?.(s.id, error);
    }
  };
  for (const status of ['starting', 'live'] as const) {
    for (const s of await deps.sessions.listDue(status, now, limit)) {
      await each(s, async () => {
        const out = await applySessionEvent(deps.sessions, s, { kind: 'expire' }, deps.clock.now);
        if (!out.ok) return;
        report.lost++;
        // Telling clients is best effort: the row already says how it ended, which they read.
        await tellEnded(deps, out.session).catch(() => {});
      });
    }
  }
  for (const s of await deps.sessions.listDue('pending', now - deps.resendAfterMs, limit)) {
    await each(s, async () => {
      // Waited too long for a slot: end it with a reason rather than leave it pending forever.
      const gaveUp = await applySessionEvent(
        deps.sessions,
        s,
        { kind: 'unplaced', maxPendingMs: deps.maxPendingMs },
        deps.clock.now,
      );
      if (gaveUp.ok) {
        report.unplaced++;
        // Best effort, as above: the row is the answer.
        await tellEnded(deps, gaveUp.session).catch(() => {});
        return;
      }
      const out = await applySessionEvent(deps.sessions, s, { kind: 'enqueued' }, deps.clock.now);
      if (!out.ok) return;
      await deps.sessionQueue.send({ sessionId: s.id, tenantId: s.tenantId });
      report.resent++;
    });
  }
  const webhooks = deps.webhooks;
  if (webhooks !== undefined) {
    for (const s of await deps.sessions.listDue('webhook', deps.clock.now(), limit)) {
      await each(s, async () => {
        // The outbox relay, as sweep-tasks.ts's: move the due time a resend window on,
        // then send; the deliverer removes the entry when it takes the message.
        const at = deps.clock.now();
        const written = await updateEndedRow(deps.sessions, s, (row) =>
          row.outbox === undefined || row.outbox.dueAt > at
            ? undefined
            : { ...row, outbox: { ...row.outbox, dueAt: at + deps.resendAfterMs } },
        );
        const outbox = written?.outbox;
        if (outbox === undefined || outbox.dueAt <= at) return;
        await webhooks.send({
          eventId: outbox.eventId,
          type: outbox.type,
          tenantId: s.tenantId,
          sessionId: s.id,
        });
        report.webhooksSent++;
      });
    }
  }
  return report;
};
