/**
 * Waiting is not failing: a message that can't be worked on yet (its tenant runs its quota
 * of tasks, or the worker has no free session slot) goes back as a fresh copy. Hiding the
 * received copy instead would count each wait as a receive, and after the queue's
 * `maxReceiveCount` a healthy task would land in the DLQ and raise its alarm.
 */
import {
  type FleetMessage,
  isSessionMessage,
  type ReceivedMessage,
  type TaskQueue,
} from '../core/fleet-queue.js';

/** A task message's copy of the row is stale once the message was worked on: not sent on. */
const withoutRowCopy = (message: FleetMessage): FleetMessage => {
  if (isSessionMessage(message)) return message;
  const { row: _row, ...rest } = message;
  return rest;
};

/**
 * Sends the message again, visible after `seconds`, then deletes the received copy. A crash
 * between the two leaves a duplicate, which the lease turns away.
 */
export const postponeMessage = async (
  queue: Pick<TaskQueue, 'send' | 'delete'>,
  received: ReceivedMessage,
  seconds: number,
): Promise<void> => {
  await queue.send(withoutRowCopy(received.message), { delaySeconds: seconds });
  await queue.delete(received.receipt);
};
