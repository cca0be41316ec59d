/**
 * The fleet worker: N slots, each long-polling the fleet queue for one message at a time
 * and running its task through the `runTask` use case. A message is deleted once its task
 * is claimed (the row is the truth from then on) or found settled; if the process dies
 * before that, the message comes back after its visibility timeout.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { systemClock } from '../shared/clock.js';
import {
  isSessionMessage,
  type ReceivedMessage,
  type SessionMessage,
  type TaskQueue,
} from '../shared/core/fleet-queue.js';
import { BrowserfleetError, ERROR_CODES } from '../shared/errors.js';
import type { Metrics } from '../shared/metrics/metrics.js';
import type { SessionHost } from '../shared/session/host-session.js';
import { postponeMessage } from '../shared/task/postpone-message.js';
import { recordRunOutcome } from '../shared/task/run-metrics.js';
import { type RunTaskDeps, runTask } from '../shared/task/run-task.js';

export interface WorkerDeps {
  queue: TaskQueue;
  run: RunTaskDeps;
  logger: Logger;
  /** Tasks this worker runs at once, each in its own browser context. */
  concurrency: number;
  /** Long-poll wait; SQS allows at most 20 s. */
  pollWaitSeconds?: number;
  metrics: Metrics;
  /** Hosts live sessions; without it, session messages are left for a worker that has one. */
  sessions?: SessionHost;
}

export interface RunningWorker {
  /**
   * Drains: stops taking work at once, lets tasks in flight finish for up to `drainMs`,
   * then hands the rest back to the queue (visible immediately) and closes the browser.
   */
  stop(options?: { drainMs?: number }): Promise<void>;
  /** Hands every task in flight back now, without waiting for the drain deadline. */
  handBackNow(): void;
  /** Tasks running right now. */
  inFlight(): number;
  /**
   * A newer deployment has replaced this worker: it goes on running tasks (minutes) but
   * hands every new session (hours) to the newer workers, since it stops at the end of its
   * grace (task-protection.ts) and would take the session with it.
   */
  supersede(): void;
}

/** A session message this worker has no slot for comes back for another worker this soon. */
const NO_SLOT_DEFER_SECONDS = 1;

/** Pause after a failed poll, so a queue outage doesn't become a hot loop. */
const POLL_ERROR_BACKOFF_MS = 1_000;

export const startWorker = (deps: WorkerDeps): RunningWorker => {
  const { logger } = deps;
  const polling = new AbortController();
  const shutdown = new AbortController();
  let running = 0;
  let superseded = false;

  const startSession = async (message: SessionMessage, receipt: string): Promise<void> => {
    let acked = false;
    try {
      const outcome =
        deps.sessions === undefined || polling.signal.aborted || superseded
          ? 'no-slot'
          : await deps.sessions.start(message, async () => {
              acked = true;
              await deps.queue.delete(receipt);
            });
      if (outcome === 'no-slot')
        await postponeMessage(deps.queue, { message, receipt }, NO_SLOT_DEFER_SECONDS);
      else if (!acked) await deps.queue.delete(receipt);
      logger.info('session message handled', { sessionId: message.sessionId, outcome });
    } catch (error) {
      logger.error('session start crashed', { sessionId: message.sessionId, error: error as Error });
    }
  };

  const handle = async ({ message, receipt }: ReceivedMessage): Promise<void> => {
    if (isSessionMessage(message)) return startSession(message, receipt);
    const started = Date.now();
    let acked = false;
    const ack = async () => {
      acked = true;
      await deps.queue.delete(receipt);
    };
    running++;
    try {
      const outcome = await runTask(deps.run, {
        taskId: message.taskId,
        ...(message.row === undefined ? {} : { row: message.row }),
        ack,
        shutdown: shutdown.signal,
        onClaimed: (task) => {
          deps.metrics.count('TasksStarted', 1, { tier: 'fleet' });
          logger.info('task claimed', { taskId: task.id, leaseToken: task.leaseToken });
        },
        onError: (error) =>
          logger.warn('task attempt error', { taskId: message.taskId, error: error as Error }),
      });
      if (outcome.kind === 'wait') {
        await postponeMessage(deps.queue, { message, receipt }, outcome.delaySeconds);
      } else if (!acked) {
        // Not claimed (settled, or held by a live owner): this message has nothing left to
        // do. A live owner's death is the sweeper's to handle, from the row.
        await deps.queue.delete(receipt);
      }
      logger.info('task run ended', {
        taskId: message.taskId,
        outcome: outcome.kind,
        ms: Date.now() - started,
      });
      recordRunOutcome(deps.metrics, outcome, 'fleet');
    } catch (error) {
      // The message stays (unless acked); it comes back and another attempt picks it up.
      logger.error('task run crashed', { taskId: message.taskId, error: error as Error });
    } finally {
      running--;
    }
  };

  const slot = async (index: number): Promise<void> => {
    while (!polling.signal.aborted) {
      let messages: ReceivedMessage[];
      try {
        messages = await deps.queue.receive({
          waitSeconds: deps.pollWaitSeconds ?? 20,
          signal: polling.signal,
        });
      } catch (error) {
        logger.error('queue poll failed', { slot: index, error: error as Error });
        // Leaves no listener on the polling signal, which lives as long as the worker.
        await systemClock.sleep(POLL_ERROR_BACKOFF_MS, polling.signal);
        continue;
      }
      for (const received of messages) await handle(received);
    }
  };

  const slots = Array.from({ length: deps.concurrency }, (_, i) => slot(i));
  logger.info('worker started', { workerId: deps.run.workerId, concurrency: deps.concurrency });

  const handBack = () =>
    shutdown.abort(new BrowserfleetError(ERROR_CODES.WORKER_SHUTDOWN, 'The worker is shutting down.'));

  let stopping: Promise<void> | undefined;
  return {
    inFlight: () => running,
    handBackNow: handBack,
    supersede: () => {
      if (!superseded) logger.info('worker superseded: new sessions go to newer workers', {});
      superseded = true;
    },
    stop(options = {}) {
      stopping ??= (async () => {
        const drainMs = options.drainMs ?? 0;
        logger.info('worker draining', { workerId: deps.run.workerId, inFlight: running, drainMs });
        polling.abort();
        const drained = Promise.allSettled(slots);
        const timer = setTimeout(handBack, drainMs);
        await drained;
        clearTimeout(timer);
        // Sessions can't be handed over (their browser lives here): they end, with a reason.
        await deps.sessions?.stopAll();
        await deps.run.browser.close();
        logger.info('worker stopped', { workerId: deps.run.workerId });
      })();
      return stopping;
    },
  };
};
