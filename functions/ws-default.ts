/** `$default`: `ping` answers `pong` (keeps idle connections open); anything else is refused by name. */
import { loadWsConfig } from '../shared/config.js';
import { BrowserfleetError, ERROR_CODES } from '../shared/errors.js';
import { lazy } from './http/deps.js';
import { createWsDeps, type WsFunctionDeps } from './ws/deps.js';
import { wsRoute } from './ws/ws-route.js';

const ACTIONS = 'attach, detach, command, screencast, ping';

export const buildHandler = (deps: WsFunctionDeps) =>
  wsRoute(deps, async ({ body }) => {
    const action = (body as { action?: unknown }).action;
    if (action === 'ping') return { type: 'pong', at: deps.clock.now() };
    throw new BrowserfleetError(
      ERROR_CODES.VALIDATION_FAILED,
      `action: ${action === undefined ? 'is required' : `unknown action ${JSON.stringify(action).slice(0, 64)}`}; expected one of ${ACTIONS}.`,
    );
  });

export const handler = lazy(() => buildHandler(createWsDeps(loadWsConfig(process.env))));
