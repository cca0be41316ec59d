/** `GET /v1/tasks/{id}[?wait=N]`: the task as it stands (or once it ends, within N s). */
import { createDynamoClient } from '../shared/adapters/dynamodb-client.js';
import { DynamoDbTaskStore } from '../shared/adapters/dynamodb-task-store.js';
import { S3ArtifactStore } from '../shared/adapters/s3-artifact-store.js';
import { createS3Client } from '../shared/adapters/s3-client.js';
import { type Env, loadHttpConfig } from '../shared/config.js';
import { type GetTaskDeps, getTask } from '../shared/task/get-task.js';
import { TaskDurations } from '../shared/task/task-durations.js';
import { lazy } from './entry/lazy.js';
import { httpRoute, requireTenant } from './http/http-route.js';
import { waitMsFrom } from './http/query.js';
import { createRouteAuth } from './http/route-auth.js';
import {
  type AuthenticatedRouteDeps,
  type ComposedHttpFunction,
  createRouteDeps,
} from './http/route-deps.js';

export type GetTaskRouteDeps = AuthenticatedRouteDeps & GetTaskDeps;

export const buildHandler = (deps: GetTaskRouteDeps) =>
  httpRoute(
    { logger: deps.logger, metrics: deps.metrics, auth: deps.auth },
    async ({ event, tenant, signal }) => {
      const { tenantId } = requireTenant(tenant);
      const view = await getTask(deps, {
        tenantId,
        taskId: event.pathParameters?.id ?? '',
        waitMs: waitMsFrom(event),
        signal,
      });
      return { statusCode: 200, body: view };
    },
  );

export const compose = (env: Env): ComposedHttpFunction<ReturnType<typeof buildHandler>> => {
  const config = loadHttpConfig('http-get-task', env);
  const dynamo = createDynamoClient(config.aws);
  const s3 = createS3Client(config.aws);
  const handler = buildHandler({
    ...createRouteDeps(config),
    auth: createRouteAuth(dynamo, config.stateTable),
    store: new DynamoDbTaskStore(dynamo, config.stateTable),
    artifacts: new S3ArtifactStore(s3, config.artifactBucket),
    artifactUrlTtlSeconds: config.artifactUrlTtlSeconds,
    // Per container: what its held answers learned of how long tasks take.
    durations: new TaskDurations(),
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
