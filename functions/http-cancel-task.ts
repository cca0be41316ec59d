/**
 * `DELETE /v1/tasks/{id}`: cancel. `200` with the task once `cancelled`; `202` while a
 * running task's owner is still stopping (`cancelRequested: true`).
 */
import { loadHttpConfig } from '../shared/config.js';
import { cancelTask } from '../shared/task/cancel-task.js';
import { presentTask } from '../shared/task/get-task.js';
import { createHttpDeps, type HttpDeps } from './http/deps.js';
import { httpRoute, requireTenant } from './http/http-route.js';
import { lazy } from './lazy.js';

export const buildHandler = (deps: HttpDeps) =>
  httpRoute({ logger: deps.logger, metrics: deps.metrics, auth: deps.auth }, async ({ event, tenant }) => {
    const { tenantId } = requireTenant(tenant);
    const task = await cancelTask(deps, { tenantId, taskId: event.pathParameters?.id ?? '' });
    deps.logger.info('task cancel', { taskId: task.id, tenantId, status: task.status });
    return { statusCode: task.status === 'cancelled' ? 200 : 202, body: await presentTask(deps, task) };
  });

export const handler = lazy(() => buildHandler(createHttpDeps(loadHttpConfig(process.env))));
