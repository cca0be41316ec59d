/**
 * `$connect`: authenticates the WebSocket client with `Authorization: Bearer <key>`, or a
 * live-view `?ticket=`. Any other status than 200 refuses the handshake (401 here).
 */
import { loadWsConfig } from '../shared/config.js';
import { isBrowserfleetError } from '../shared/errors.js';
import { connectClient } from '../shared/session/ws-clients.js';
import { lazy } from './entry/lazy.js';
import { createWsDeps, type WsFunctionDeps } from './ws/deps.js';
import type { WsHandler } from './ws/ws-route.js';

export const buildHandler =
  (deps: WsFunctionDeps): WsHandler =>
  async (event) => {
    const headers = Object.fromEntries(
      Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
    );
    try {
      const c = await connectClient(deps, {
        connectionId: event.requestContext.connectionId,
        authorization: headers.authorization,
        ticket: event.queryStringParameters?.ticket ?? undefined,
      });
      deps.logger.info('ws connected', { connectionId: c.connectionId, tenantId: c.tenantId });
      return { statusCode: 200 };
    } catch (error) {
      if (isBrowserfleetError(error) && (error.code === 'UNAUTHORIZED' || error.code === 'RATE_LIMITED')) {
        const limited = error.code === 'RATE_LIMITED';
        deps.metrics.count(limited ? 'RateLimited' : 'AuthFailures', 1, { where: 'websocket' });
        return {
          statusCode: limited ? 429 : 401,
          body: JSON.stringify({ error: { code: error.code, message: error.message } }),
        };
      }
      deps.logger.error('ws connect failed', { error: error as Error });
      return { statusCode: 500 };
    }
  };

export const handler = lazy(() => buildHandler(createWsDeps(loadWsConfig(process.env))));
