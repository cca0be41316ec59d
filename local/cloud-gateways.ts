/**
 * The local cloud's API Gateway: the HTTP API and the WebSocket API, each route invoking
 * its function's real handler. Every function is built once, with its own dependencies and
 * its own role's key, as each Lambda function has its own execution environment and role.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { createHttpDeps, type HttpDeps } from '../functions/http/deps.js';
import { buildHandler as cancelTask } from '../functions/http-cancel-task.js';
import { buildHandler as closeSession } from '../functions/http-close-session.js';
import { buildHandler as createSession } from '../functions/http-create-session.js';
import { buildHandler as createTask } from '../functions/http-create-task.js';
import { buildHandler as getLimits } from '../functions/http-get-limits.js';
import { buildHandler as getPressure } from '../functions/http-get-pressure.js';
import { buildHandler as getSession } from '../functions/http-get-session.js';
import { buildHandler as getTask } from '../functions/http-get-task.js';
import { buildHandler as health } from '../functions/http-health.js';
import { buildHandler as listSessions } from '../functions/http-list-sessions.js';
import { buildHandler as liveView } from '../functions/http-live-view.js';
import { createWsDeps, type WsFunctionDeps } from '../functions/ws/deps.js';
import type { WsHandler } from '../functions/ws/ws-route.js';
import { buildHandler as wsAttach } from '../functions/ws-attach.js';
import { buildHandler as wsCommand } from '../functions/ws-command.js';
import { buildHandler as wsConnect } from '../functions/ws-connect.js';
import { buildHandler as wsDefault } from '../functions/ws-default.js';
import { buildHandler as wsDisconnect } from '../functions/ws-disconnect.js';
import { destroyAwsClients } from '../shared/adapters/aws-clients.js';
import { loadHttpConfig, loadWsConfig } from '../shared/config.js';
import { HTTP_ROUTES, type HttpFunctionName, WS_ROUTES, type WsFunctionName } from '../shared/contracts.js';
import type { RoleEnv } from './cloud-resources.js';
import { type GatewayRoute, type HttpHandler, startHttpGateway } from './gateway.js';
import type { StopStack } from './stop-stack.js';
import { startWsGateway } from './ws-gateway.js';

const HTTP_FUNCTIONS: Record<HttpFunctionName, (deps: HttpDeps) => HttpHandler> = {
  'http-create-task': createTask,
  'http-cancel-task': cancelTask,
  'http-get-limits': getLimits,
  'http-get-pressure': getPressure,
  'http-get-task': getTask,
  'http-health': health,
  'http-create-session': createSession,
  'http-list-sessions': listSessions,
  'http-get-session': getSession,
  'http-close-session': closeSession,
  'http-live-view': liveView,
};

const WS_FUNCTIONS: Record<WsFunctionName, (deps: WsFunctionDeps) => WsHandler> = {
  'ws-connect': wsConnect,
  'ws-disconnect': wsDisconnect,
  'ws-attach': wsAttach,
  'ws-command': wsCommand,
  'ws-default': wsDefault,
};

/** One value per name, made on first use: a function's dependencies, shared by its routes. */
const oncePerName = <N, V>(make: (name: N) => V): ((name: N) => V) => {
  const made = new Map<N, V>();
  return (name) => {
    let value = made.get(name);
    if (value === undefined) {
      value = make(name);
      made.set(name, value);
    }
    return value;
  };
};

/** Starts both APIs on these ports (0: free ones); answers their URLs. */
export const startGateways = async (
  options: {
    ports: { gateway: number; ws: number };
    roleEnv: RoleEnv;
    /** The WebSocket gateway's idle timeout (API Gateway's 10 minutes unless a test shortens it). */
    wsIdleTimeoutMs?: number | undefined;
    logger: Logger;
  },
  stops: StopStack,
): Promise<{ url: string; wsUrl: string }> => {
  const { roleEnv, logger } = options;
  const httpDepsOf = oncePerName((name: HttpFunctionName) => {
    const created = createHttpDeps(loadHttpConfig(roleEnv(name)));
    stops.push(async () => destroyAwsClients(created.clients));
    return created;
  });
  const routes: GatewayRoute[] = HTTP_ROUTES.map((route) => ({
    routeKey: route.routeKey,
    functionName: route.functionName,
    handler: HTTP_FUNCTIONS[route.functionName](httpDepsOf(route.functionName)),
  }));
  const gateway = await startHttpGateway({
    port: options.ports.gateway,
    routes,
    onError: (error) => logger.error('handler crashed', { error: error as Error }),
  });
  stops.push(() => gateway.close());

  const wsDepsOf = oncePerName((name: WsFunctionName) => {
    const created = createWsDeps(loadWsConfig(roleEnv(name)));
    stops.push(async () => created.dispose());
    return created;
  });
  const wsGateway = await startWsGateway({
    port: options.ports.ws,
    routes: WS_ROUTES.map((route) => ({
      routeKey: route.routeKey,
      handler: WS_FUNCTIONS[route.functionName](wsDepsOf(route.functionName)),
    })),
    ...(options.wsIdleTimeoutMs === undefined ? {} : { idleTimeoutMs: options.wsIdleTimeoutMs }),
    onError: (error) => logger.error('ws handler crashed', { error: error as Error }),
  });
  stops.push(() => wsGateway.close());
  return { url: gateway.url, wsUrl: wsGateway.url };
};
