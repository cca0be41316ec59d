/**
 * The operator's path for dead letters: look at what a tier's DLQ holds without consuming
 * it, and move it back to the tier's queue. Re-driving is safe: a task message only names
 * a task, and a claim is a conditional write, so a message for a task that already ended
 * is simply dropped.
 */
import type { DeadLetter, DeadLetterQueues } from './ports.js';
/** Lists up to `max` dead letters and leaves them in place. */
export const inspectDeadLetters = async (dlq: DeadLetterQueues, max: number): Promise<DeadLetter[]> => {
  const received = await dlq.receive(max, 30);
  for (const m of received) await dlq.release(m.receipt);
  return received.map(({ receipt: _receipt, ...letter }) => letter);
};

/** Moves up to `max` dead letters back to their source queue: send first, then delete. */
export const redriveDeadLetters = async (dlq: DeadLetterQueues, max: number): Promise<{ moved: number }> => {
  let moved = 0;
  while (moved < max) {
    const batch = await dlq.receive(Math.min(10, max - moved), 60);
    if (batch.length === 0) break;
    for (const m of batch) {
      await dlq.sendToSource(m.body);
      await dlq.delete(m.receipt);
      moved++;
    }
  }
  return { moved };
};
