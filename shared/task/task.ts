/**
 * The Task model and its state machine. Pure: no I/O, no clock of its own.
 *
 *   queued ──claim──► running ──succeed──► succeeded
 *     │                  │ └────fail─────► failed
 *     └──cancel──► cancelled
 *
 * A claim also takes over a `running` task whose lease has expired (its owner is gone).
 * Each claim bumps `leaseToken`, the fencing token: only the holder of the current token
 * may end the task, so a stale worker's writes are refused by the store.
 */
import type { ScreenshotOptions, TaskType } from './task-input.js';

export const TASK_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const FINAL_STATUSES: ReadonlySet<TaskStatus> = new Set(['succeeded', 'failed', 'cancelled']);

export interface StoredArtifact {
  name: string;
  contentType: string;
  size: number;
  /** Object key in the artifact bucket. Never shown to clients; they get a presigned URL. */
  key: string;
}

export interface TaskResult {
  artifacts: StoredArtifact[];
  finalUrl?: string;
  httpStatus?: number;
}

export interface TaskError {
  code: string;
  message: string;
}

export interface Lease {
  owner: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

export interface Task {
  id: string;
  tenantId: string;
  type: TaskType;
  url: string;
  options: ScreenshotOptions;
  status: TaskStatus;
  /** ISO-8601 timestamps. */
  createdAt: string;
  updatedAt: string;
  startedAt?: string;
  endedAt?: string;
  /** Number of claims so far. */
  attempts: number;
  /** Fencing token: grows by one on every claim, never reused. */
  leaseToken: number;
  lease?: Lease;
  result?: TaskResult;
  error?: TaskError;
}

export type TaskEvent =
  | { kind: 'claim'; owner: string; leaseMs: number }
  | { kind: 'succeed'; leaseToken: number; result: TaskResult }
  | { kind: 'fail'; leaseToken: number; error: TaskError }
  | { kind: 'cancel' };

export type TransitionRefusal = 'already-final' | 'lease-held' | 'not-running' | 'stale-token' | 'not-queued';

export type TransitionOutcome = { ok: true; task: Task } | { ok: false; reason: TransitionRefusal };

export const isFinal = (status: TaskStatus): boolean => FINAL_STATUSES.has(status);

/** Whether a claim may take the task now: queued, or running under an expired lease. */
export const isClaimable = (task: Task, now: number): boolean =>
  task.status === 'queued' ||
  (task.status === 'running' && (task.lease === undefined || task.lease.expiresAt <= now));

/**
 * Applies one event to a task. Returns the next task, or why the event does not apply.
 * The store persists the answer with a conditional write on the status and token the
 * transition started from (see `TaskStore.save`).
 */
export const transition = (task: Task, event: TaskEvent, now: number): TransitionOutcome => {
  const at = new Date(now).toISOString();
  if (isFinal(task.status)) return { ok: false, reason: 'already-final' };

  switch (event.kind) {
    case 'claim': {
      if (!isClaimable(task, now)) return { ok: false, reason: 'lease-held' };
      return {
        ok: true,
        task: {
          ...task,
          status: 'running',
          updatedAt: at,
          startedAt: at,
          attempts: task.attempts + 1,
          leaseToken: task.leaseToken + 1,
          lease: { owner: event.owner, expiresAt: now + event.leaseMs },
        },
      };
    }
    case 'succeed':
    case 'fail': {
      if (task.status !== 'running') return { ok: false, reason: 'not-running' };
      if (task.leaseToken !== event.leaseToken) return { ok: false, reason: 'stale-token' };
      const { lease: _lease, ...rest } = task;
      return {
        ok: true,
        task:
          event.kind === 'succeed'
            ? { ...rest, status: 'succeeded', updatedAt: at, endedAt: at, result: event.result }
            : { ...rest, status: 'failed', updatedAt: at, endedAt: at, error: event.error },
      };
    }
    case 'cancel': {
      if (task.status !== 'queued') return { ok: false, reason: 'not-queued' };
      return { ok: true, task: { ...task, status: 'cancelled', updatedAt: at, endedAt: at } };
    }
  }
};

/** A new task as it is first written: `queued`, never claimed. */
export const newTask = (input: {
  id: string;
  tenantId: string;
  type: TaskType;
  url: string;
  options: ScreenshotOptions;
  now: number;
}): Task => {
  const at = new Date(input.now).toISOString();
  return {
    id: input.id,
    tenantId: input.tenantId,
    type: input.type,
    url: input.url,
    options: input.options,
    status: 'queued',
    createdAt: at,
    updatedAt: at,
    attempts: 0,
    leaseToken: 0,
  };
};
