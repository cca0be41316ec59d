import type { Metrics } from '../metrics/metrics.js';
import type { RunOutcome } from './run-task.js';

/** What a run's outcome adds to the metrics: one place for the worker and the Lambda tier. */
export const recordRunOutcome = (metrics: Metrics, outcome: RunOutcome, tier: string): void => {
  const dims = { tier };
  switch (outcome.kind) {
    case 'succeeded': {
      const result = outcome.task.result;
      metrics.count('TasksSucceeded', 1, { ...dims, type: outcome.task.type });
      if (result?.timings !== undefined) metrics.timing('QueueWaitMs', result.timings.queueWaitMs, dims);
      if (result?.browserMs !== undefined) metrics.timing('BrowserMs', result.browserMs, dims);
      if (outcome.task.startedAt !== undefined && outcome.task.endedAt !== undefined) {
        metrics.timing('RunMs', Date.parse(outcome.task.endedAt) - Date.parse(outcome.task.startedAt), dims);
      }
      for (const blocked of result?.blockedRequests ?? []) {
        metrics.count('DestinationsBlocked', 1, { where: 'browser', reason: blocked.reason });
      }
      return;
    }
    case 'failed':
      metrics.count('TasksFailed', 1, { ...dims, code: outcome.task.error?.code ?? 'UNKNOWN' });
      return;
    case 'retry-scheduled':
      metrics.count('TasksRetried', 1, dims);
      return;
    case 'handed-back':
      metrics.count('TasksHandedBack', 1, dims);
      return;
    case 'cancelled':
      metrics.count('TasksCancelled', 1, dims);
      return;
    case 'lease-lost':
      metrics.count('LeaseLost', 1, dims);
      return;
    case 'settled':
    case 'lease-held':
    case 'wait':
      return;
  }
};
