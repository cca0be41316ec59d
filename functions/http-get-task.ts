/** `GET /v1/tasks/{id}[?wait=N]`: the task as it stands (or once it ends, within N s). */
import { loadHttpConfig } from '../shared/config.js';
import { getTask } from '../shared/task/get-task.js';
import { createHttpDeps, type HttpDeps } from './http/deps.js';
import { httpRoute, requireTenant } from './http/http-route.js';
import { waitMsFrom } from './http/query.js';
import { lazy } from './lazy.js';

export const buildHandler = (deps: HttpDeps) =>
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

export const handler = lazy(() => buildHandler(createHttpDeps(loadHttpConfig(process.env))));
