/**
 * The queues between the API and the runners: what a message says, the port both tiers'
 * queues implement, and the one codec for message bodies, used by whoever sends and
 * whoever receives (the SQS adapter, the Lambda tier's handler). The row, not the message,
 * is the truth: a message only names the task or session to look at.
 */
import { z } from 'zod';

/** The tiers a task can run on; each has its own queue. */
export type Tier = 'lambda' | 'fleet';

export interface TaskMessage {
  taskId: string;
  /** Which tier's queue the message is for (informational on a received message). */
  tier?: Tier;
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

const taskMessageSchema = z.object({
  taskId: z.string().min(1),
  tier: z.enum(['lambda', 'fleet']).exactOptional(),
});
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
