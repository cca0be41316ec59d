import type { SchedulingClock } from '../clock.js';
import { ARTIFACT_BUCKET } from '../contracts.js';
import type { ArtifactStore } from '../core/artifact-store.js';
import type { TaskDispatcher, TaskRowCopy } from '../core/fleet-queue.js';
import { BrowserfleetError, ERROR_CODES, isBrowserfleetError } from '../errors.js';
import { applyEvent } from './apply-event.js';
import { boundTaskEvent } from './bounded-fields.js';
import type { BrowserRunner, ResultCache, TaskStore } from './ports.js';
import { resultCacheEntryOf } from './result-cache.js';
import { type BackoffPolicy, backoffDelayMs, classifyError } from './retry-policy.js';
import { canRetry, failedAttempts, type StoredArtifact, specOf, type Task, type TaskEvent } from './task.js';

export interface RunTaskDeps {
  store: TaskStore;
  queue: TaskDispatcher;
  browser: BrowserRunner;
  artifacts: ArtifactStore;
  /** Where a succeeded task with a `cacheTTL` records its result (result-cache.ts). */
  resultCache: Pick<ResultCache, 'record'>;
  /** Time, the heartbeat and the task's deadline. */
  clock: SchedulingClock;
  /** Identifies this worker in the lease. */
  workerId: string;
  /** Length of a lease; heartbeats renew it. A dead worker's tasks are free after this. */
  leaseMs: number;
  /** How often the lease is renewed (and a cancel request noticed). */
  heartbeatMs: number;
  backoff: BackoffPolicy;
  random: () => number;
  /** The running-task quota of a tenant (`maxRunningTasks`). */
  maxRunningTasks: (tenantId: string) => Promise<number>;
}

export type RunOutcome =
  | { kind: 'succeeded'; task: Task }
  | { kind: 'failed'; task: Task }
  | { kind: 'retry-scheduled'; task: Task; delayMs: number }
  | { kind: 'handed-back'; task: Task }
  | { kind: 'cancelled'; task: Task }
  /** Nothing to run: the task is gone, already ended, or was ended here (out of attempts). */
  | { kind: 'settled'; reason: 'missing' | 'already-final' | 'expired' }
  /** Another worker holds a live lease; it (or the sweeper, if it dies) settles the task. */
  | { kind: 'lease-held' }
  /**
   * Not now: the tenant already runs its quota of tasks, or the task's retry backoff hasn't
   * passed. The message should come back after `delaySeconds` (a fresh copy, so waiting never
   * counts as a receive towards the DLQ).
   */
  | { kind: 'wait'; reason: 'quota' | 'backoff'; delaySeconds: number }
  /** Our lease was taken over while we worked; nothing of ours became visible. */
  | { kind: 'lease-lost' };

export interface RunTaskInput {
  taskId: string;
  /**
   * The message's copy of the row (the submit's): the claim is tried on it instead of a read.
   * A write checks it (on its version); a refusal decided on it alone is decided again on the
   * row, read.
   */
  row?: TaskRowCopy;
  /** Called once the claim is written: the queue message has done its job. */
  ack: () => Promise<void>;
  /** Fires when the worker must stop (drain deadline): the task is handed back. */
  shutdown?: AbortSignal;
  onError?: (error: unknown) => void;
  onClaimed?: (task: Task) => void;
}

/** JSON results up to this size ride inline on the row (DynamoDB items max out at 400 KB). */
const MAX_INLINE_DATA_BYTES = 64 * 1024;

const inlineData = (data: unknown): { data: unknown } | Record<string, never> =>
  Buffer.byteLength(JSON.stringify(data) ?? '', 'utf8') <= MAX_INLINE_DATA_BYTES ? { data } : {};

/**
 * A task waiting for its tenant's running quota comes back after this many seconds, plus as
 * many again of jitter (so a tenant's waiting tasks don't come back as one burst).
 */
export const QUOTA_WAIT_SECONDS = 3;
/**
 * How stale a waiting task's `enqueuedAt` may grow before a wait refreshes it: well inside
 * the sweeper's resend window (minutes), at one write per waiting task per this long.
 */
const ENQUEUED_REFRESH_MS = 30_000;

const leaseLost = () => new BrowserfleetError(ERROR_CODES.LEASE_LOST, 'Another worker took over the task.');
const cancelledByClient = () =>
  new BrowserfleetError(ERROR_CODES.TASK_ALREADY_ENDED, 'The task was cancelled.');

/**
 * Runs one task: claim the lease (conditional write), ack the message, heartbeat while the
 * browser works under the task's deadline, store artifacts under a key that carries the
 * fencing token, then end the row — succeeded, retry with backoff, failed, handed back or
 * cancelled — only while the token still holds.
 */
export const runTask = async (deps: RunTaskDeps, input: RunTaskInput): Promise<RunOutcome> => {
  const now = () => deps.clock.now();
  const claimOn = async (from: Task) =>
    applyEvent(deps.store, from, { kind: 'claim', owner: deps.workerId, leaseMs: deps.leaseMs }, now, {
      maxRunning: await deps.maxRunningTasks(from.tenantId),
    });
  const copy = input.row?.id === input.taskId ? (input.row as Task) : undefined;
  let found = copy ?? (await deps.store.get(input.taskId));
  if (found === undefined) return { kind: 'settled', reason: 'missing' };
  let claim = await claimOn(found);
  if (!claim.ok && copy !== undefined && claim.task === copy && claim.reason !== 'quota-exceeded') {
    // Refused on the message's copy alone, which no write checked: decide on the row. (A
    // quota refusal came from a write whose row condition held: the copy was the row.)
    found = await deps.store.get(input.taskId);
    if (found === undefined) return { kind: 'settled', reason: 'missing' };
    claim = await claimOn(found);
  }
  if (!claim.ok) {
    switch (claim.reason) {
      case 'lease-held':
        return { kind: 'lease-held' };
      case 'quota-exceeded': {
        // The row is the sweeper's record of a message in flight: a waiting task whose copies
        // circulate must say so, or every sweep adds one more copy of it.
        if (claim.task !== undefined && now() - claim.task.enqueuedAt >= ENQUEUED_REFRESH_MS) {
          await applyEvent(deps.store, claim.task, { kind: 'enqueued' }, now).catch((error: unknown) =>
            input.onError?.(error),
          );
        }
        return {
          kind: 'wait',
          reason: 'quota',
          delaySeconds: QUOTA_WAIT_SECONDS + Math.round(deps.random() * QUOTA_WAIT_SECONDS),
        };
      }
      case 'not-yet-available': {
        const waitMs = (claim.task?.availableAt ?? now()) - now();
        return {
          kind: 'wait',
          reason: 'backoff',
          delaySeconds: Math.min(900, Math.max(1, Math.ceil(waitMs / 1000))),
        };
      }
      case 'attempts-exhausted':
      case 'cancel-requested': {
        // The owner died holding a task that is out of attempts or was cancelled: end it.
        if (claim.task !== undefined) await applyEvent(deps.store, claim.task, { kind: 'expire' }, now);
        return { kind: 'settled', reason: 'expired' };
      }
      case 'missing':
        return { kind: 'settled', reason: 'missing' };
      default:
        return { kind: 'settled', reason: 'already-final' };
    }
  }
  let mine = claim.task;
  const token = mine.leaseToken;
  const queueWaitMs = Math.max(0, now() - Math.max(found.availableAt, Date.parse(found.createdAt)));
  input.onClaimed?.(mine);
  // The row is the truth from here on, so the message is deleted now; the browser needn't
  // wait for the queue's answer (one round trip per task), only the task's end does.
  const acked = input.ack().catch((error: unknown) => input.onError?.(error));

  // Writes to our row go one at a time, each from the latest version we wrote.
  let writes: Promise<unknown> = Promise.resolve();
  const write = (event: TaskEvent) => {
    const result = writes.then(() => applyEvent(deps.store, mine, event, now));
    // The chain only orders the writes; each caller awaits (and handles) its own `result`.
    writes = result.catch(() => {});
    return result.then((out) => {
      if (out.ok) mine = out.task;
      return out;
    });
  };

  const stop = new AbortController();
  const stopHeartbeat = deps.clock.every(deps.heartbeatMs, () => {
    void write({ kind: 'heartbeat', leaseToken: token, leaseMs: deps.leaseMs })
      .then((out) => {
        if (!out.ok) stop.abort(leaseLost());
        else if (out.task.cancelRequested === true) stop.abort(cancelledByClient());
      })
      .catch((error: unknown) => {
        input.onError?.(error);
        // Unable to renew: once the lease we hold has run out, someone else may own it.
        if ((mine.lease?.expiresAt ?? 0) <= now()) stop.abort(leaseLost());
      });
  });

  const deadline = deps.clock.timeout(mine.options.timeoutMs);
  const signals = [deadline, stop.signal, ...(input.shutdown ? [input.shutdown] : [])];
  const signal = AbortSignal.any(signals);

  let event: TaskEvent;
  let delayMs = 0;
  try {
    const output = await deps.browser.run({ ...specOf(mine), url: mine.url }, signal);
    if (stop.signal.aborted) throw stop.signal.reason;
    const stored: StoredArtifact[] = [];
    for (const artifact of output.artifacts) {
      // Keyed by the fencing token: a stale attempt's upload can never replace the winner's.
      const key = ARTIFACT_BUCKET.key(mine.id, token, artifact.name);
      await deps.artifacts.put(key, artifact.body, artifact.contentType);
      stored.push({
        name: artifact.name,
        contentType: artifact.contentType,
        size: artifact.body.byteLength,
        key,
      });
    }
    event = {
      kind: 'succeed',
      leaseToken: token,
      result: {
        artifacts: stored,
        finalUrl: output.finalUrl,
        ...(output.httpStatus === undefined ? {} : { httpStatus: output.httpStatus }),
        ...(output.data === undefined ? {} : inlineData(output.data)),
        timings: { queueWaitMs, ...output.timings },
        browserMs: output.browserMs,
        ...(output.blockedRequests === undefined || output.blockedRequests.length === 0
          ? {}
          : { blockedRequests: output.blockedRequests }),
        ...(output.warnings === undefined || output.warnings.length === 0
          ? {}
          : { warnings: output.warnings }),
      },
    };
  } catch (caught) {
    const error = stop.signal.aborted ? stop.signal.reason : caught;
    input.onError?.(error);
    if (isBrowserfleetError(error) && error.code === ERROR_CODES.LEASE_LOST) {
      stopHeartbeat();
      await Promise.all([writes, acked]);
      return { kind: 'lease-lost' };
    }
    if (stop.signal.aborted) {
      event = { kind: 'cancelled', leaseToken: token };
    } else if (input.shutdown?.aborted === true && !deadline.aborted) {
      event = { kind: 'handBack', leaseToken: token };
    } else {
      const classified = classifyError(error);
      const taskError = { code: classified.code, message: classified.message };
      if (classified.retryable && canRetry(mine)) {
        delayMs = backoffDelayMs(failedAttempts(mine) + 1, deps.backoff, deps.random);
        event = { kind: 'retry', leaseToken: token, error: taskError, delayMs };
      } else {
        event = { kind: 'fail', leaseToken: token, error: taskError };
      }
    }
  }
  stopHeartbeat();
  await acked;

  // What the page decided (its URL, its error's message, …) is cut to fit a row.
  const ended = await write(boundTaskEvent(event));
  if (!ended.ok) return { kind: 'lease-lost' };
  const task = ended.task;
  if (task.status === 'queued') {
    // The row says queued; if this send is lost, the sweeper re-sends.
    await deps.queue
      .send({ taskId: task.id, tier: task.tier }, { delaySeconds: delayMs / 1000 })
      .catch((error: unknown) => input.onError?.(error));
    return event.kind === 'retry'
      ? { kind: 'retry-scheduled', task, delayMs }
      : { kind: 'handed-back', task };
  }
  if (task.status === 'succeeded') {
    // After the task ended, so the entry never points at a result that isn't visible. A lost
    // write costs only a later miss (that task runs): the task itself has succeeded.
    const entry = resultCacheEntryOf(task);
    if (entry !== undefined) {
      await deps.resultCache.record(entry).catch((error: unknown) => input.onError?.(error));
    }
    return { kind: 'succeeded', task };
  }
  if (task.status === 'cancelled') return { kind: 'cancelled', task };
  return { kind: 'failed', task };
};
