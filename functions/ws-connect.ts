/**
 * `$connect`: authenticates the WebSocket client with `Authorization: Bearer <key>`, or a
 * live-view `?ticket=`. Any other status than 200 refuses the handshake: the status is the
 * WebSocket error table's (shared/session/ws-errors.ts), 401 for a bad key, 429 past the rate.
 */
import { loadWsConfig } from '../shared/config.js';
import type { MetricName } from '../shared/contracts.js';
import type { ErrorCode } from '../shared/errors.js';
import { connectClient } from '../shared/session/websocket-api.js';
import { mapWsError } from '../shared/session/ws-errors.js';
import { lazy } from './entry/lazy.js';
import { createWsDeps, type WsFunctionDeps } from './ws/deps.js';
import type { WsHandler } from './ws/ws-route.js';

/** Refusals counted as their own metric, beside the status the one table gives them. */
const CONNECT_REFUSAL_METRICS: Partial<Record<ErrorCode, MetricName>> = {
  UNAUTHORIZED: 'AuthFailures',
  RATE_LIMITED: 'RateLimited',
};

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
      const { error: shown, connectStatus } = mapWsError(error, (hidden) =>
        deps.logger.error('ws connect failed', { error: hidden as Error }),
      );
      const metric = CONNECT_REFUSAL_METRICS[shown.code];
      if (metric !== undefined) deps.metrics.count(metric, 1, { where: 'websocket' });
      return { statusCode: connectStatus, body: JSON.stringify({ error: shown }) };
    }
  };

export const handler = lazy(() => buildHandler(createWsDeps(loadWsConfig(process.env))));
