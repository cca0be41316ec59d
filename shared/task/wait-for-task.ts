import { type SchedulingClock, systemClock } from '../clock.js';
import type { TaskStore } from './ports.js';
import { isFinal, type Task } from './task.js';

/** Longest a request may hold for a task to end: API Gateway's integration limit is 30 s. */
export const MAX_WAIT_SECONDS = 25;

const FIRST_POLL_MS = 20;
/**
 * A held answer lags the task's end by up to one interval: 100 ms keeps that lag small next
 * to a screenshot's few hundred ms. The price is reads: at most ten a second per waiting
 * request, some 250 strongly consistent reads for a full 25 s wait (about $30 per million
 * such waits on demand; a wait for a task that ends in a second costs a tenth of that).
 */
const MAX_POLL_MS = 100;

/**
 * Holds until the task ends or `waitMs` passes, reading the row with a growing interval
 * (the row is the truth; a notification channel would only be a hint). Answers the task as
 * it stands at the end. Stops early when `signal` fires (the Lambda deadline is near).
 */
export const waitForTask = async (
  store: TaskStore,
  task: Task,
  waitMs: number,
  signal?: AbortSignal,
  clock: SchedulingClock = systemClock,
): Promise<Task> => {
  const deadline = clock.now() + waitMs;
  let current = task;
  let interval = FIRST_POLL_MS;
  while (!isFinal(current.status) && clock.now() < deadline && signal?.aborted !== true) {
    await clock.sleep(Math.min(interval, Math.max(0, deadline - clock.now())), signal);
    current = (await store.get(task.id)) ?? current;
    interval = Math.min(MAX_POLL_MS, Math.ceil(interval * 1.5));
  }
  return current;
};
