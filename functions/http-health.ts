/** `GET /health` (no auth): 200 once every dependency answers, 503 with which one doesn't. */
import { createDynamoClient } from '../shared/adapters/dynamodb-client.js';
import { DynamoDbTaskStore } from '../shared/adapters/dynamodb-task-store.js';
import { S3ArtifactStore } from '../shared/adapters/s3-artifact-store.js';
import { createS3Client } from '../shared/adapters/s3-client.js';
import { createSqsClient } from '../shared/adapters/sqs-client.js';
import { SqsTaskQueue } from '../shared/adapters/sqs-task-queue.js';
import { type Env, loadHttpConfig } from '../shared/config.js';
import { checkHealth } from '../shared/health/check-health.js';
import type { Pingable } from '../shared/health/ports.js';
import { lazy } from './entry/lazy.js';
import { httpRoute } from './http/http-route.js';
import { type ComposedHttpFunction, createRouteDeps, type RouteDeps } from './http/route-deps.js';

export interface HealthDeps extends RouteDeps {
  /** Each dependency's ping, by the name the answer reports it under. */
  dependencies: { dynamodb: Pingable; sqs: Pingable; s3: Pingable };
}

export const buildHandler = (deps: HealthDeps) =>
  httpRoute({ logger: deps.logger, metrics: deps.metrics }, async () => {
    const report = await checkHealth(deps.dependencies);
    return {
      statusCode: report.status === 'ok' ? 200 : 503,
      body: report,
      headers: { 'cache-control': 'no-store' },
    };
  });

export const compose = (env: Env): ComposedHttpFunction<ReturnType<typeof buildHandler>> => {
  const config = loadHttpConfig('http-health', env);
  const dynamo = createDynamoClient(config.aws);
  const sqs = createSqsClient(config.aws);
  const s3 = createS3Client(config.aws);
  const handler = buildHandler({
    ...createRouteDeps(config),
    dependencies: {
      dynamodb: new DynamoDbTaskStore(dynamo, config.stateTable),
      sqs: new SqsTaskQueue(sqs, config.fleetQueueUrl),
      s3: new S3ArtifactStore(s3, config.artifactBucket),
    },
  });
  return {
    handler,
    dispose: () => {
      dynamo.destroy();
      sqs.destroy();
      s3.destroy();
    },
  };
};

export const handler = lazy(() => compose(process.env).handler);
