import type { Clock } from '../clock.js';
import type { TaskDispatcher } from '../core/fleet-queue.js';
import type { WebhookQueue } from '../webhooks/ports.js';
import { updateEndedRow } from '../webhooks/update-ended-row.js';
import { applyEvent } from './apply-event.js';
import type { TaskStore } from './ports.js';

export interface SweepDeps {
  store: TaskStore;
  queue: TaskDispatcher;
  clock: Clock;
  /** A queued task whose message should have been taken this long ago gets a new one. */
  resendAfterMs: number;
  /** Where ended tasks' webhook events go (the outbox's relay); unset: they stay owed. */
  webhooks?: WebhookQueue;
  /** Rows looked at per status per run. */
  batchSize?: number;
  /** A row whose sweep failed (throttled, a network blip); the next sweep tries it again. */
  onError?: (taskId: string, error: unknown) => void;
}

export interface SweepReport {
  /** Running tasks whose owner stopped heartbeating, by where they went. */
  requeued: number;
  failed: number;
  cancelled: number;
  /** Queued tasks that got a fresh message (lost enqueue, or a restart that lost the queue). */
  resent: number;
  /** Webhook events handed from a task's outbox to the webhook queue. */
  webhooksSent: number;
  /** Rows whose sweep failed this run; each is tried again next run, the others went on. */
  errors: number;
}

/**
 * The sweeper: nothing accepted is lost between the row and the queue, and no task stays
 * with a dead owner. Every change goes through the state machine and a conditional write,
 * so a sweep racing a live worker (or another sweep) changes nothing it shouldn't; a
 * duplicate message is harmless because claims are conditional.
 */
export const sweepTasks = async (deps: SweepDeps): Promise<SweepReport> => {
  const report: SweepReport = {
    requeued: 0,
    failed: 0,
    cancelled: 0,
    resent: 0,
    webhooksSent: 0,
    errors: 0,
  };
  const now = () => deps.clock.now();
  const limit = deps.batchSize ?? 100;
  // One row's failure must not leave every row after it unswept.
  const each = async (task: { id: string }, sweep: () => Promise<void>) => {
    try {
      await sweep();
    } catch (error) {
      report.errors++;
      deps.onError?.(task.id, error);
    }
  };

  for (const task of await deps.store.listDue('running', now(), limit)) {
    await each(task, async () => {
      const out = await applyEvent(deps.store, task, { kind: 'expire' }, now);
      if (!out.ok) return;
      if (out.task.status === 'queued') {
        report.requeued++;
        await deps.queue.send({ taskId: out.task.id, tier: out.task.tier });
      } else if (out.task.status === 'failed') {
        report.failed++;
      } else if (out.task.status === 'cancelled') {
        report.cancelled++;
      }
    });
  }

  for (const task of await deps.store.listDue('queued', now() - deps.resendAfterMs, limit)) {
    await each(task, async () => {
      // Record the send first: if it is lost, the next sweep after `resendAfterMs` tries again.
      const out = await applyEvent(deps.store, task, { kind: 'enqueued' }, now);
      if (!out.ok) return;
      report.resent++;
      await deps.queue.send({ taskId: out.task.id, tier: out.task.tier });
    });
  }

  const webhooks = deps.webhooks;
  if (webhooks !== undefined) {
    for (const task of await deps.store.listDue('webhook', now(), limit)) {
      await each(task, async () => {
        // The outbox relay. Timeline: the end wrote the entry (due at once); here its due
        // time moves a resend window on, then the message goes; the deliverer removes the
        // entry when it takes the message. A send lost after the move is sent again once
        // the window passes; a duplicate copy is harmless (same webhook-id, and targets
        // that answered 2xx are skipped).
        const written = await updateEndedRow(deps.store, task, (t) =>
          t.outbox === undefined || t.outbox.dueAt > now()
            ? undefined
            : { ...t, outbox: { ...t.outbox, dueAt: now() + deps.resendAfterMs } },
        );
        const outbox = written?.outbox;
        if (outbox === undefined || outbox.dueAt <= now()) return;
        await webhooks.send({ eventId: outbox.eventId, type: outbox.type, taskId: task.id });
        report.webhooksSent++;
      });
    }
  }
  return report;
};
