/**
 * The fleet worker: N slots, each long-polling the fleet queue for one message at a time
 * and running its task through the `runTask` use case. The message is deleted once the
 * task is settled; otherwise it comes back after its visibility timeout.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { ReceivedMessage, TaskQueue } from '../shared/task/ports.js';
import { messageIsDone, type RunTaskDeps, runTask } from '../shared/task/run-task.js';

export interface WorkerDeps {
  queue: TaskQueue;
  run: RunTaskDeps;
  logger: Logger;
  /** Tasks this worker runs at once, each in its own browser context. */
  concurrency: number;
  /** Long-poll wait; SQS allows at most 20 s. */
  pollWaitSeconds?: number;
}

export interface RunningWorker {
  /**
   * Stops taking work and waits for the tasks in flight. With `abortInFlight`, their
   * browser work is aborted instead (they fail or come back via the queue).
   */
  stop(options?: { abortInFlight?: boolean }): Promise<void>;
}

/** Pause after a failed poll, so a queue outage doesn't become a hot loop. */
const POLL_ERROR_BACKOFF_MS = 1_000;

export const startWorker = (deps: WorkerDeps): RunningWorker => {
  const { logger } = deps;
  const polling = new AbortController();
  const inFlight = new AbortController();

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
        await sleep(POLL_ERROR_BACKOFF_MS, polling.signal);
        continue;
      }
      for (const { message, receipt } of messages) {
        const started = Date.now();
        try {
          const outcome = await runTask(deps.run, {
            taskId: message.taskId,
            shutdown: inFlight.signal,
            onError: (error) =>
              logger.warn('browser work failed', { taskId: message.taskId, error: error as Error }),
          });
          logger.info('task run ended', {
            taskId: message.taskId,
            outcome: outcome.kind,
            ms: Date.now() - started,
          });
          if (messageIsDone(outcome)) await deps.queue.delete(receipt);
        } catch (error) {
          // The message stays; it becomes visible again and another attempt picks it up.
          logger.error('task run crashed', { taskId: message.taskId, error: error as Error });
        }
      }
    }
  };

  const slots = Array.from({ length: deps.concurrency }, (_, i) => slot(i));
  logger.info('worker started', { workerId: deps.run.workerId, concurrency: deps.concurrency });

  return {
    async stop(options = {}) {
      polling.abort();
      if (options.abortInFlight === true) inFlight.abort();
      await Promise.allSettled(slots);
      await deps.run.browser.close();
      logger.info('worker stopped', { workerId: deps.run.workerId });
    },
  };
};

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
