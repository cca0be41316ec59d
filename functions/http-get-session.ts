/** `GET /v1/sessions/{id}`: the session, with a fresh `cdpUrl` and `liveViewUrl` while open. */
import { loadHttpConfig } from '../shared/config.js';
import { presentSession, requireSession } from '../shared/session/manage-sessions.js';
import { createHttpDeps, type HttpDeps } from './http/deps.js';
import { httpRoute, requireTenant } from './http/http-route.js';
import { publicBaseUrl } from './http/query.js';
import { lazy } from './lazy.js';

export const buildHandler = (deps: HttpDeps) =>
  httpRoute({ logger: deps.logger, metrics: deps.metrics, auth: deps.auth }, async ({ event, tenant }) => {
    const { tenantId } = requireTenant(tenant);
    const session = await requireSession(deps.sessions, tenantId, event.pathParameters?.id ?? '');
    return { statusCode: 200, body: await presentSession(deps, session, publicBaseUrl(event)) };
  });

export const handler = lazy(() => buildHandler(createHttpDeps(loadHttpConfig(process.env))));
