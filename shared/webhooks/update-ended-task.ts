import type { TaskStore } from '../task/ports.js';
import type { Task } from '../task/task.js';

/** Lost races in a row before giving up: each one means another writer made progress. */
const MAX_CONFLICTS = 8;

/**
 * Changes an ended task's webhook bookkeeping (outbox, deliveries) with a conditional write
 * on its version; on a lost race, applies `change` again to the row as it stands. The state
 * machine refuses every event on an ended task, so only this bookkeeping ever moves it.
 * `change` answers undefined when there is nothing to write. Answers the row as written
 * (or found), undefined when it is gone.
 */
export const updateEndedTask = async (
  store: TaskStore,
  from: Task,
  change: (task: Task) => Task | undefined,
): Promise<Task | undefined> => {
  let current = from;
  for (let conflicts = 0; conflicts < MAX_CONFLICTS; conflicts++) {
    const next = change(current);
    if (next === undefined) return current;
    const saved = await store.save({ ...next, version: current.version + 1 }, current);
    if (saved.saved) return { ...next, version: current.version + 1 };
    if ('quotaExceeded' in saved || saved.current === undefined) return undefined;
    current = saved.current;
  }
  throw new Error(`Task ${from.id} kept changing under its webhook bookkeeping.`);
};
