import { BrowserfleetError, ERROR_CODES } from '../errors.js';
import type { TaskStore } from './ports.js';
import { type Task, type TaskEvent, type TransitionRefusal, transition } from './task.js';

export type ApplyOutcome =
  | { ok: true; task: Task }
  | { ok: false; reason: TransitionRefusal | 'missing' | 'quota-exceeded'; task: Task | undefined };

/** Lost races in a row before giving up: each one means another writer made progress. */
const MAX_CONFLICTS = 8;

/**
 * Applies `event` to the stored task: the pure state machine decides, the store writes
 * conditionally on the version. If another writer got there first, the event is applied
 * again to the row the store answered with — so the decision is always made on the row as
 * it stands (a stale token is refused there, not overwritten).
 */
export const applyEvent = async (
  store: TaskStore,
  from: Task,
  event: TaskEvent,
  now: () => number,
  quota?: { maxRunning: number },
): Promise<ApplyOutcome> => {
  let current = from;
  for (let conflicts = 0; conflicts < MAX_CONFLICTS; conflicts++) {
    const out = transition(current, event, now());
    if (!out.ok) return { ok: false, reason: out.reason, task: current };
    const saved = await store.save(out.task, current, quota);
    if (saved.saved) return { ok: true, task: out.task };
    if ('quotaExceeded' in saved) return { ok: false, reason: 'quota-exceeded', task: current };
    if (saved.current === undefined) return { ok: false, reason: 'missing', task: undefined };
    current = saved.current;
  }
  throw new BrowserfleetError(ERROR_CODES.CONFLICT, `Task ${from.id} kept changing under ${event.kind}.`, {
    retryable: true,
  });
};
