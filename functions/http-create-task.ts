/** `POST /v1/tasks`: accept a task, answer 202 with it. */
import { loadHttpConfig } from '../shared/config.js';
import { BrowserfleetError, ERROR_CODES } from '../shared/errors.js';
import { submitTask } from '../shared/task/submit-task.js';
import { toTaskView } from '../shared/task/task-view.js';
import { createHttpDeps, type HttpDeps, lazy } from './http/deps.js';
import { httpRoute } from './http/http-route.js';

export const buildHandler = (deps: HttpDeps) =>
  httpRoute({ logger: deps.logger, verifier: deps.verifier, jsonBody: true }, async ({ body, tenant }) => {
    if (tenant === undefined) throw new BrowserfleetError(ERROR_CODES.UNAUTHORIZED, 'Missing API key.');
    const task = await submitTask(deps, { tenantId: tenant.tenantId, body });
    deps.logger.info('task submitted', { taskId: task.id, tenantId: tenant.tenantId, type: task.type });
    return {
      statusCode: 202,
      body: toTaskView(task),
      headers: { location: `/v1/tasks/${task.id}` },
    };
  });

export const handler = lazy(() => buildHandler(createHttpDeps(loadHttpConfig(process.env))));
