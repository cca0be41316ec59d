/**
 * `POST /v1/tasks[?wait=N]`: accept a task; `202` with it, or `200` if it ended within the
 * wait. An `Idempotency-Key` replay answers the original task with `Idempotent-Replayed: true`.
 */

import { createDynamoClient } from '../shared/adapters/dynamodb-client.js';
import { S3ArtifactStore } from '../shared/adapters/s3-artifact-store.js';
import { createS3Client } from '../shared/adapters/s3-client.js';
import { createSqsClient } from '../shared/adapters/sqs-client.js';
import { createSubmitTaskDeps } from '../shared/composition/submit-task-deps.js';
import { type Env, loadHttpConfig } from '../shared/config.js';
import { type GetTaskDeps, presentTask } from '../shared/task/get-task.js';
import { type SubmitTaskDeps, submitTask } from '../shared/task/submit-task.js';
import { isFinal } from '../shared/task/task.js';
import { TaskDurations } from '../shared/task/task-durations.js';
import { waitForTask } from '../shared/task/wait-for-task.js';
import { lazy } from './entry/lazy.js';
import { httpRoute, requireTenant } from './http/http-route.js';
import { waitMsFrom } from './http/query.js';
import { createRouteAuth } from './http/route-auth.js';
import {
  type AuthenticatedRouteDeps,
  type ComposedHttpFunction,
  createRouteDeps,
} from './http/route-deps.js';

export type CreateTaskDeps = AuthenticatedRouteDeps & SubmitTaskDeps & GetTaskDeps;

export const buildHandler = (deps: CreateTaskDeps) =>
  httpRoute(
    { logger: deps.logger, metrics: deps.metrics, auth: deps.auth, jsonBody: true },
    async ({ event, body, tenant, signal }) => {
      const authenticated = requireTenant(tenant);
      const { tenantId, limits } = authenticated;
      const waitMs = waitMsFrom(event);
      const { task, replayed } = await submitTask(deps, {
        tenantId,
        body,
        idempotencyKey: event.headers['idempotency-key'],
        maxQueuedTasks: limits.maxQueuedTasks,
        tenant: authenticated,
      });
      if (!replayed) deps.metrics.count('TasksSubmitted', 1, { type: task.type, tier: task.tier });
      if (!replayed && task.cacheHit !== undefined)
        deps.metrics.count('ResultCacheHits', 1, { type: task.type });
      deps.logger.info('task submitted', {
        taskId: task.id,
        tenantId,
        type: task.type,
        replayed,
        ...(task.cacheHit === undefined ? {} : { cachedFrom: task.cacheHit.sourceTaskId }),
      });
      const settled =
        waitMs > 0 ? await waitForTask(deps.store, task, waitMs, signal, undefined, deps.durations) : task;
      return {
        statusCode: isFinal(settled.status) ? 200 : 202,
        body: await presentTask(deps, settled),
        headers: {
          location: `/v1/tasks/${task.id}`,
          ...(replayed ? { 'idempotent-replayed': 'true' } : {}),
        },
      };
    },
  );

export const compose = (env: Env): ComposedHttpFunction<ReturnType<typeof buildHandler>> => {
  const config = loadHttpConfig('http-create-task', env);
  const dynamo = createDynamoClient(config.aws);
  const sqs = createSqsClient(config.aws);
  const s3 = createS3Client(config.aws);
  const handler = buildHandler({
    ...createRouteDeps(config),
    auth: createRouteAuth(dynamo, config.stateTable),
    ...createSubmitTaskDeps(dynamo, sqs, config),
    artifacts: new S3ArtifactStore(s3, config.artifactBucket),
    artifactUrlTtlSeconds: config.artifactUrlTtlSeconds,
    // Per container: what its held answers learned of how long tasks take.
    durations: new TaskDurations(),
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
