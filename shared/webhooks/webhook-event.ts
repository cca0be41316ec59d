/**
 * Completion webhooks: the events, what a task row records of them, and the one codec of
 * the webhook queue's messages (the sweeper sends them, the deliverer receives them).
 * Pure: no I/O.
 */
import { z } from 'zod';

export const WEBHOOK_EVENT_TYPES = [
  'task.succeeded',
  'task.failed',
  'task.cancelled',
  'session.ended',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** Delivery attempts a task row keeps (and its view shows): the most recent ones. */
export const MAX_RECORDED_DELIVERIES = 10;

/** One attempt to deliver an event to one URL. */
export interface WebhookDelivery {
  /** ISO-8601 time the attempt started. */
  at: string;
  url: string;
  /** The receiver's HTTP status; absent when no answer came (refused, timed out, blocked). */
  status?: number;
  /** How long the attempt took. */
  ms: number;
  error?: string;
}

/**
 * What a task or session row holds of its webhook: where (a task's own URL), and how
 * delivery went.
 */
export interface WebhookRecord {
  /** A task's own endpoint (`webhook.url` at submit); the tenant's endpoints come on top. */
  url?: string;
  deliveries: WebhookDelivery[];
  /** URLs that answered 2xx for the end event: a redelivery skips them. */
  delivered?: string[];
}

/**
 * The outbox entry of an event not yet handed to the webhook queue. The transition that
 * ends the task writes it in the same conditional write as the end, so a crash between
 * that write and the send loses nothing: the sweeper sends every entry that is due.
 */
export interface WebhookOutbox {
  /** `webhook-id`: the same for every attempt and every copy, so receivers can dedupe. */
  eventId: string;
  type: WebhookEventType;
  /** Epoch ms when the sweeper should (re-)send it: at once, then after its resend window. */
  dueAt: number;
}

/** The id of a task's end event: derived from the task, so every copy carries the same. */
export const taskEventId = (taskId: string): string => `msg_task_${taskId}`;

export const taskEventType = (status: 'succeeded' | 'failed' | 'cancelled'): WebhookEventType =>
  `task.${status}`;

/** The id of a session's end event. */
export const sessionEventId = (sessionId: string): string => `msg_session_${sessionId}`;

/** Which row an event is about: a task (by id), or a session (keyed by tenant and id). */
export type WebhookSubject = { taskId: string } | { tenantId: string; sessionId: string };

/** A message on the webhook queue: which event, of which task or session. The row is the truth. */
export type WebhookMessage = {
  eventId: string;
  type: WebhookEventType;
  /** Which delivery attempt this copy is (1 when absent): a retry is a fresh, delayed copy. */
  attempt?: number;
} & WebhookSubject;

const messageBase = {
  eventId: z.string().min(1).max(200),
  attempt: z.int().min(1).max(1_000).exactOptional(),
};
const webhookMessageSchema = z.union([
  z.strictObject({
    ...messageBase,
    type: z.enum(['task.succeeded', 'task.failed', 'task.cancelled']),
    taskId: z.string().min(1).max(64),
  }),
  z.strictObject({
    ...messageBase,
    type: z.literal('session.ended'),
    tenantId: z.string().min(1).max(64),
    sessionId: z.string().min(1).max(64),
  }),
]);

export const encodeWebhookMessage = (message: WebhookMessage): string => JSON.stringify(message);

/** A webhook queue body, or undefined when it isn't one of ours (left for the DLQ). */
export const decodeWebhookMessage = (body: string | undefined): WebhookMessage | undefined => {
  let json: unknown;
  try {
    json = JSON.parse(body ?? '');
  } catch {
    return undefined;
  }
  const parsed = webhookMessageSchema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
};

/** Appends attempts, keeping the most recent `MAX_RECORDED_DELIVERIES`. */
export const recordDeliveries = (
  webhook: WebhookRecord,
  attempts: readonly WebhookDelivery[],
): WebhookDelivery[] => [...webhook.deliveries, ...attempts].slice(-MAX_RECORDED_DELIVERIES);
