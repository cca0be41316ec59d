/**
 * The webhook deliverer: one event per invocation from the webhook queue (batch size 1,
 * partial batch failure reporting). Each message is one attempt, and says which. A failed
 * attempt sends a fresh copy (the next attempt) delayed by the backoff, then this one is
 * done; after the last attempt the event goes to the dead-letter queue. A copy whose
 * invocation crashes comes back after the queue's visibility timeout, and after
 * QUEUES.maxReceiveCount of those the queue's redrive moves it to the DLQ too.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { systemDnsResolver } from '../shared/adapters/dns-resolver.js';
import { createDynamoClient } from '../shared/adapters/dynamodb-client.js';
import { DynamoDbSessionStore } from '../shared/adapters/dynamodb-session-store.js';
import { DynamoDbTaskStore } from '../shared/adapters/dynamodb-task-store.js';
import { DynamoDbTenantStore } from '../shared/adapters/dynamodb-tenant-store.js';
import { EmfMetrics } from '../shared/adapters/emf-metrics.js';
import { GuardedWebhookSender } from '../shared/adapters/guarded-webhook-sender.js';
import { S3ArtifactStore } from '../shared/adapters/s3-artifact-store.js';
import { createS3Client } from '../shared/adapters/s3-client.js';
import { createSqsClient } from '../shared/adapters/sqs-client.js';
import { SqsWebhookQueue } from '../shared/adapters/sqs-webhook-queue.js';
import { systemClock } from '../shared/clock.js';
import { loadWebhookDelivererConfig, type WebhookDelivererConfig } from '../shared/config.js';
import { QUEUES } from '../shared/contracts.js';
import { type Metrics, noopMetrics } from '../shared/metrics/metrics.js';
import { presentTask } from '../shared/task/get-task.js';
import { type DeliverWebhookDeps, deliverWebhook } from '../shared/webhooks/deliver-webhook.js';
import type { WebhookQueue } from '../shared/webhooks/ports.js';
import { decodeWebhookMessage } from '../shared/webhooks/webhook-event.js';
import { lazy } from './entry/lazy.js';

export interface WebhookDelivererDeps {
  deliver: DeliverWebhookDeps;
  /** Its own queue, for the next attempt's copy, and its dead-letter queue. */
  queue: WebhookQueue;
  deadLetters: WebhookQueue;
  logger: Logger;
  metrics: Metrics;
}

export const createWebhookDelivererDeps = (config: WebhookDelivererConfig): WebhookDelivererDeps => {
  const dynamo = createDynamoClient(config.aws);
  const tenants = new DynamoDbTenantStore(dynamo, config.stateTable);
  const sqs = createSqsClient(config.aws);
  const artifacts = new S3ArtifactStore(createS3Client(config.aws), config.artifactBucket);
  return {
    deliver: {
      store: new DynamoDbTaskStore(dynamo, config.stateTable),
      sessions: new DynamoDbSessionStore(dynamo, config.stateTable),
      tenantWebhooks: async (tenantId) => (await tenants.getTenant(tenantId))?.webhooks,
      sender: new GuardedWebhookSender({
        allow: config.egressAllow,
        resolve: systemDnsResolver,
        timeoutMs: config.timeoutMs,
      }),
      present: (task) =>
        presentTask({ artifacts, artifactUrlTtlSeconds: config.artifactUrlTtlSeconds }, task),
      clock: systemClock,
      backoff: config.backoff,
      random: Math.random,
      maxAttempts: QUEUES.webhookMaxAttempts,
    },
    queue: new SqsWebhookQueue(sqs, config.webhookQueueUrl),
    deadLetters: new SqsWebhookQueue(sqs, config.webhookDlqUrl),
    logger: new Logger({ serviceName: 'browserfleet-webhooks', logLevel: config.logLevel }),
    metrics: config.metricsEnabled
      ? new EmfMetrics({ stage: config.stage, defaults: { service: 'webhooks' } })
      : noopMetrics,
  };
};

export const buildHandler =
  (deps: WebhookDelivererDeps) =>
  async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const handleRecord = async (record: SQSRecord): Promise<void> => {
      const message = decodeWebhookMessage(record.body);
      // Not one of ours: fail it, so its receives end in the DLQ where an operator can look.
      if (message === undefined) throw new Error(`Malformed webhook message ${record.messageId}`);
      const attempt = message.attempt ?? 1;
      const outcome = await deliverWebhook(deps.deliver, { message });
      deps.logger.info('webhook attempt', { ...message, attempt, outcome: outcome.kind });
      deps.metrics.count('WebhookDeliveries', 1, { outcome: outcome.kind });
      // If either send is lost, the record fails and this attempt is made again.
      if (outcome.kind === 'retry') {
        await deps.queue.send({ ...message, attempt: attempt + 1 }, { delaySeconds: outcome.delaySeconds });
      } else if (outcome.kind === 'exhausted') {
        await deps.deadLetters.send(message);
      }
    };
    // A failed record (a send to SQS lost) is a partial batch failure, never a thrown
    // invocation, so the function's Errors alarm stays for crashes.
    return processPartialResponse(event, handleRecord, new BatchProcessor(EventType.SQS), {
      context,
      throwOnFullBatchFailure: false,
    });
  };

export const handler = lazy(() =>
  buildHandler(createWebhookDelivererDeps(loadWebhookDelivererConfig(process.env))),
);
