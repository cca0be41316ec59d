/**
 * The HTTP functions the local gateway serves: each composed by its own entry file's
 * `compose`, from its own environment (and so its own role), as each Lambda function is.
 */

import type { ComposedHttpFunction } from '../functions/http/route-deps.js';
import { compose as cancelTask } from '../functions/http-cancel-task.js';
import { compose as closeSession } from '../functions/http-close-session.js';
import { compose as createSession } from '../functions/http-create-session.js';
import { compose as createTask } from '../functions/http-create-task.js';
import { compose as createTaskBatch } from '../functions/http-create-task-batch.js';
import { compose as docs } from '../functions/http-docs.js';
import { compose as getLimits } from '../functions/http-get-limits.js';
import { compose as getOpenApi } from '../functions/http-get-openapi.js';
import { compose as getPressure } from '../functions/http-get-pressure.js';
import { compose as getSession } from '../functions/http-get-session.js';
import { compose as getTask } from '../functions/http-get-task.js';
import { compose as health } from '../functions/http-health.js';
import { compose as listSessions } from '../functions/http-list-sessions.js';
import { compose as listTasks } from '../functions/http-list-tasks.js';
import { compose as liveView } from '../functions/http-live-view.js';
import { compose as mcp } from '../functions/http-mcp.js';
import type { Env } from '../shared/config.js';
import type { HttpFunctionName } from '../shared/contracts.js';
import type { HttpHandler } from './gateway.js';

export const HTTP_FUNCTIONS: Record<HttpFunctionName, (env: Env) => ComposedHttpFunction<HttpHandler>> = {
  'http-create-task': createTask,
  'http-create-task-batch': createTaskBatch,
  'http-list-tasks': listTasks,
  'http-cancel-task': cancelTask,
  'http-get-limits': getLimits,
  'http-get-pressure': getPressure,
  'http-get-task': getTask,
  'http-health': health,
  'http-create-session': createSession,
  'http-list-sessions': listSessions,
  'http-get-session': getSession,
  'http-close-session': closeSession,
  'http-live-view': liveView,
  'http-mcp': mcp,
  'http-get-openapi': getOpenApi,
  'http-docs': docs,
};
