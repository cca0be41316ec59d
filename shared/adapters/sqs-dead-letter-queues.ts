import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { DeadLetter, DeadLetterQueues } from '../dlq/ports.js';

/** A tier's DLQ and source queue on SQS. */
export class SqsDeadLetterQueues implements DeadLetterQueues {
  constructor(
    private readonly client: SQSClient,
    private readonly dlqUrl: string,
    private readonly sourceUrl: string,
  ) {}

  async receive(max: number, hideSeconds: number): Promise<(DeadLetter & { receipt: string })[]> {
    const out: (DeadLetter & { receipt: string })[] = [];
    // One at a time, without waiting: SQS may answer fewer than asked even when more are
    // there, and the local emulator holds multi-message polls open for their full wait.
    while (out.length < max) {
      const res = await this.client.send(
        new ReceiveMessageCommand({
          QueueUrl: this.dlqUrl,
          MaxNumberOfMessages: 1,
          WaitTimeSeconds: 0,
          VisibilityTimeout: hideSeconds,
          MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
        }),
      );
      const m = res.Messages?.[0];
      if (m?.ReceiptHandle === undefined) break;
      out.push({
        messageId: m.MessageId ?? '',
        body: m.Body ?? '',
        receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 0),
        sentAt: new Date(Number(m.Attributes?.SentTimestamp ?? 0)).toISOString(),
        receipt: m.ReceiptHandle,
      });
    }
    return out;
  }

  async release(receipt: string): Promise<void> {
    await this.client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: this.dlqUrl,
        ReceiptHandle: receipt,
        VisibilityTimeout: 0,
      }),
    );
  }

  async delete(receipt: string): Promise<void> {
    await this.client.send(new DeleteMessageCommand({ QueueUrl: this.dlqUrl, ReceiptHandle: receipt }));
  }

  async sendToSource(body: string): Promise<void> {
    await this.client.send(new SendMessageCommand({ QueueUrl: this.sourceUrl, MessageBody: body }));
  }
}
