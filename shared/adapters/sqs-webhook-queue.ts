import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { WebhookQueue } from '../webhooks/ports.js';
import { encodeWebhookMessage, type WebhookMessage } from '../webhooks/webhook-event.js';

/**
 * The webhook queue (or its DLQ): bodies are `{ eventId, type, taskId, attempt? }`; the
 * task row is the truth.
 */
export class SqsWebhookQueue implements WebhookQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(message: WebhookMessage, options: { delaySeconds?: number } = {}): Promise<void> {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: encodeWebhookMessage(message),
        ...(options.delaySeconds === undefined
          ? {}
          : { DelaySeconds: Math.min(900, Math.max(0, Math.ceil(options.delaySeconds))) }),
      }),
    );
  }
}
