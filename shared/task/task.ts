/**
 * The Task model and its state machine. Pure: no I/O, no clock of its own.
 *
 *   queued ──claim──► running ──succeed──► succeeded
 *     ▲                 │  │ └──fail─────► failed
 *     │                 │  └─cancelled───► cancelled   (owner acknowledges a cancel request)
 *     └─retry/handBack/expire─┘
 *   queued ──cancel──► cancelled           running ──cancel──► running + cancelRequested
 *
 * A claim takes a `queued` task, or a `running` one whose lease expired (its owner is
 * gone). Each claim bumps `leaseToken`, the fencing token: only the holder of the current
 * token may heartbeat, retry, hand back or end the task. Every transition bumps `version`;
 * the store writes a transition only if the row is still at the version it started from.
 */
import type { Tier } from '../core/fleet-queue.js';
import {
  taskEventId,
  taskEventType,
  type WebhookOutbox,
  type WebhookRecord,
} from '../webhooks/webhook-event.js';
import { MAX_ATTEMPTS, type TaskOptions, type TaskSpec, type TaskType } from './task-input.js';

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

/** Where the time of a run went, in ms. */
export interface TaskTimings {
  /** From becoming runnable to being claimed. */
  queueWaitMs: number;
  /** Launching a browser for this run (0 when a warm one was reused). */
  launchMs: number;
  navigationMs: number;
  captureMs: number;
}

/**
 * Something the task did that the caller should know although it succeeded. Today one
 * kind: characters of a screenshot or PDF that no font could draw (the missing-glyph box).
 */
export interface TaskWarning {
  code: 'MISSING_GLYPHS';
  message: string;
  /** `U+XXXX`, in page order, at most 32. */
  codePoints: string[];
  /** How many distinct code points had no glyph. */
  count: number;
}

export interface TaskResult {
  artifacts: StoredArtifact[];
  finalUrl?: string;
  httpStatus?: number;
  /** JSON results (scrape, links, evaluate, markdown, content) when small enough to inline. */
  data?: unknown;
  timings?: TaskTimings;
  /** Billable browser time: the task's browser context, open to closed. */
  browserMs?: number;
  /** Requests the egress guard refused (the page's own sub-resources, redirects, …). */
  blockedRequests?: { url: string; reason: string }[];
  /** How many requests were refused, when more than `blockedRequests` lists. */
  blockedRequestsTotal?: number;
  /** What the result may lack though the task succeeded (characters no font could draw). */
  warnings?: TaskWarning[];
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

export type AttemptOutcome =
  | 'succeeded'
  | 'failed'
  | 'retried'
  | 'lease-expired'
  | 'handed-back'
  | 'cancelled';

/** One claim of the task and how it ended. */
export interface AttemptRecord {
  attempt: number;
  worker: string;
  startedAt: string;
  endedAt: string;
  outcome: AttemptOutcome;
  error?: TaskError;
}

/** Where a task answered from the result cache got its result (result-cache.ts). */
export interface CacheHit {
  /** The task whose run produced the result (and owns the artifacts). */
  sourceTaskId: string;
  /** ISO-8601: when the entry stops answering requests like this one. */
  expiresAt: string;
}

export interface Task {
  id: string;
  tenantId: string;
  type: TaskType;
  url: string;
  options: TaskOptions;
  /** The execution tier the task was routed to. */
  tier: Tier;
  status: TaskStatus;
  /** ISO-8601 timestamps. */
  createdAt: string;
  updatedAt: string;
  startedAt?: string;
  endedAt?: string;
  /** Number of claims so far. */
  attempts: number;
  /** Executions that may fail (retry, lost lease) before the task ends `failed`. */
  maxAttempts: number;
  /** Fencing token: grows by one on every claim, never reused. */
  leaseToken: number;
  /** Optimistic-concurrency version: grows by one on every write. */
  version: number;
  lease?: Lease;
  /** Epoch ms before which a queued task should not run (retry backoff). */
  availableAt: number;
  /** Epoch ms of the last queue message sent for this task. */
  enqueuedAt: number;
  cancelRequested?: boolean;
  history: AttemptRecord[];
  result?: TaskResult;
  error?: TaskError;
  /** Seconds this task's result may answer identical requests (`cacheTTL`); absent when 0. */
  cacheTTL?: number;
  /** The normalized request's key in the result cache, to record the result under. Never shown. */
  cacheKey?: string;
  /** Set when the task was answered from the result cache instead of being run. */
  cacheHit?: CacheHit;
  /** Present when the task's end is to be told to a webhook (its own, or its tenant's). */
  webhook?: WebhookRecord;
  /** The end event, until the sweeper has handed it to the webhook queue (see WebhookOutbox). */
  outbox?: WebhookOutbox;
}

export type TaskEvent =
  | { kind: 'claim'; owner: string; leaseMs: number }
  | { kind: 'heartbeat'; leaseToken: number; leaseMs: number }
  | { kind: 'succeed'; leaseToken: number; result: TaskResult }
  | { kind: 'fail'; leaseToken: number; error: TaskError }
  | { kind: 'retry'; leaseToken: number; error: TaskError; delayMs: number }
  | { kind: 'handBack'; leaseToken: number }
  | { kind: 'cancelled'; leaseToken: number }
  | { kind: 'cancel' }
  | { kind: 'expire' }
  | { kind: 'enqueued' };

export type TransitionRefusal =
  | 'already-final'
  | 'lease-held'
  | 'lease-live'
  | 'not-running'
  | 'not-queued'
  | 'stale-token'
  | 'cancel-requested'
  | 'no-cancel-request'
  | 'attempts-exhausted'
  /** Queued, but its retry backoff hasn't passed: a duplicate message arrived early. */
  | 'not-yet-available';

export type TransitionOutcome = { ok: true; task: Task } | { ok: false; reason: TransitionRefusal };

export const isFinal = (status: TaskStatus): boolean => FINAL_STATUSES.has(status);

const leaseExpired = (task: Task, now: number): boolean =>
  task.lease === undefined || task.lease.expiresAt <= now;

/** Whether a claim may take the task now: queued, or running under an expired lease. */
export const isClaimable = (task: Task, now: number): boolean =>
  task.status === 'queued' || (task.status === 'running' && leaseExpired(task, now));

/** Executions that ended in a way that spends an attempt (not a hand-back or a cancel). */
export const failedAttempts = (task: Task): number =>
  task.history.filter(
    (h) => h.outcome === 'retried' || h.outcome === 'lease-expired' || h.outcome === 'failed',
  ).length;

/** Whether one more failed execution would still leave an attempt to retry with. */
export const canRetry = (task: Task): boolean => failedAttempts(task) + 1 < task.maxAttempts;

/**
 * When the sweeper should look at a live task: a queued one once its message should have
 * been taken (so a lost message is re-sent), a running one when its lease runs out.
 */
export const sweepDueAt = (task: Task): number | undefined => {
  if (task.status === 'queued') return Math.max(task.availableAt, task.enqueuedAt);
  if (task.status === 'running') return task.lease?.expiresAt ?? 0;
  return task.outbox?.dueAt;
};

/**
 * Which of the sweeper's lists a task is on: live tasks by status, and ended ones whose end
 * event waits in the outbox under `webhook`. Ended tasks without one are on none.
 */
export type SweepList = 'queued' | 'running' | 'webhook';

export const sweepListOf = (task: Task): SweepList | undefined => {
  if (task.status === 'queued' || task.status === 'running') return task.status;
  return task.outbox === undefined ? undefined : 'webhook';
};

const record = (task: Task, at: string, outcome: AttemptOutcome, error?: TaskError): AttemptRecord[] => [
  ...task.history,
  {
    attempt: task.attempts,
    worker: task.lease?.owner ?? 'unknown',
    startedAt: task.startedAt ?? at,
    endedAt: at,
    outcome,
    ...(error === undefined ? {} : { error }),
  },
];

/** The fields a task sheds when it leaves `running`. */
const withoutLease = (task: Task): Task => {
  const { lease: _lease, ...rest } = task;
  return rest;
};

const LEASE_EXPIRED_ERROR: TaskError = {
  code: 'LEASE_EXPIRED',
  message: 'The worker running the task stopped renewing its lease (it crashed or was stopped).',
};

/**
 * Applies one event to a task. Returns the next task (version + 1), or why the event does
 * not apply. The store persists the answer with a conditional write on the version.
 */
export const transition = (task: Task, event: TaskEvent, now: number): TransitionOutcome => {
  const out = step(task, event, now);
  if (!out.ok || task.webhook === undefined || !isFinal(out.task.status)) return out;
  // The end event goes in the outbox in the same write as the end: nothing can end a task
  // without its event being owed (see WebhookOutbox).
  const status = out.task.status as 'succeeded' | 'failed' | 'cancelled';
  return {
    ok: true,
    task: { ...out.task, outbox: { eventId: taskEventId(task.id), type: taskEventType(status), dueAt: now } },
  };
};

const step = (task: Task, event: TaskEvent, now: number): TransitionOutcome => {
  const at = new Date(now).toISOString();
  if (isFinal(task.status)) return { ok: false, reason: 'already-final' };
  const next = (changes: Partial<Task>, base: Task = task): TransitionOutcome => ({
    ok: true,
    task: { ...base, ...changes, version: task.version + 1, updatedAt: at },
  });
  const ownsLease = (leaseToken: number): TransitionRefusal | undefined => {
    if (task.status !== 'running') return 'not-running';
    if (task.leaseToken !== leaseToken) return 'stale-token';
    return undefined;
  };

  switch (event.kind) {
    case 'claim': {
      if (!isClaimable(task, now)) return { ok: false, reason: 'lease-held' };
      if (task.cancelRequested === true) return { ok: false, reason: 'cancel-requested' };
      // A duplicate (or early) delivery must not skip the backoff its retry was given.
      if (task.status === 'queued' && task.availableAt > now)
        return { ok: false, reason: 'not-yet-available' };
      const history =
        task.status === 'running' ? record(task, at, 'lease-expired', LEASE_EXPIRED_ERROR) : task.history;
      if (task.status === 'running' && failedAttempts({ ...task, history }) >= task.maxAttempts) {
        // Out of attempts: `expire` ends it; a claim must not start another execution.
        return { ok: false, reason: 'attempts-exhausted' };
      }
      return next({
        status: 'running',
        startedAt: at,
        attempts: task.attempts + 1,
        leaseToken: task.leaseToken + 1,
        lease: { owner: event.owner, expiresAt: now + event.leaseMs },
        history,
      });
    }
    case 'heartbeat': {
      const refused = ownsLease(event.leaseToken);
      if (refused !== undefined) return { ok: false, reason: refused };
      return next({ lease: { owner: task.lease?.owner ?? 'unknown', expiresAt: now + event.leaseMs } });
    }
    case 'succeed':
    case 'fail': {
      const refused = ownsLease(event.leaseToken);
      if (refused !== undefined) return { ok: false, reason: refused };
      return event.kind === 'succeed'
        ? next(
            {
              status: 'succeeded',
              endedAt: at,
              result: event.result,
              history: record(task, at, 'succeeded'),
            },
            withoutLease(task),
          )
        : next(
            {
              status: 'failed',
              endedAt: at,
              error: event.error,
              history: record(task, at, 'failed', event.error),
            },
            withoutLease(task),
          );
    }
    case 'retry':
    case 'handBack': {
      const refused = ownsLease(event.leaseToken);
      if (refused !== undefined) return { ok: false, reason: refused };
      // A cancel asked for while this execution ran ends the task here: a queued row that
      // kept `cancelRequested` could never be claimed again, and would circulate for ever.
      if (task.cancelRequested === true) {
        return next(
          {
            status: 'cancelled',
            endedAt: at,
            history: record(task, at, 'cancelled', event.kind === 'retry' ? event.error : undefined),
          },
          withoutLease(task),
        );
      }
      return next(
        {
          status: 'queued',
          availableAt: now + (event.kind === 'retry' ? event.delayMs : 0),
          enqueuedAt: now,
          history:
            event.kind === 'retry'
              ? record(task, at, 'retried', event.error)
              : record(task, at, 'handed-back'),
        },
        withoutLease(task),
      );
    }
    case 'cancelled': {
      const refused = ownsLease(event.leaseToken);
      if (refused !== undefined) return { ok: false, reason: refused };
      if (task.cancelRequested !== true) return { ok: false, reason: 'no-cancel-request' };
      return next(
        { status: 'cancelled', endedAt: at, history: record(task, at, 'cancelled') },
        withoutLease(task),
      );
    }
    case 'cancel': {
      if (task.status === 'queued') return next({ status: 'cancelled', endedAt: at });
      if (leaseExpired(task, now)) {
        return next(
          {
            status: 'cancelled',
            endedAt: at,
            history: record(task, at, 'lease-expired', LEASE_EXPIRED_ERROR),
          },
          withoutLease(task),
        );
      }
      if (task.cancelRequested === true) return { ok: false, reason: 'cancel-requested' };
      // The owner sees the request at its next heartbeat and stops.
      return next({ cancelRequested: true });
    }
    case 'expire': {
      // A queued row that carries a cancel request (written before cancels ended such rows
      // on a retry or hand-back) can't be claimed: it ends as the client asked.
      if (task.status === 'queued' && task.cancelRequested === true) {
        return next({ status: 'cancelled', endedAt: at });
      }
      if (task.status !== 'running') return { ok: false, reason: 'not-running' };
      if (!leaseExpired(task, now)) return { ok: false, reason: 'lease-live' };
      const history = record(task, at, 'lease-expired', LEASE_EXPIRED_ERROR);
      if (task.cancelRequested === true) {
        return next({ status: 'cancelled', endedAt: at, history }, withoutLease(task));
      }
      if (failedAttempts({ ...task, history }) >= task.maxAttempts) {
        return next(
          { status: 'failed', endedAt: at, error: LEASE_EXPIRED_ERROR, history },
          withoutLease(task),
        );
      }
      return next({ status: 'queued', availableAt: now, enqueuedAt: now, history }, withoutLease(task));
    }
    case 'enqueued': {
      if (task.status !== 'queued') return { ok: false, reason: 'not-queued' };
      return next({ enqueuedAt: now });
    }
  }
};

/** The task's type and options as the discriminated pair they were validated as. */
export const specOf = (task: Task): TaskSpec => ({ type: task.type, options: task.options }) as TaskSpec;

/** How a write from one status to another changes the tenant's live task counts. */
export const usageDelta = (
  from: TaskStatus | undefined,
  to: TaskStatus,
): { queued: number; running: number } => {
  const count = (status: TaskStatus | undefined) => ({
    queued: status === 'queued' ? 1 : 0,
    running: status === 'running' ? 1 : 0,
  });
  const a = count(from);
  const b = count(to);
  return { queued: b.queued - a.queued, running: b.running - a.running };
};

export interface NewTaskInput {
  id: string;
  tenantId: string;
  spec: TaskSpec;
  url: string;
  tier?: Tier;
  maxAttempts?: number;
  /** The task's own webhook URL, or `{}` when only its tenant's endpoints are to be told. */
  webhook?: { url?: string } | undefined;
  now: number;
  /** The result cache: the request's TTL (> 0) and key. */
  cache?: { ttlSeconds: number; key: string };
}

/** A new task as it is first written: `queued`, never claimed. */
export const newTask = (input: NewTaskInput): Task => {
  const at = new Date(input.now).toISOString();
  return {
    id: input.id,
    tenantId: input.tenantId,
    type: input.spec.type,
    url: input.url,
    options: input.spec.options,
    tier: input.tier ?? 'fleet',
    status: 'queued',
    createdAt: at,
    updatedAt: at,
    attempts: 0,
    maxAttempts: input.maxAttempts ?? MAX_ATTEMPTS.default,
    leaseToken: 0,
    version: 1,
    availableAt: input.now,
    enqueuedAt: input.now,
    history: [],
    ...(input.cache === undefined ? {} : { cacheTTL: input.cache.ttlSeconds, cacheKey: input.cache.key }),
    ...(input.webhook === undefined
      ? {}
      : {
          webhook: {
            ...(input.webhook.url === undefined ? {} : { url: input.webhook.url }),
            deliveries: [],
          },
        }),
  };
};

/**
 * A task answered from the result cache: written once, already `succeeded`, with the
 * source's result (its artifacts by reference). It is never queued, claimed or run, so it
 * has no attempts and no history; it ends exactly once, as it is created, and a webhook is
 * told of that end like any other.
 */
export const newCachedTask = (
  input: NewTaskInput & { cache: { ttlSeconds: number; key: string }; hit: CacheHit; result: TaskResult },
): Task => {
  const at = new Date(input.now).toISOString();
  return {
    ...newTask(input),
    status: 'succeeded',
    startedAt: at,
    endedAt: at,
    result: input.result,
    cacheHit: input.hit,
    // Born ended: its end event is owed from its first write, as any other end's is.
    ...(input.webhook === undefined
      ? {}
      : { outbox: { eventId: taskEventId(input.id), type: taskEventType('succeeded'), dueAt: input.now } }),
  };
};
