/** `GET /v1/sessions[?status=live&limit=N]`: the tenant's own sessions, newest first. */
import { loadHttpConfig } from '../shared/config.js';
import { presentSession } from '../shared/session/manage-sessions.js';
import { createHttpDeps, type HttpDeps } from './http/deps.js';
import { httpRoute, requireTenant } from './http/http-route.js';
import { publicBaseUrl, sessionListQueryFrom } from './http/query.js';
import { lazy } from './lazy.js';

export const buildHandler = (deps: HttpDeps) =>
  httpRoute({ logger: deps.logger, metrics: deps.metrics, auth: deps.auth }, async ({ event, tenant }) => {
    const { tenantId } = requireTenant(tenant);
    const query = sessionListQueryFrom(event);
    const sessions = await deps.sessions.list(tenantId, {
      limit: query.limit ?? 50,
      ...(query.status === undefined ? {} : { status: query.status }),
    });
    const base = publicBaseUrl(event);
    return {
      statusCode: 200,
      body: { sessions: await Promise.all(sessions.map((s) => presentSession(deps, s, base))) },
    };
  });

export const handler = lazy(() => buildHandler(createHttpDeps(loadHttpConfig(process.env))));
