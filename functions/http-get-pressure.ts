/**
 * `GET /v1/pressure` (no auth, like /health): how loaded the platform is, for load
 * balancers, autoscaling and humans — tasks waiting and in flight per tier, tasks running,
 * and whether it accepts work (every dependency up). One reading answers for a couple of
 * seconds (see `createPressureReader`).
 */
import { createDynamoClient } from '../shared/adapters/dynamodb-client.js';
import { DynamoDbTaskStore } from '../shared/adapters/dynamodb-task-store.js';
import { S3ArtifactStore } from '../shared/adapters/s3-artifact-store.js';
import { createS3Client } from '../shared/adapters/s3-client.js';
import { createSqsClient } from '../shared/adapters/sqs-client.js';
import { SqsTaskQueue } from '../shared/adapters/sqs-task-queue.js';
import { type Clock, systemClock } from '../shared/clock.js';
import { type Env, loadHttpConfig } from '../shared/config.js';
import type { Pingable, QueueDepth } from '../shared/health/ports.js';
import { createPressureReader } from '../shared/health/read-pressure.js';
import { lazy } from './entry/lazy.js';
import { httpRoute } from './http/http-route.js';
import { type ComposedHttpFunction, createRouteDeps, type RouteDeps } from './http/route-deps.js';

export interface GetPressureDeps extends RouteDeps {
  /** The health check's pings, by the name the answer reports them under. */
  dependencies: { dynamodb: Pingable; sqs: Pingable; s3: Pingable };
  fleetQueue: QueueDepth;
  lambdaQueue: QueueDepth;
  countRunning(): Promise<number>;
  clock: Clock;
}

export const buildHandler = (deps: GetPressureDeps) => {
  const pressure = createPressureReader(deps);
  return httpRoute({ logger: deps.logger, metrics: deps.metrics }, async () => ({
    statusCode: 200,
    headers: { 'cache-control': 'no-store' },
    body: await pressure(),
  }));
};

export const compose = (env: Env): ComposedHttpFunction<ReturnType<typeof buildHandler>> => {
  const config = loadHttpConfig('http-get-pressure', env);
  const dynamo = createDynamoClient(config.aws);
  const sqs = createSqsClient(config.aws);
  const s3 = createS3Client(config.aws);
  const store = new DynamoDbTaskStore(dynamo, config.stateTable);
  const fleetQueue = new SqsTaskQueue(sqs, config.fleetQueueUrl);
  const handler = buildHandler({
    ...createRouteDeps(config),
    dependencies: { dynamodb: store, sqs: fleetQueue, s3: new S3ArtifactStore(s3, config.artifactBucket) },
    fleetQueue,
    lambdaQueue: new SqsTaskQueue(sqs, config.lambdaQueueUrl),
    countRunning: () => store.countLive('running'),
    clock: systemClock,
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
