/** `GET /v1/limits`: the tenant's limits and what it is using right now. */
import { createDynamoClient } from '../shared/adapters/dynamodb-client.js';
import { DynamoDbSessionStore } from '../shared/adapters/dynamodb-session-store.js';
import { DynamoDbTaskStore } from '../shared/adapters/dynamodb-task-store.js';
import { type Env, loadHttpConfig } from '../shared/config.js';
import type { SessionStore } from '../shared/session/ports.js';
import type { TaskStore } from '../shared/task/ports.js';
import type { LimitsView } from '../shared/tenancy/tenant.js';
import { lazy } from './entry/lazy.js';
import { httpRoute, requireTenant } from './http/http-route.js';
import { createRouteAuth } from './http/route-auth.js';
import {
  type AuthenticatedRouteDeps,
  type ComposedHttpFunction,
  createRouteDeps,
} from './http/route-deps.js';

export interface GetLimitsDeps extends AuthenticatedRouteDeps {
  store: Pick<TaskStore, 'usage'>;
  sessions: Pick<SessionStore, 'liveCount'>;
}

export const buildHandler = (deps: GetLimitsDeps) =>
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
      } satisfies LimitsView,
    };
  });

export const compose = (env: Env): ComposedHttpFunction<ReturnType<typeof buildHandler>> => {
  const config = loadHttpConfig('http-get-limits', env);
  const dynamo = createDynamoClient(config.aws);
  const handler = buildHandler({
    ...createRouteDeps(config),
    auth: createRouteAuth(dynamo, config.stateTable),
    store: new DynamoDbTaskStore(dynamo, config.stateTable),
    sessions: new DynamoDbSessionStore(dynamo, config.stateTable),
  });
  return { handler, dispose: () => dynamo.destroy() };
};

export const handler = lazy(() => compose(process.env).handler);
