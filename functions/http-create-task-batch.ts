/**
 * `POST /v1/tasks/batch` with `{ "tasks": [ ...up to 100 task bodies... ] }`: `200` with one
 * answer per item, in order: `{ index, status, task }` for an accepted one (`status` as
 * `POST /v1/tasks` would answer it, `replayed` when its `idempotencyKey` named an earlier
 * task), `{ index, status, error }` for a refused one. Partial success is the normal case.
 */

import { createDynamoClient } from '../shared/adapters/dynamodb-client.js';
import { DynamoDbRateBucketStore } from '../shared/adapters/dynamodb-rate-bucket-store.js';
import { S3ArtifactStore } from '../shared/adapters/s3-artifact-store.js';
import { createS3Client } from '../shared/adapters/s3-client.js';
import { createSqsClient } from '../shared/adapters/sqs-client.js';
import { createSubmitTaskDeps } from '../shared/composition/submit-task-deps.js';
import { type Env, loadHttpConfig } from '../shared/config.js';
import { type GetTaskDeps, presentTask } from '../shared/task/get-task.js';
import { BATCH_LIMITS, type SubmitBatchDeps, submitBatch } from '../shared/task/submit-batch.js';
import { isFinal } from '../shared/task/task.js';
import type { TaskBatchView } from '../shared/task/task-view.js';
import { rateLimitHeaders } from '../shared/tenancy/rate-limit.js';
import { lazy } from './entry/lazy.js';
import { mapError } from './http/error-mapping.js';
import { DEFAULT_MAX_BODY_BYTES, httpRoute, requireTenant } from './http/http-route.js';
import { createRouteAuth } from './http/route-auth.js';
import {
  type AuthenticatedRouteDeps,
  type ComposedHttpFunction,
  createRouteDeps,
} from './http/route-deps.js';

/**
 * A full batch of task bodies as big as `POST /v1/tasks` takes would be 25 MB, past what a
 * Lambda request carries (6 MB). 4 MB leaves room for the event around the body; each item
 * is still held to the single-task limit.
 */
export const BATCH_MAX_BODY_BYTES = 4 * 1024 * 1024;

export type CreateTaskBatchDeps = AuthenticatedRouteDeps & SubmitBatchDeps & GetTaskDeps;

export const buildHandler = (deps: CreateTaskBatchDeps) =>
  httpRoute(
    {
      logger: deps.logger,
      metrics: deps.metrics,
      auth: deps.auth,
      jsonBody: true,
      maxBodyBytes: BATCH_MAX_BODY_BYTES,
    },
    async ({ body, tenant, signal }) => {
      const { tenantId, limits, webhooks } = requireTenant(tenant);
      const { items: outcomes, bucket } = await submitBatch(deps, {
        tenant: { tenantId, limits, webhooks },
        body,
        maxItemBytes: DEFAULT_MAX_BODY_BYTES,
        signal,
      });
      const results = await Promise.all(
        outcomes.map(async (outcome) => {
          if (outcome.ok) {
            const { task, replayed } = outcome;
            if (!replayed) deps.metrics.count('TasksSubmitted', 1, { type: task.type, tier: task.tier });
            if (!replayed && task.cacheHit !== undefined)
              deps.metrics.count('ResultCacheHits', 1, { type: task.type });
            return {
              index: outcome.index,
              status: isFinal(task.status) ? 200 : 202,
              ...(replayed ? { replayed: true } : {}),
              task: await presentTask(deps, task),
            };
          }
          const mapped = mapError(outcome.error);
          if (!mapped.expected) {
            deps.logger.error('batch item failed', { index: outcome.index, error: outcome.error as Error });
          }
          return { index: outcome.index, status: mapped.statusCode, error: mapped.body.error };
        }),
      );
      const accepted = outcomes.filter((o) => o.ok).length;
      deps.logger.info('task batch submitted', {
        tenantId,
        items: outcomes.length,
        accepted,
        maxItems: BATCH_LIMITS.maxItems,
      });
      return {
        statusCode: 200,
        body: { results } satisfies TaskBatchView,
        // The bucket after every item's token, not just the request's.
        ...(bucket === undefined ? {} : { headers: { ...rateLimitHeaders(limits, bucket) } }),
      };
    },
  );

export const compose = (env: Env): ComposedHttpFunction<ReturnType<typeof buildHandler>> => {
  const config = loadHttpConfig('http-create-task-batch', env);
  const dynamo = createDynamoClient(config.aws);
  const sqs = createSqsClient(config.aws);
  const s3 = createS3Client(config.aws);
  const handler = buildHandler({
    ...createRouteDeps(config),
    auth: createRouteAuth(dynamo, config.stateTable),
    ...createSubmitTaskDeps(dynamo, sqs, config),
    buckets: new DynamoDbRateBucketStore(dynamo, config.stateTable),
    artifacts: new S3ArtifactStore(s3, config.artifactBucket),
    artifactUrlTtlSeconds: config.artifactUrlTtlSeconds,
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
