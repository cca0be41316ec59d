import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type ReceiveMessageCommandOutput,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import {
  decodeFleetMessage,
  encodeQueueMessage,
  type FleetMessage,
  type ReceivedMessage,
  type TaskDispatcher,
  type TaskMessage,
  type TaskQueue,
  type Tier,
} from '../core/fleet-queue.js';
import { BrowserfleetError, ERROR_CODES } from '../errors.js';
import type { Pingable } from '../health/ports.js';

/**
 * The tier's SQS queue. Bodies are `{ "taskId": … }` (or, on the fleet queue, `{ "sessionId",
 * "tenantId" }`): the row, not the message, is the truth.
 */
export class SqsTaskQueue implements TaskQueue, Pingable {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
    private readonly onMalformed: (body: string | undefined) => void = () => {},
  ) {}

  async send(message: FleetMessage, options: { delaySeconds?: number } = {}): Promise<void> {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: encodeQueueMessage(message),
        ...(options.delaySeconds === undefined
          ? {}
          : { DelaySeconds: Math.min(900, Math.max(0, Math.ceil(options.delaySeconds))) }),
      }),
    );
  }

  async receive(options: { waitSeconds: number; signal?: AbortSignal }): Promise<ReceivedMessage[]> {
    if (options.signal?.aborted) return [];
    const signal = options.signal;
    const request = this.client.send(
      new ReceiveMessageCommand({
        QueueUrl: this.queueUrl,
        // One at a time: each slot pulls its own work, and the local emulator holds a
        // multi-message long poll open for its full wait even when messages are ready.
        MaxNumberOfMessages: 1,
        WaitTimeSeconds: options.waitSeconds,
      }),
      signal === undefined ? {} : { abortSignal: signal },
    );
    let out: ReceiveMessageCommandOutput | undefined;
    const aborted = signal === undefined ? undefined : abortedAsEmpty(signal);
    try {
      // The race makes an abort answer at once even where the HTTP handler keeps the
      // long poll open; a message received after the abort is not lost, it just becomes
      // visible again after the visibility timeout.
      out = await (aborted === undefined ? request : Promise.race([request, aborted.promise]));
    } catch (error) {
      if (signal?.aborted) return [];
      throw error;
    } finally {
      // The worker's polling signal lives as long as the worker: a listener left on it per
      // receive would pile up for good, one per message the worker ever took.
      aborted?.stopListening();
    }
    if (out === undefined) {
      // The abandoned long poll's own outcome no longer matters (see the race above).
      request.catch(() => {});
      return [];
    }
    const received: ReceivedMessage[] = [];
    for (const m of out.Messages ?? []) {
      if (m.ReceiptHandle === undefined) continue;
      const message = decodeFleetMessage(m.Body);
      if (message === undefined) {
        // Not ours to run; leave it for the DLQ, where an operator can look at it.
        this.onMalformed(m.Body);
        continue;
      }
      received.push({ message, receipt: m.ReceiptHandle });
    }
    return received;
  }

  async delete(receipt: string): Promise<void> {
    await this.client.send(new DeleteMessageCommand({ QueueUrl: this.queueUrl, ReceiptHandle: receipt }));
  }

  /** Messages waiting (visible, including delayed ones) and in flight (received, not deleted). */
  async depth(): Promise<{ waiting: number; inFlight: number }> {
    const out = await this.client.send(
      new GetQueueAttributesCommand({
        QueueUrl: this.queueUrl,
        AttributeNames: [
          'ApproximateNumberOfMessages',
          'ApproximateNumberOfMessagesDelayed',
          'ApproximateNumberOfMessagesNotVisible',
        ],
      }),
    );
    const a = out.Attributes ?? {};
    return {
      waiting: Number(a.ApproximateNumberOfMessages ?? 0) + Number(a.ApproximateNumberOfMessagesDelayed ?? 0),
      inFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
    };
  }

  async ping(): Promise<void> {
    await this.client.send(
      new GetQueueAttributesCommand({ QueueUrl: this.queueUrl, AttributeNames: ['QueueArn'] }),
    );
  }
}

/** Resolves (empty) when `signal` aborts; `stopListening` once the race is decided. */
const abortedAsEmpty = (signal: AbortSignal): { promise: Promise<undefined>; stopListening(): void } => {
  let onAbort = () => {};
  const promise = new Promise<undefined>((resolve) => {
    onAbort = () => resolve(undefined);
    if (signal.aborted) resolve(undefined);
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  return { promise, stopListening: () => signal.removeEventListener('abort', onAbort) };
};

/** Routes each message to its tier's queue. */
export class TieredTaskDispatcher implements TaskDispatcher {
  constructor(private readonly queues: Record<Tier, Pick<TaskQueue, 'send'>>) {}

  send(message: TaskMessage & { tier: Tier }, options?: { delaySeconds?: number }): Promise<void> {
    return this.queues[message.tier].send(message, options);
  }
}

/**
 * A runner's dispatcher: the queue of the one tier it runs, to retry or hand back a task.
 * A runner is only given tasks of its tier (a task's tier never changes), so it is neither
 * told of nor granted the other tier's queue. A message for another tier is refused; the
 * row is queued either way, and the sweeper sends it to the right queue.
 */
export class OneTierDispatcher implements TaskDispatcher {
  constructor(
    private readonly tier: Tier,
    private readonly queue: Pick<TaskQueue, 'send'>,
  ) {}

  send(message: TaskMessage & { tier: Tier }, options?: { delaySeconds?: number }): Promise<void> {
    if (message.tier !== this.tier) {
      return Promise.reject(
        new BrowserfleetError(
          ERROR_CODES.INTERNAL,
          `Task ${message.taskId} is for the ${message.tier} tier; this runner sends only to the ${this.tier} queue.`,
        ),
      );
    }
    return this.queue.send(message, options);
  }
}
