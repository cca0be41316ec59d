/**
 * `POST /mcp`: the MCP server (Streamable HTTP, stateless, JSON answers). Authenticated with
 * the tenant's API key and counted against its rate limit like every route; its tools run
 * the same use cases as the HTTP and WebSocket APIs (shared/agents/mcp-tools.ts). `GET` and
 * `DELETE /mcp` answer 405: there is no stream to open and no MCP session to end.
 */

import { downloadBounded } from '../shared/adapters/bounded-download.js';
import { createDynamoClient } from '../shared/adapters/dynamodb-client.js';
import { DynamoDbSessionStore } from '../shared/adapters/dynamodb-session-store.js';
import { HttpSessionInbox } from '../shared/adapters/http-session-inbox.js';
import { S3ArtifactStore } from '../shared/adapters/s3-artifact-store.js';
import { createS3Client } from '../shared/adapters/s3-client.js';
import { createSqsClient } from '../shared/adapters/sqs-client.js';
import { SqsTaskQueue } from '../shared/adapters/sqs-task-queue.js';
import type { McpDeps } from '../shared/agents/mcp-tools.js';
import { createSubmitTaskDeps } from '../shared/composition/submit-task-deps.js';
import { type Env, loadHttpConfig } from '../shared/config.js';
import { callSessionCommand } from '../shared/session/session-calls.js';
import { TaskDurations } from '../shared/task/task-durations.js';
import { lazy } from './entry/lazy.js';
import { httpRoute, requireTenant } from './http/http-route.js';
import { answerMcp } from './http/mcp-server.js';
import { createRouteAuth } from './http/route-auth.js';
import {
  type AuthenticatedRouteDeps,
  type ComposedHttpFunction,
  createRouteDeps,
} from './http/route-deps.js';
import { createRouteTicketKeys } from './http/route-tickets.js';

export type McpRouteDeps = AuthenticatedRouteDeps & McpDeps;

export const buildHandler = (deps: McpRouteDeps) =>
  httpRoute(
    { logger: deps.logger, metrics: deps.metrics, auth: deps.auth, jsonBody: true },
    async ({ event, body, tenant, signal }) => {
      const { tenantId, limits } = requireTenant(tenant);
      return answerMcp(
        deps,
        {
          event,
          body,
          caller: {
            tenantId,
            maxQueuedTasks: limits.maxQueuedTasks,
            maxLiveSessions: limits.maxLiveSessions,
            signal,
          },
        },
        (error) => deps.logger.error('mcp tool failed', { error: error as Error }),
      );
    },
  );

export const compose = (env: Env): ComposedHttpFunction<ReturnType<typeof buildHandler>> => {
  const config = loadHttpConfig('http-mcp', env);
  const dynamo = createDynamoClient(config.aws);
  const sqs = createSqsClient(config.aws);
  const s3 = createS3Client(config.aws);
  const artifacts = new S3ArtifactStore(s3, config.artifactBucket);
  const ticketKeys = createRouteTicketKeys(config);
  const sessions = new DynamoDbSessionStore(dynamo, config.stateTable);
  // The worker's inbox takes calls signed with the ticket key.
  // A call waits for its command, within API Gateway's 30 s (MCP_COMMAND_TIMEOUT_MS + margin).
  const inbox = new HttpSessionInbox(ticketKeys, { maxCallWaitMs: 25_000 });
  const handler = buildHandler({
    ...createRouteDeps(config),
    auth: createRouteAuth(dynamo, config.stateTable),
    ...createSubmitTaskDeps(dynamo, sqs, config),
    artifacts,
    reader: artifacts,
    artifactUrlTtlSeconds: config.artifactUrlTtlSeconds,
    // Per container: what its held answers learned of how long tasks take.
    durations: new TaskDurations(),
    sessions,
    sessionQueue: new SqsTaskQueue(sqs, config.fleetQueueUrl),
    ticketKeys,
    cdpPublicUrl: config.cdpPublicUrl,
    websocketPublicUrl: config.websocketPublicUrl,
    inbox,
    runCommand: (input) => callSessionCommand({ sessions, inbox }, input),
    download: downloadBounded,
  });
  return {
    handler,
    dispose: () => {
      dynamo.destroy();
      sqs.destroy();
      s3.destroy();
    },
  };
};

export const handler = lazy(() => compose(process.env).handler);
