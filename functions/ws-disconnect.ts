/** `$disconnect`: the worker stops sending to the connection and its rows are removed. */
import { loadWsConfig } from '../shared/config.js';
import { disconnectClient } from '../shared/session/websocket-api.js';
import { lazy } from './entry/lazy.js';
import { createWsDeps, type WsFunctionDeps } from './ws/deps.js';
import type { WsHandler } from './ws/ws-route.js';

export const buildHandler =
  (deps: WsFunctionDeps): WsHandler =>
  async (event) => {
    await disconnectClient(deps, { connectionId: event.requestContext.connectionId }).catch(
      (error: unknown) => deps.logger.warn('ws disconnect cleanup failed', { error: error as Error }),
    );
    return { statusCode: 200 };
  };

export const handler = lazy(() => buildHandler(createWsDeps(loadWsConfig(process.env))));
