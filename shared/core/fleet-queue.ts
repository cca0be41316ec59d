/**
 * The queues between the API and the runners: what a message says, the port both tiers'
 * queues implement, and the one codec for message bodies, used by whoever sends and
 * whoever receives (the SQS adapter, the Lambda tier's handler). The row, not the message,
 * is the truth: a message names the task or session to look at, and may carry a copy of the
 * task's row that the claim is tried on (`TaskMessage.row`), which a conditional write checks.
 */
import { z } from 'zod';

/** The tiers a task can run on; each has its own queue. */
export type Tier = 'lambda' | 'fleet';

/** A task's row as the sender wrote it: all of it, at its `version`. */
export interface TaskRowCopy {
  readonly id: string;
  readonly version: number;
}

/**
 * SQS bills each 64 KB of a message as one request: a row copy that would take the message
 * past that is left out (the claim reads the row instead, one read for one request saved).
 */
const MAX_ROW_COPY_BYTES = 60 * 1024;

/** `message` with `row` as its copy of the row, when that fits (see `MAX_ROW_COPY_BYTES`). */
export const withRowCopy = <M extends TaskMessage>(message: M, row: TaskRowCopy): M =>
  new TextEncoder().encode(JSON.stringify(row)).byteLength <= MAX_ROW_COPY_BYTES
    ? { ...message, row }
    : message;

export interface TaskMessage {
  taskId: string;
  /** Which tier's queue the message is for (informational on a received message). */
  tier?: Tier;
  /**
   * The whole row as the sender just wrote it (the submit sends the task it created): the
   * claim's conditional write is tried on this copy, so a first delivery is claimed without
   * reading the row. A copy the row has moved on from fails that write, which answers the
   * row as it stands; only ever a hint.
   */
  row?: TaskRowCopy;
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
}

/** Sends a task's message to the queue of the tier it was routed to. */
export interface TaskDispatcher {
  send(message: TaskMessage & { tier: Tier }, options?: { delaySeconds?: number }): Promise<void>;
}

const taskMessageSchema = z
  .object({
    taskId: z.string().min(1),
    tier: z.enum(['lambda', 'fleet']).exactOptional(),
    row: z.looseObject({ id: z.string().min(1), version: z.number().int().nonnegative() }).exactOptional(),
  })
  // A copy of another task's row is no copy of this one's.
  .transform(({ row, ...message }) =>
    row === undefined || row.id !== message.taskId ? message : { ...message, row },
  );
const fleetMessageSchema = z.union([
  taskMessageSchema,
  z.object({ sessionId: z.string().min(1), tenantId: z.string().min(1) }),
]);

/** A message as its queue carries it: `{"taskId":…}` or `{"sessionId":…,"tenantId":…}`. */
export const encodeQueueMessage = (message: FleetMessage): string => JSON.stringify(message);

const parsedJson = (body: string | undefined): unknown => {
  try {
    return JSON.parse(body ?? '');
  } catch {
    return undefined;
  }
};

/** A fleet queue body, or undefined when it isn't one of ours (left for the DLQ). */
export const decodeFleetMessage = (body: string | undefined): FleetMessage | undefined => {
  const parsed = fleetMessageSchema.safeParse(parsedJson(body));
  return parsed.success ? parsed.data : undefined;
};

/** A Lambda-tier queue body (tasks only), or undefined when it isn't one. */
export const decodeTaskMessage = (body: string | undefined): TaskMessage | undefined => {
  const parsed = taskMessageSchema.safeParse(parsedJson(body));
  return parsed.success ? parsed.data : undefined;
};
