/**
 * Ports of the task path: the I/O edges the use cases talk to (the queues are in
 * core/fleet-queue.ts, the artifact store in core/artifact-store.ts). Each has an adapter on the
 * real AWS SDK or Puppeteer in `shared/adapters/`, and the store has an in-memory twin
 * that the same contract suite runs against.
 */

import type { ResultCacheEntry } from './result-cache.js';
import type { SweepList, Task, TaskStatus, TaskWarning } from './task.js';
import type { TaskSpec, TaskType } from './task-input.js';

export type SaveOutcome =
  | { saved: true }
  | { saved: false; current: Task | undefined }
  /** The write would take the tenant past `maxRunningTasks`. */
  | { saved: false; quotaExceeded: 'maxRunningTasks' };

/** A task's place in its tenant's history: newest first is `createdAt`, then `id`, descending. */
export interface HistoryPosition {
  createdAt: string;
  id: string;
}

/** One read of a tenant's history, newest first. */
export interface HistoryRead {
  /** Reads rows older than this one (a page's last row); from the newest when absent. */
  after?: HistoryPosition;
  /** Reads only rows created at or after this ISO-8601 time (canonical `toISOString` form). */
  since?: string;
  status?: TaskStatus;
  type?: TaskType;
  /** Rows to read, before the status and type filters: what one read costs. */
  maxRows: number;
}

export interface HistoryPage {
  /** The rows read that pass the filters, newest first. */
  tasks: Task[];
  /** The last row read, when older rows may follow; absent when the history ends here. */
  last?: HistoryPosition;
}

/** A tenant's live task counts, kept by the store in the same writes as the tasks. */
export interface TaskUsage {
  queuedTasks: number;
  runningTasks: number;
}

export interface TaskStore {
  /**
   * Writes a new task; fails with `CONFLICT` if the id exists, and with `QUOTA_EXCEEDED`
   * if the tenant already has `maxQueued` tasks waiting.
   */
  create(task: Task, quota?: { maxQueued: number }): Promise<void>;
  get(id: string): Promise<Task | undefined>;
  /**
   * Replaces `current` with `next` only if the row is still at `current.version`. On a lost
   * race, answers the row as it stands, without a second read. A write that starts a run
   * is refused past `maxRunning` running tasks for the tenant.
   */
  save(next: Task, current: Task, quota?: { maxRunning: number }): Promise<SaveOutcome>;
  /**
   * Tasks on a sweep list (live ones by status; ended ones whose webhook event waits in
   * the outbox) whose sweep is due before `before` (see `sweepDueAt`), oldest first, at
   * most `limit`.
   */
  listDue(status: SweepList, before: number, limit: number): Promise<Task[]>;
  /**
   * One read of the tenant's tasks, newest first (`listTasks` pages through these). Served
   * by an index, so eventually consistent: a task just created may be missing for a moment.
   */
  listByTenant(tenantId: string, read: HistoryRead): Promise<HistoryPage>;
  usage(tenantId: string): Promise<TaskUsage>;
}

export type BrowserJob = TaskSpec & { url: string };

export interface ProducedArtifact {
  name: string;
  contentType: string;
  body: Uint8Array;
}

export interface BrowserOutput {
  artifacts: ProducedArtifact[];
  finalUrl: string;
  httpStatus: number | undefined;
  /** The JSON result of data-producing types (scrape, links, evaluate, markdown, content). */
  data?: unknown;
  timings: { launchMs: number; navigationMs: number; captureMs: number };
  /** The task's browser context, open to closed. */
  browserMs: number;
  blockedRequests?: { url: string; reason: string }[];
  warnings?: TaskWarning[];
}

export interface BrowserRunner {
  /** Runs one job in an isolated browser context; aborts when `signal` fires. */
  run(job: BrowserJob, signal: AbortSignal): Promise<BrowserOutput>;
  close(): Promise<void>;
}

/** What an Idempotency-Key remembers: which request it was first used for, and its task. */
export interface IdempotencyRecord {
  tenantId: string;
  key: string;
  requestHash: string;
  taskId: string;
  /** Epoch seconds; after this the key may be used for a new request. */
  expiresAt: number;
}

export type IdempotencyClaim = { claimed: true } | { claimed: false; existing: IdempotencyRecord };

export interface IdempotencyStore {
  /** Records the key unless a live record holds it; then answers that record. */
  claim(record: IdempotencyRecord, nowSeconds: number): Promise<IdempotencyClaim>;
}

/**
 * The result cache's entries (result-cache.ts). The store only keeps them; whether one is
 * still fresh is the caller's to judge, with its clock (DynamoDB's TTL deletes rows days late).
 */
export interface ResultCache {
  /** The tenant's entry for `key`, fresh or not; `undefined` if there is none. */
  get(tenantId: string, key: string): Promise<ResultCacheEntry | undefined>;
  /** Records `entry` unless the stored one holds a result at least as new (`endedAtMs`). */
  record(entry: ResultCacheEntry): Promise<void>;
}
