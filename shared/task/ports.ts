/**
 * Ports of the task path: the I/O edges the use cases talk to. Each has an adapter on the
 * real AWS SDK or Puppeteer in `shared/adapters/`, and the store has an in-memory twin
 * that the same contract suite runs against.
 */

import type { Task, TaskWarning } from './task.js';
import type { TaskSpec, Tier } from './task-input.js';

export type SaveOutcome =
  | { saved: true }
  | { saved: false; current: Task | undefined }
  /** The write would take the tenant past `maxRunningTasks`. */
  | { saved: false; quotaExceeded: 'maxRunningTasks' };

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
   * Live tasks in `status` whose sweep is due before `before` (see `sweepDueAt`), oldest
   * first, at most `limit`.
   */
  listDue(status: 'queued' | 'running', before: number, limit: number): Promise<Task[]>;
  usage(tenantId: string): Promise<TaskUsage>;
}

export interface TaskMessage {
  taskId: string;
  /** Which tier's queue the message is for (informational on a received message). */
  tier?: Tier;
}

/** Sends a task's message to the queue of the tier it was routed to. */
export interface TaskDispatcher {
  send(message: TaskMessage & { tier: Tier }, options?: { delaySeconds?: number }): Promise<void>;
}

/** A live session for a fleet worker to start (the fleet queue carries both kinds). */
export interface SessionMessage {
  sessionId: string;
  tenantId: string;
}

export type FleetMessage = TaskMessage | SessionMessage;

export const isSessionMessage = (m: FleetMessage): m is SessionMessage => 'sessionId' in m;

export interface ReceivedMessage {
  message: FleetMessage;
  /** Opaque handle to delete the message once its task is settled. */
  receipt: string;
}

export interface TaskQueue {
  /** Sends a message, visible after `delaySeconds` (SQS allows at most 900). */
  send(message: FleetMessage, options?: { delaySeconds?: number }): Promise<void>;
  /** Long-polls for up to `waitSeconds`; an aborted poll answers no messages. */
  receive(options: { waitSeconds: number; signal?: AbortSignal }): Promise<ReceivedMessage[]>;
  delete(receipt: string): Promise<void>;
  /** Hides a received message for `seconds` more (it comes back then), instead of deleting it. */
  defer(receipt: string, seconds: number): Promise<void>;
}

export interface ArtifactStore {
  put(key: string, body: Uint8Array, contentType: string): Promise<void>;
  /** A URL that downloads the object without credentials until it expires. */
  presignGet(key: string, expiresInSeconds: number): Promise<string>;
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

/** Something the health check can ask whether it is up. */
export interface Pingable {
  ping(): Promise<void>;
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
