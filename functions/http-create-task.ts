/**
 * `POST /v1/tasks[?wait=N]`: accept a task; `202` with it, or `200` if it ended within the
 * wait. An `Idempotency-Key` replay answers the original task with `Idempotent-Replayed: true`.
 */
import { loadHttpConfig } from '../shared/config.js';
import { presentTask } from '../shared/task/get-task.js';
import { submitTask } from '../shared/task/submit-task.js';
import { isFinal } from '../shared/task/task.js';
import { waitForTask } from '../shared/task/wait-for-task.js';
import { createHttpDeps, type HttpDeps } from './http/deps.js';
import { httpRoute, requireTenant } from './http/http-route.js';
import { waitMsFrom } from './http/query.js';
import { lazy } from './lazy.js';

export const buildHandler = (deps: HttpDeps) =>
  httpRoute(
    { logger: deps.logger, metrics: deps.metrics, auth: deps.auth, jsonBody: true },
    async ({ event, body, tenant, signal }) => {
      const { tenantId, limits } = requireTenant(tenant);
      const waitMs = waitMsFrom(event);
      const { task, replayed } = await submitTask(deps, {
        tenantId,
        body,
        idempotencyKey: event.headers['idempotency-key'],
        maxQueuedTasks: limits.maxQueuedTasks,
      });
      if (!replayed) deps.metrics.count('TasksSubmitted', 1, { type: task.type, tier: task.tier });
      deps.logger.info('task submitted', { taskId: task.id, tenantId, type: task.type, replayed });
      const settled = waitMs > 0 ? await waitForTask(deps.store, task, waitMs, signal) : task;
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

export const handler = lazy(() => buildHandler(createHttpDeps(loadHttpConfig(process.env))));
