/**
 * `DELETE /v1/tasks/{id}`: cancel. `200` with the task once `cancelled`; `202` while a
 * running task's owner is still stopping (`cancelRequested: true`).
 */
import { createDynamoClient } from '../shared/adapters/dynamodb-client.js';
import { DynamoDbTaskStore } from '../shared/adapters/dynamodb-task-store.js';
import { S3ArtifactStore } from '../shared/adapters/s3-artifact-store.js';
import { createS3Client } from '../shared/adapters/s3-client.js';
import { type Clock, systemClock } from '../shared/clock.js';
import { type Env, loadHttpConfig } from '../shared/config.js';
import { cancelTask } from '../shared/task/cancel-task.js';
import { type GetTaskDeps, presentTask } from '../shared/task/get-task.js';
import { lazy } from './entry/lazy.js';
import { httpRoute, requireTenant } from './http/http-route.js';
import { createRouteAuth } from './http/route-auth.js';
import {
  type AuthenticatedRouteDeps,
  type ComposedHttpFunction,
  createRouteDeps,
} from './http/route-deps.js';

export type CancelTaskRouteDeps = AuthenticatedRouteDeps & GetTaskDeps & { clock: Clock };

export const buildHandler = (deps: CancelTaskRouteDeps) =>
  httpRoute({ logger: deps.logger, metrics: deps.metrics, auth: deps.auth }, async ({ event, tenant }) => {
    const { tenantId } = requireTenant(tenant);
    const task = await cancelTask(deps, { tenantId, taskId: event.pathParameters?.id ?? '' });
    deps.logger.info('task cancel', { taskId: task.id, tenantId, status: task.status });
    return { statusCode: task.status === 'cancelled' ? 200 : 202, body: await presentTask(deps, task) };
  });

export const compose = (env: Env): ComposedHttpFunction<ReturnType<typeof buildHandler>> => {
  const config = loadHttpConfig('http-cancel-task', env);
  const dynamo = createDynamoClient(config.aws);
  const s3 = createS3Client(config.aws);
  const handler = buildHandler({
    ...createRouteDeps(config),
    auth: createRouteAuth(dynamo, config.stateTable),
    store: new DynamoDbTaskStore(dynamo, config.stateTable),
    artifacts: new S3ArtifactStore(s3, config.artifactBucket),
    artifactUrlTtlSeconds: config.artifactUrlTtlSeconds,
    clock: systemClock,
  });
  return {
    handler,
    dispose: () => {
      dynamo.destroy();
      s3.destroy();
    },
  };
};

export const handler = lazy(() => compose(process.env).handler);
