/**
 * The operator's path for dead letters: look at what a queue's DLQ holds without consuming
 * it, and move it back to the queue. Re-driving is safe: a task message only names a task,
 * and a claim is a conditional write, so a message for a task that already ended is simply
 * dropped; a webhook event skips the endpoints that already answered 2xx.
 */
import { decodeWebhookMessage, encodeWebhookMessage } from '../webhooks/webhook-event.js';
import type { DeadLetter, DeadLetterQueues } from './ports.js';
/** Lists up to `max` dead letters and leaves them in place. */
export const inspectDeadLetters = async (dlq: DeadLetterQueues, max: number): Promise<DeadLetter[]> => {
  const received = await dlq.receive(max, 30);
  for (const m of received) await dlq.release(m.receipt);
  return received.map(({ receipt: _receipt, ...letter }) => letter);
};

/**
 * Moves up to `max` dead letters back to their source queue: send first, then delete.
 * `rewrite` turns a dead letter's body into the one sent back (a webhook event starts its
 * attempts over).
 */
export const redriveDeadLetters = async (
  dlq: DeadLetterQueues,
  max: number,
  rewrite: (body: string) => string = (body) => body,
): Promise<{ moved: number }> => {
  let moved = 0;
  while (moved < max) {
    const batch = await dlq.receive(Math.min(10, max - moved), 60);
    if (batch.length === 0) break;
    for (const m of batch) {
      await dlq.sendToSource(rewrite(m.body));
      await dlq.delete(m.receipt);
      moved++;
    }
  }
  return { moved };
};

/** A dead webhook event sent back with its attempts started over; anything else as it was. */
export const restartWebhookAttempts = (body: string): string => {
  const message = decodeWebhookMessage(body);
  if (message === undefined) return body;
  const { attempt: _attempt, ...first } = message;
  return encodeWebhookMessage(first);
};
