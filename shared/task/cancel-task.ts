import type { Clock } from '../clock.js';
import { BrowserfleetError, ERROR_CODES } from '../errors.js';
import { isIdShaped, notFound } from '../ids.js';
import { applyEvent } from './apply-event.js';
import type { TaskStore } from './ports.js';
import type { Task } from './task.js';

/**
 * Cancels a tenant's task. A queued task ends `cancelled` at once; a running one is marked
 * `cancelRequested`, and its owner stops the browser work at its next heartbeat (or, if
 * the owner is gone, the sweeper ends it). Cancelling a cancelled task is a no-op;
 * cancelling one that succeeded or failed is `TASK_ALREADY_ENDED`.
 */
export const cancelTask = async (
  deps: { store: TaskStore; clock: Clock },
  input: { tenantId: string; taskId: string },
): Promise<Task> => {
  if (!isIdShaped(input.taskId)) throw notFound('Task', input.taskId);
  const task = await deps.store.get(input.taskId);
  if (task === undefined || task.tenantId !== input.tenantId) {
    throw notFound('Task', input.taskId);
  }
  const out = await applyEvent(deps.store, task, { kind: 'cancel' }, () => deps.clock.now());
  if (out.ok) return out.task;
  const current = out.task;
  if (current === undefined) throw notFound('Task', input.taskId);
  if (current.status === 'cancelled' || out.reason === 'cancel-requested') return current;
  throw new BrowserfleetError(
    ERROR_CODES.TASK_ALREADY_ENDED,
    `Task ${input.taskId} already ended with status "${current.status}"; only queued or running tasks can be cancelled.`,
  );
};
