/** Ports of the dead-letter path. */

export interface DeadLetter {
  messageId: string;
  body: string;
  receiveCount: number;
  sentAt: string;
}

/** Port: a dead-letter queue and the queue its messages came from. */
export interface DeadLetterQueues {
  /** Receives up to `max` messages, each hidden for `hideSeconds`. */
  receive(max: number, hideSeconds: number): Promise<(DeadLetter & { receipt: string })[]>;
  /** Makes a received message visible again at once. */
  release(receipt: string): Promise<void>;
  delete(receipt: string): Promise<void>;
  sendToSource(body: string): Promise<void>;
}
