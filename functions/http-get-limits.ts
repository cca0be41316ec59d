/** `GET /v1/limits`: the tenant's limits and what it is using right now. */
import { loadHttpConfig } from '../shared/config.js';
import { createHttpDeps, type HttpDeps, lazy } from './http/deps.js';
import { httpRoute, requireTenant } from './http/http-route.js';

export const buildHandler = (deps: HttpDeps) =>
  httpRoute({ logger: deps.logger, metrics: deps.metrics, auth: deps.auth }, async ({ tenant }) => {
    const { tenantId, limits } = requireTenant(tenant);
    const usage = await deps.store.usage(tenantId);
    return {
      statusCode: 200,
      body: {
        tenantId,
        limits,
        // Live sessions arrive with the sessions API; until then none can be open.
        usage: { ...usage, liveSessions: 0 },
      },
    };
  });

export const handler = lazy(() => buildHandler(createHttpDeps(loadHttpConfig(process.env))));
