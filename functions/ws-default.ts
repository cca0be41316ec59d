/**
 * `$default`: `ping` answers `pong` (keeps idle connections open), `ticket` a fresh live-view
 * ticket to reconnect with; anything else is refused by name.
 */
import { loadWsConfig } from '../shared/config.js';
import { BrowserfleetError, ERROR_CODES } from '../shared/errors.js';
import { renewTicket } from '../shared/session/websocket-api.js';
import { lazy } from './entry/lazy.js';
import { createWsDeps, type WsFunctionDeps } from './ws/deps.js';
import { wsRoute } from './ws/ws-route.js';

const ACTIONS = 'attach, detach, command, screencast, ping, ticket';

export const buildHandler = (deps: WsFunctionDeps) =>
  wsRoute(deps, async ({ body, connectionId }) => {
    const action = (body as { action?: unknown }).action;
    if (action === 'ping') return { type: 'pong', at: deps.clock.now() };
    if (action === 'ticket') return renewTicket(deps, { connectionId });
    throw new BrowserfleetError(
      ERROR_CODES.VALIDATION_FAILED,
      `action: ${action === undefined ? 'is required' : `unknown action ${JSON.stringify(action).slice(0, 64)}`}; expected one of ${ACTIONS}.`,
    );
  });

export const handler = lazy(() => buildHandler(createWsDeps(loadWsConfig(process.env))));
