/** `attach` / `detach`: follow a session's events (and drive it), or stop. */
import { loadWsConfig } from '../shared/config.js';
import { attachClient, detachClient } from '../shared/session/websocket-api.js';
import { lazy } from './entry/lazy.js';
import { createWsDeps, type WsFunctionDeps } from './ws/deps.js';
import { wsRoute } from './ws/ws-route.js';

export const buildHandler = (deps: WsFunctionDeps) =>
  wsRoute(deps, async ({ connectionId, body, event }) =>
    event.requestContext.routeKey === 'detach'
      ? detachClient(deps, { connectionId, body })
      : attachClient(deps, { connectionId, body }),
  );

export const handler = lazy(() => buildHandler(createWsDeps(loadWsConfig(process.env))));
