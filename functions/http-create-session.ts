/** `POST /v1/sessions`: start a live browser session; `201` with it (`pending` at first). */
import { loadHttpConfig } from '../shared/config.js';
import { createSession, presentSession } from '../shared/session/manage-sessions.js';
import { createSessionInputSchema } from '../shared/session/session-input.js';
import { parseOrThrow } from '../shared/validation.js';
import { createHttpDeps, type HttpDeps } from './http/deps.js';
import { httpRoute, requireTenant } from './http/http-route.js';
import { publicBaseUrl } from './http/query.js';
import { lazy } from './lazy.js';

export const buildHandler = (deps: HttpDeps) =>
  httpRoute(
    { logger: deps.logger, metrics: deps.metrics, auth: deps.auth, jsonBody: true },
    async ({ event, body, tenant }) => {
      const { tenantId, limits } = requireTenant(tenant);
      const options = parseOrThrow(createSessionInputSchema, body);
      const session = await createSession(deps, {
        tenantId,
        maxLiveSessions: limits.maxLiveSessions,
        options,
      });
      deps.metrics.count('SessionsCreated', 1);
      deps.logger.info('session created', { sessionId: session.id, tenantId });
      return {
        statusCode: 201,
        body: await presentSession(deps, session, publicBaseUrl(event)),
        headers: { location: `/v1/sessions/${session.id}` },
      };
    },
  );

export const handler = lazy(() => buildHandler(createHttpDeps(loadHttpConfig(process.env))));
