import { type SchedulingClock, systemClock } from '../clock.js';
import type { TaskStore } from './ports.js';
import { isFinal, type Task } from './task.js';
import type { TaskDurations } from './task-durations.js';

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
 * The most queueing a first read allows for beyond the run itself. Recent tasks that queued
 * long (a backlog after an outage) would otherwise have a task that starts at once answered
 * that much late; with this cap, at most this much.
 */
const MAX_EXPECTED_QUEUE_MS = 200;

/**
 * When the task should be read next, if what `durations` knows says it won't have ended
 * before: the start of the run it is in (or its submit) plus the low quantile of how long
 * recent tasks of its kind took (queueing counted up to `MAX_EXPECTED_QUEUE_MS`). `undefined`
 * when nothing is known or that time has passed.
 */
const expectedEndAt = (task: Task, durations: TaskDurations | undefined, now: number) => {
  const expected = durations?.expected(task);
  if (expected === undefined) return undefined;
  const at =
    task.status === 'running' && task.startedAt !== undefined
      ? Date.parse(task.startedAt) + expected.runMs
      : Date.parse(task.createdAt) + Math.min(expected.totalMs, expected.runMs + MAX_EXPECTED_QUEUE_MS);
  return Number.isFinite(at) && at > now + FIRST_POLL_MS ? at : undefined;
};

/**
 * Holds until the task ends or `waitMs` passes, reading the row (the row is the truth; a
 * notification channel would only be a hint). Answers the task as it stands at the end.
 * Stops early when `signal` fires (the Lambda deadline is near).
 *
 * With `durations` (what this process saw of recent tasks of the same kind), the first read
 * waits until the task is expected to have ended: a screenshot answered after about three
 * reads instead of one every 100 ms of its run. A task that ends sooner than that is
 * answered late by the difference, which the low quantile keeps small. After it, or
 * without `durations`, reads come at a growing interval from 20 ms to 100 ms.
 */
export const waitForTask = async (
  store: TaskStore,
  task: Task,
  waitMs: number,
  signal?: AbortSignal,
  clock: SchedulingClock = systemClock,
  durations?: TaskDurations,
): Promise<Task> => {
  const deadline = clock.now() + waitMs;
  let current = task;
  let interval = FIRST_POLL_MS;
  while (!isFinal(current.status) && clock.now() < deadline && signal?.aborted !== true) {
    const now = clock.now();
    const expectedAt = expectedEndAt(current, durations, now);
    // Reads resume quickly once the expected end is reached, as from the first.
    if (expectedAt !== undefined) interval = FIRST_POLL_MS;
    const until = expectedAt ?? now + interval;
    await clock.sleep(Math.max(0, Math.min(until, deadline) - now), signal);
    current = (await store.get(task.id)) ?? current;
    if (expectedAt === undefined) interval = Math.min(MAX_POLL_MS, Math.ceil(interval * 1.5));
  }
  if (current !== task) durations?.record(current);
  return current;
};
