/** `DELETE /v1/sessions/{id}`: close the session now; `200` with it (`closed`). */
import { loadHttpConfig } from '../shared/config.js';
import { closeSession, presentSession } from '../shared/session/manage-sessions.js';
import { createHttpDeps, type HttpDeps } from './http/deps.js';
import { httpRoute, requireTenant } from './http/http-route.js';
import { publicBaseUrl } from './http/query.js';
import { lazy } from './lazy.js';

export const buildHandler = (deps: HttpDeps) =>
  httpRoute({ logger: deps.logger, metrics: deps.metrics, auth: deps.auth }, async ({ event, tenant }) => {
    const { tenantId } = requireTenant(tenant);
    const session = await closeSession(deps, { tenantId, sessionId: event.pathParameters?.id ?? '' });
    deps.logger.info('session close', { sessionId: session.id, tenantId, status: session.status });
    return { statusCode: 200, body: await presentSession(deps, session, publicBaseUrl(event)) };
  });

export const handler = lazy(() => buildHandler(createHttpDeps(loadHttpConfig(process.env))));
