/** `GET /v1/sessions[?status=live&limit=N]`: the tenant's own sessions, newest first. */
import { createDynamoClient } from '../shared/adapters/dynamodb-client.js';
import { DynamoDbSessionStore } from '../shared/adapters/dynamodb-session-store.js';
import { systemClock } from '../shared/clock.js';
import { type Env, loadHttpConfig } from '../shared/config.js';
import { presentSession, type SessionApiDeps } from '../shared/session/sessions-api.js';
import { lazy } from './entry/lazy.js';
import { httpRoute, requireTenant } from './http/http-route.js';
import { publicBaseUrl, sessionListQueryFrom } from './http/query.js';
import { createRouteAuth } from './http/route-auth.js';
import {
  type AuthenticatedRouteDeps,
  type ComposedHttpFunction,
  createRouteDeps,
} from './http/route-deps.js';
import { createRouteTicketKeys } from './http/route-tickets.js';

export type ListSessionsDeps = AuthenticatedRouteDeps &
  Pick<SessionApiDeps, 'sessions' | 'clock' | 'ticketKeys' | 'cdpPublicUrl' | 'websocketPublicUrl'>;

export const buildHandler = (deps: ListSessionsDeps) =>
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

export const compose = (env: Env): ComposedHttpFunction<ReturnType<typeof buildHandler>> => {
  const config = loadHttpConfig('http-list-sessions', env);
  const dynamo = createDynamoClient(config.aws);
  const handler = buildHandler({
    ...createRouteDeps(config),
    auth: createRouteAuth(dynamo, config.stateTable),
    sessions: new DynamoDbSessionStore(dynamo, config.stateTable),
    clock: systemClock,
    ticketKeys: createRouteTicketKeys(config),
    cdpPublicUrl: config.cdpPublicUrl,
    websocketPublicUrl: config.websocketPublicUrl,
  });
  return { handler, dispose: () => dynamo.destroy() };
};

export const handler = lazy(() => compose(process.env).handler);
