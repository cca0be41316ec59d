/**
 * Composition of the HTTP functions' dependencies from their config. Each entry file calls
 * it once per process (a Lambda cold start); the local cloud calls it once for all routes.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import {
  type AwsClients,
  createAwsClients,
  createSecretsManagerClient,
} from '../../shared/adapters/aws-clients.js';
import { systemDnsResolver } from '../../shared/adapters/dns-resolver.js';
import { DynamoDbIdempotencyStore } from '../../shared/adapters/dynamodb-idempotency-store.js';
import { DynamoDbRateBucketStore } from '../../shared/adapters/dynamodb-rate-bucket-store.js';
import { DynamoDbSessionStore } from '../../shared/adapters/dynamodb-session-store.js';
import { DynamoDbTaskStore } from '../../shared/adapters/dynamodb-task-store.js';
import { DynamoDbTenantStore } from '../../shared/adapters/dynamodb-tenant-store.js';
import { EmfMetrics } from '../../shared/adapters/emf-metrics.js';
import { HttpSessionInbox } from '../../shared/adapters/http-session-inbox.js';
import { S3ArtifactStore } from '../../shared/adapters/s3-artifact-store.js';
import { createTicketKeys } from '../../shared/adapters/secrets-manager-ticket-secret.js';
import { SqsTaskQueue, TieredTaskDispatcher } from '../../shared/adapters/sqs-task-queue.js';
import { StoredApiKeyVerifier } from '../../shared/auth/api-key.js';
import { type Clock, systemClock } from '../../shared/clock.js';
import type { HttpConfig } from '../../shared/config.js';
import { checkDestination, type Destination } from '../../shared/egress/egress-policy.js';
import { newTimeOrderedId } from '../../shared/ids.js';
import { type Metrics, noopMetrics } from '../../shared/metrics/metrics.js';
import type { SessionApiDeps } from '../../shared/session/manage-sessions.js';
import type { RouteAuth } from './http-route.js';

export interface HttpDeps extends SessionApiDeps {
  logger: Logger;
  /** Authentication and rate limiting for the routes that need a key. */
  auth: RouteAuth;
  tenants: DynamoDbTenantStore;
  store: DynamoDbTaskStore;
  idempotency: DynamoDbIdempotencyStore;
  idempotencyTtlSeconds: number;
  /** Sends a task's message to its tier's queue. */
  queue: TieredTaskDispatcher;
  /** The tiers' queues, for the health check and the pressure report. */
  fleetQueue: SqsTaskQueue;
  lambdaQueue: SqsTaskQueue;
  artifacts: S3ArtifactStore;
  clock: Clock;
  newId: () => string;
  checkDestination: (url: string) => Promise<Destination>;
  metrics: Metrics;
  artifactUrlTtlSeconds: number;
  clients: AwsClients;
}

export const createHttpDeps = (config: HttpConfig, logger?: Logger): HttpDeps => {
  const clients = createAwsClients(config.aws);
  const tenants = new DynamoDbTenantStore(clients.dynamo, config.stateTable);
  const fleetQueue = new SqsTaskQueue(clients.sqs, config.fleetQueueUrl);
  const lambdaQueue = new SqsTaskQueue(clients.sqs, config.lambdaQueueUrl);
  const ticketKeys = createTicketKeys(config.ticketSecret, {
    secretsManager: () => createSecretsManagerClient(config.aws),
    clock: systemClock,
  });
  return {
    sessions: new DynamoDbSessionStore(clients.dynamo, config.stateTable),
    inbox: new HttpSessionInbox(ticketKeys),
    sessionQueue: fleetQueue,
    ticketKeys,
    cdpPublicUrl: config.cdpPublicUrl,
    websocketPublicUrl: config.websocketPublicUrl,
    logger:
      logger ??
      new Logger({
        serviceName: 'browserfleet-http',
        logLevel: config.logLevel,
        persistentKeys: { stage: config.stage },
      }),
    auth: {
      verifier: new StoredApiKeyVerifier(tenants),
      buckets: new DynamoDbRateBucketStore(clients.dynamo, config.stateTable),
      clock: systemClock,
    },
    tenants,
    store: new DynamoDbTaskStore(clients.dynamo, config.stateTable),
    idempotency: new DynamoDbIdempotencyStore(clients.dynamo, config.stateTable),
    idempotencyTtlSeconds: config.idempotencyTtlSeconds,
    queue: new TieredTaskDispatcher({ fleet: fleetQueue, lambda: lambdaQueue }),
    lambdaQueue,
    fleetQueue,
    artifacts: new S3ArtifactStore(clients.s3, config.artifactBucket),
    clock: systemClock,
    newId: () => newTimeOrderedId(),
    metrics: config.metricsEnabled
      ? new EmfMetrics({ stage: config.stage, defaults: { service: 'http' } })
      : noopMetrics,
    checkDestination: (url) =>
      checkDestination(url, { allow: config.egressAllow, resolve: systemDnsResolver }),
    artifactUrlTtlSeconds: config.artifactUrlTtlSeconds,
    clients,
  };
};
