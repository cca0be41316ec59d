/**
 * Ports of the task path: the I/O edges the use cases talk to. Each has an adapter on the
 * real AWS SDK or Puppeteer in `shared/adapters/`, and the store has an in-memory twin
 * that the same contract suite runs against.
 */

import type { Task, TaskStatus } from './task.js';
import type { ScreenshotOptions, TaskType } from './task-input.js';

/** What the conditional write expects to find in the row it replaces. */
export interface ExpectedRow {
  status: TaskStatus;
  leaseToken: number;
}

export type SaveOutcome = { saved: true } | { saved: false; current: Task | undefined };

export interface TaskStore {
  /** Writes a new task; fails with `CONFLICT` if the id exists. */
  create(task: Task): Promise<void>;
  get(id: string): Promise<Task | undefined>;
  /**
   * Replaces the row only if it still has `expected` status and token. On a lost race,
   * answers the row as it stands, without a second read.
   */
  save(next: Task, expected: ExpectedRow): Promise<SaveOutcome>;
}

export interface TaskMessage {
  taskId: string;
}

export interface ReceivedMessage {
  message: TaskMessage;
  /** Opaque handle to delete the message once its task is settled. */
  receipt: string;
}

export interface TaskQueue {
  send(message: TaskMessage): Promise<void>;
  /** Long-polls for up to `waitSeconds`; an aborted poll answers no messages. */
  receive(options: { waitSeconds: number; signal?: AbortSignal }): Promise<ReceivedMessage[]>;
  delete(receipt: string): Promise<void>;
}

export interface ArtifactStore {
  put(key: string, body: Uint8Array, contentType: string): Promise<void>;
  /** A URL that downloads the object without credentials until it expires. */
  presignGet(key: string, expiresInSeconds: number): Promise<string>;
}

export interface BrowserJob {
  type: TaskType;
  url: string;
  options: ScreenshotOptions;
}

export interface ProducedArtifact {
  name: string;
  contentType: string;
  body: Uint8Array;
}

export interface BrowserOutput {
  artifacts: ProducedArtifact[];
  finalUrl: string;
  httpStatus: number | undefined;
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
