/**
 * Wires the `submitTask` use case to its adapters: the same for every function that accepts
 * tasks (`POST /v1/tasks`, its batch, the MCP one-shot tools), so none can leave a part out.
 */

import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { systemDnsResolver } from '../adapters/dns-resolver.js';
import { DynamoDbIdempotencyStore } from '../adapters/dynamodb-idempotency-store.js';
import { DynamoDbResultCache } from '../adapters/dynamodb-result-cache.js';
import { DynamoDbTaskStore } from '../adapters/dynamodb-task-store.js';
import { DynamoDbTenantStore } from '../adapters/dynamodb-tenant-store.js';
import { SqsTaskQueue, TieredTaskDispatcher } from '../adapters/sqs-task-queue.js';
import { systemClock } from '../clock.js';
import { type AllowEntry, checkDestination } from '../egress/egress-policy.js';
import { newTimeOrderedId } from '../ids.js';
import type { SubmitTaskDeps } from '../task/submit-task.js';

/** What a task-accepting function's config holds for it (`acceptsTasks`, both tiers' queues). */
export interface SubmitTaskWiring {
  stateTable: string;
  fleetQueueUrl: string;
  lambdaQueueUrl: string;
  egressAllow: AllowEntry[];
  idempotencyTtlSeconds: number;
}

export const createSubmitTaskDeps = (
  dynamo: DynamoDBDocumentClient,
  sqs: SQSClient,
  config: SubmitTaskWiring,
) => {
  const tenants = new DynamoDbTenantStore(dynamo, config.stateTable);
  return {
    store: new DynamoDbTaskStore(dynamo, config.stateTable),
    idempotency: new DynamoDbIdempotencyStore(dynamo, config.stateTable),
    idempotencyTtlSeconds: config.idempotencyTtlSeconds,
    resultCache: new DynamoDbResultCache(dynamo, config.stateTable),
    queue: new TieredTaskDispatcher({
      fleet: new SqsTaskQueue(sqs, config.fleetQueueUrl),
      lambda: new SqsTaskQueue(sqs, config.lambdaQueueUrl),
    }),
    clock: systemClock,
    newId: () => newTimeOrderedId(),
    checkDestination: (url: string) =>
      checkDestination(url, { allow: config.egressAllow, resolve: systemDnsResolver }),
    // With an endpoint for task events, every task of the tenant carries a webhook.
    tenantWebhooks: async (tenantId: string) => (await tenants.getTenant(tenantId))?.webhooks,
  } satisfies SubmitTaskDeps;
};
