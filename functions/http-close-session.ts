/** `DELETE /v1/sessions/{id}`: close the session now; `200` with it (`closed`). */
import { createDynamoClient } from '../shared/adapters/dynamodb-client.js';
import { DynamoDbSessionStore } from '../shared/adapters/dynamodb-session-store.js';
import { HttpSessionInbox } from '../shared/adapters/http-session-inbox.js';
import { systemClock } from '../shared/clock.js';
import { type Env, loadHttpConfig } from '../shared/config.js';
import { closeSession, presentSession, type SessionApiDeps } from '../shared/session/sessions-api.js';
import { lazy } from './entry/lazy.js';
import { httpRoute, requireTenant } from './http/http-route.js';
import { publicBaseUrl } from './http/query.js';
import { createRouteAuth } from './http/route-auth.js';
import {
  type AuthenticatedRouteDeps,
  type ComposedHttpFunction,
  createRouteDeps,
} from './http/route-deps.js';
import { createRouteTicketKeys } from './http/route-tickets.js';

export type CloseSessionDeps = AuthenticatedRouteDeps &
  Pick<SessionApiDeps, 'sessions' | 'clock' | 'inbox' | 'ticketKeys' | 'cdpPublicUrl' | 'websocketPublicUrl'>;

export const buildHandler = (deps: CloseSessionDeps) =>
  httpRoute({ logger: deps.logger, metrics: deps.metrics, auth: deps.auth }, async ({ event, tenant }) => {
    const { tenantId } = requireTenant(tenant);
    const session = await closeSession(deps, { tenantId, sessionId: event.pathParameters?.id ?? '' });
    deps.logger.info('session close', { sessionId: session.id, tenantId, status: session.status });
    return { statusCode: 200, body: await presentSession(deps, session, publicBaseUrl(event)) };
  });

export const compose = (env: Env): ComposedHttpFunction<ReturnType<typeof buildHandler>> => {
  const config = loadHttpConfig('http-close-session', env);
  const dynamo = createDynamoClient(config.aws);
  const ticketKeys = createRouteTicketKeys(config);
  const handler = buildHandler({
    ...createRouteDeps(config),
    auth: createRouteAuth(dynamo, config.stateTable),
    sessions: new DynamoDbSessionStore(dynamo, config.stateTable),
    clock: systemClock,
    // The worker's inbox takes calls signed with the ticket key.
    inbox: new HttpSessionInbox(ticketKeys),
    ticketKeys,
    cdpPublicUrl: config.cdpPublicUrl,
    websocketPublicUrl: config.websocketPublicUrl,
  });
  return { handler, dispose: () => dynamo.destroy() };
};

export const handler = lazy(() => compose(process.env).handler);
