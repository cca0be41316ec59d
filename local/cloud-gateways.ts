/**
 * The local cloud's API Gateway: the HTTP API and the WebSocket API, each route invoking
 * its function's real handler. Every function is built once, with its own dependencies and
 * its own role's key, as each Lambda function has its own execution environment and role.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { createWsDeps, type WsFunctionDeps } from '../functions/ws/deps.js';
import type { WsHandler } from '../functions/ws/ws-route.js';
import { buildHandler as wsAttach } from '../functions/ws-attach.js';
import { buildHandler as wsCommand } from '../functions/ws-command.js';
import { buildHandler as wsConnect } from '../functions/ws-connect.js';
import { buildHandler as wsDefault } from '../functions/ws-default.js';
import { buildHandler as wsDisconnect } from '../functions/ws-disconnect.js';
import { loadWsConfig } from '../shared/config.js';
import { HTTP_ROUTES, type HttpFunctionName, WS_ROUTES, type WsFunctionName } from '../shared/contracts.js';
import type { RoleEnv } from './cloud-resources.js';
import { type GatewayRoute, startHttpGateway } from './gateway.js';
import { HTTP_FUNCTIONS } from './http-functions.js';
import type { StopStack } from './stop-stack.js';
import { startWsGateway } from './ws-gateway.js';

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
  // Each function composes its own ports from its own role's environment (http-functions.ts).
  const httpFunctionOf = oncePerName((name: HttpFunctionName) => {
    const fn = HTTP_FUNCTIONS[name](roleEnv(name));
    stops.push(async () => fn.dispose());
    return fn;
  });
  const routes: GatewayRoute[] = HTTP_ROUTES.map((route) => ({
    routeKey: route.routeKey,
    functionName: route.functionName,
    handler: httpFunctionOf(route.functionName).handler,
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
