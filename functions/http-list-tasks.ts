/**
 * `GET /v1/tasks[?status=&type=&since=&limit=&cursor=]`: the tenant's own tasks, newest
 * first, a page at a time (`nextCursor` when older ones follow).
 */
import { createDynamoClient } from '../shared/adapters/dynamodb-client.js';
import { DynamoDbTaskStore } from '../shared/adapters/dynamodb-task-store.js';
import { S3ArtifactStore } from '../shared/adapters/s3-artifact-store.js';
import { createS3Client } from '../shared/adapters/s3-client.js';
import { type Env, loadHttpConfig } from '../shared/config.js';
import { type GetTaskDeps, presentTask } from '../shared/task/get-task.js';
import { listTasks } from '../shared/task/list-tasks.js';
import type { TaskListView } from '../shared/task/task-view.js';
import { lazy } from './entry/lazy.js';
import { httpRoute, requireTenant } from './http/http-route.js';
import { createRouteAuth } from './http/route-auth.js';
import {
  type AuthenticatedRouteDeps,
  type ComposedHttpFunction,
  createRouteDeps,
} from './http/route-deps.js';

export type ListTasksRouteDeps = AuthenticatedRouteDeps & GetTaskDeps;

export const buildHandler = (deps: ListTasksRouteDeps) =>
  httpRoute({ logger: deps.logger, metrics: deps.metrics, auth: deps.auth }, async ({ event, tenant }) => {
    const { tenantId } = requireTenant(tenant);
    const page = await listTasks(deps, { tenantId, query: event.queryStringParameters ?? {} });
    return {
      statusCode: 200,
      body: {
        tasks: await Promise.all(page.tasks.map((task) => presentTask(deps, task))),
        ...(page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor }),
      } satisfies TaskListView,
    };
  });

export const compose = (env: Env): ComposedHttpFunction<ReturnType<typeof buildHandler>> => {
  const config = loadHttpConfig('http-list-tasks', env);
  const dynamo = createDynamoClient(config.aws);
  const s3 = createS3Client(config.aws);
  const handler = buildHandler({
    ...createRouteDeps(config),
    auth: createRouteAuth(dynamo, config.stateTable),
    store: new DynamoDbTaskStore(dynamo, config.stateTable),
    artifacts: new S3ArtifactStore(s3, config.artifactBucket),
    artifactUrlTtlSeconds: config.artifactUrlTtlSeconds,
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
