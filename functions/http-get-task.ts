/** `GET /v1/tasks/{id}`: the task as it stands, with presigned artifact URLs once it succeeded. */
import { loadHttpConfig } from '../shared/config.js';
import { BrowserfleetError, ERROR_CODES } from '../shared/errors.js';
import { getTask } from '../shared/task/get-task.js';
import { createHttpDeps, type HttpDeps, lazy } from './http/deps.js';
import { httpRoute } from './http/http-route.js';

export const buildHandler = (deps: HttpDeps) =>
  httpRoute({ logger: deps.logger, verifier: deps.verifier }, async ({ event, tenant }) => {
    if (tenant === undefined) throw new BrowserfleetError(ERROR_CODES.UNAUTHORIZED, 'Missing API key.');
    const taskId = event.pathParameters?.id ?? '';
    const view = await getTask(deps, { tenantId: tenant.tenantId, taskId });
    return { statusCode: 200, body: view };
  });

export const handler = lazy(() => buildHandler(createHttpDeps(loadHttpConfig(process.env))));
