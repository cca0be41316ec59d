/** `GET /v1/limits`: the tenant's limits and what it is using right now. */
import { loadHttpConfig } from '../shared/config.js';
import { createHttpDeps, type HttpDeps } from './http/deps.js';
import { httpRoute, requireTenant } from './http/http-route.js';
import { lazy } from './lazy.js';

export const buildHandler = (deps: HttpDeps) =>
  httpRoute({ logger: deps.logger, metrics: deps.metrics, auth: deps.auth }, async ({ tenant }) => {
    const { tenantId, limits } = requireTenant(tenant);
    const [usage, liveSessions] = await Promise.all([
      deps.store.usage(tenantId),
      deps.sessions.liveCount(tenantId),
    ]);
    return {
      statusCode: 200,
      body: {
        tenantId,
        limits,
        usage: { ...usage, liveSessions },
      },
    };
  });

export const handler = lazy(() => buildHandler(createHttpDeps(loadHttpConfig(process.env))));
