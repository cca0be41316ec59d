/** Composition of the WebSocket functions' dependencies from their config. */
import { Logger } from '@aws-lambda-powertools/logger';
import { createDynamoClient } from '../../shared/adapters/dynamodb-client.js';
import { DynamoDbConnectionStore } from '../../shared/adapters/dynamodb-connection-store.js';
import { DynamoDbRateBucketStore } from '../../shared/adapters/dynamodb-rate-bucket-store.js';
import { DynamoDbSessionStore } from '../../shared/adapters/dynamodb-session-store.js';
import { DynamoDbTenantStore } from '../../shared/adapters/dynamodb-tenant-store.js';
import { EmfMetrics } from '../../shared/adapters/emf-metrics.js';
import { HttpSessionInbox } from '../../shared/adapters/http-session-inbox.js';
import { createSecretsManagerClient } from '../../shared/adapters/secrets-manager-client.js';
import { createTicketKeys } from '../../shared/adapters/secrets-manager-ticket-secret.js';
import { StoredApiKeyVerifier } from '../../shared/auth/api-key.js';
import { systemClock } from '../../shared/clock.js';
import type { WsConfig } from '../../shared/config.js';
import { type Metrics, noopMetrics } from '../../shared/metrics/metrics.js';
import type { WsDeps } from '../../shared/session/websocket-api.js';

export interface WsFunctionDeps extends WsDeps {
  logger: Logger;
  metrics: Metrics;
  dispose(): void;
}

export const createWsDeps = (config: WsConfig, logger?: Logger): WsFunctionDeps => {
  // DynamoDB is all these functions call (the inbox is plain HTTP; the secret is read lazily).
  const dynamo = createDynamoClient(config.aws);
  const ticketKeys = createTicketKeys(config.ticketSecret, {
    secretsManager: () => createSecretsManagerClient(config.aws),
    clock: systemClock,
  });
  return {
    logger:
      logger ??
      new Logger({
        serviceName: 'browserfleet-ws',
        logLevel: config.logLevel,
        persistentKeys: { stage: config.stage },
      }),
    metrics: config.metricsEnabled
      ? new EmfMetrics({ stage: config.stage, defaults: { service: 'ws' } })
      : noopMetrics,
    verifier: new StoredApiKeyVerifier(new DynamoDbTenantStore(dynamo, config.stateTable)),
    buckets: new DynamoDbRateBucketStore(dynamo, config.stateTable),
    sessions: new DynamoDbSessionStore(dynamo, config.stateTable),
    connections: new DynamoDbConnectionStore(dynamo, config.stateTable),
    inbox: new HttpSessionInbox(ticketKeys),
    clock: systemClock,
    ticketKeys,
    dispose: () => dynamo.destroy(),
  };
};
