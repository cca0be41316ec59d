/** `command` / `screencast`: forwarded to the worker hosting the attached session. */
import { loadWsConfig } from '../shared/config.js';
import { forwardToSession } from '../shared/session/websocket-api.js';
import { lazy } from './entry/lazy.js';
import { createWsDeps, type WsFunctionDeps } from './ws/deps.js';
import { wsRoute } from './ws/ws-route.js';

export const buildHandler = (deps: WsFunctionDeps) =>
  wsRoute(deps, async ({ connectionId, body }) => {
    await forwardToSession(deps, { connectionId, body });
    return undefined;
  });

export const handler = lazy(() => buildHandler(createWsDeps(loadWsConfig(process.env))));
