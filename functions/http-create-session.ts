/** `POST /v1/sessions`: start a live browser session; `201` with it (`pending` at first). */
import { createDynamoClient } from '../shared/adapters/dynamodb-client.js';
import { DynamoDbSessionStore } from '../shared/adapters/dynamodb-session-store.js';
import { DynamoDbTenantStore } from '../shared/adapters/dynamodb-tenant-store.js';
import { createSqsClient } from '../shared/adapters/sqs-client.js';
import { SqsTaskQueue } from '../shared/adapters/sqs-task-queue.js';
import { systemClock } from '../shared/clock.js';
import { type Env, loadHttpConfig } from '../shared/config.js';
import { newTimeOrderedId } from '../shared/ids.js';
import { createSessionInputSchema } from '../shared/session/session-input.js';
import { createSession, presentSession, type SessionApiDeps } from '../shared/session/sessions-api.js';
import { parseOrThrow } from '../shared/validation.js';
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

export type CreateSessionDeps = AuthenticatedRouteDeps &
  Pick<
    SessionApiDeps,
    | 'sessions'
    | 'tenantWebhooks'
    | 'sessionQueue'
    | 'clock'
    | 'newId'
    | 'ticketKeys'
    | 'cdpPublicUrl'
    | 'websocketPublicUrl'
  >;

export const buildHandler = (deps: CreateSessionDeps) =>
  httpRoute(
    { logger: deps.logger, metrics: deps.metrics, auth: deps.auth, jsonBody: true },
    async ({ event, body, tenant }) => {
      const authenticated = requireTenant(tenant);
      const { tenantId, limits } = authenticated;
      const options = parseOrThrow(createSessionInputSchema, body);
      const session = await createSession(deps, {
        tenantId,
        maxLiveSessions: limits.maxLiveSessions,
        options,
        // The key check read the tenant's row: its webhooks come with it, no second read.
        tenant: authenticated,
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

export const compose = (env: Env): ComposedHttpFunction<ReturnType<typeof buildHandler>> => {
  const config = loadHttpConfig('http-create-session', env);
  const dynamo = createDynamoClient(config.aws);
  const sqs = createSqsClient(config.aws);
  const tenants = new DynamoDbTenantStore(dynamo, config.stateTable);
  const handler = buildHandler({
    ...createRouteDeps(config),
    auth: createRouteAuth(dynamo, config.stateTable),
    sessions: new DynamoDbSessionStore(dynamo, config.stateTable),
    // With an endpoint for `session.ended`, the session is created owing that event.
    tenantWebhooks: async (tenantId) => (await tenants.getTenant(tenantId))?.webhooks,
    sessionQueue: new SqsTaskQueue(sqs, config.fleetQueueUrl),
    clock: systemClock,
    newId: () => newTimeOrderedId(),
    ticketKeys: createRouteTicketKeys(config),
    cdpPublicUrl: config.cdpPublicUrl,
    websocketPublicUrl: config.websocketPublicUrl,
  });
  return {
    handler,
    dispose: () => {
      dynamo.destroy();
      sqs.destroy();
    },
  };
};

export const handler = lazy(() => compose(process.env).handler);
