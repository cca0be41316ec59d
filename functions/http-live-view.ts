/**
 * `GET /v1/sessions/{id}/live?ticket=…`: the live-view page. A browser tab can't send an
 * API key, so the page is reached with the short-lived ticket from `liveViewUrl` and uses it
 * to open the WebSocket API.
 */
import { type Clock, systemClock } from '../shared/clock.js';
import { type Env, loadHttpConfig } from '../shared/config.js';
import { BrowserfleetError, ERROR_CODES } from '../shared/errors.js';
import { type TicketKeys, verifyTicketWithKeys } from '../shared/session/ticket-keys.js';
import { parseOrThrow } from '../shared/validation.js';
import { lazy } from './entry/lazy.js';
import { httpRoute } from './http/http-route.js';
import { liveViewPage } from './http/live-view-page.js';
import { liveViewQuerySchema } from './http/query.js';
import { type ComposedHttpFunction, createRouteDeps, type RouteDeps } from './http/route-deps.js';
import { createRouteTicketKeys } from './http/route-tickets.js';

export interface LiveViewDeps extends RouteDeps {
  ticketKeys: TicketKeys;
  clock: Clock;
  /** The WebSocket API the page opens. */
  websocketPublicUrl: string;
}

export const buildHandler = (deps: LiveViewDeps) =>
  httpRoute({ logger: deps.logger, metrics: deps.metrics }, async ({ event }) => {
    const sessionId = event.pathParameters?.id ?? '';
    const { ticket } = parseOrThrow(liveViewQuerySchema, event.queryStringParameters ?? {});
    const check = await verifyTicketWithKeys(deps.ticketKeys, ticket, {
      scope: 'live',
      nowSeconds: Math.floor(deps.clock.now() / 1000),
      sessionId,
    });
    if (!check.ok) {
      throw new BrowserfleetError(
        ERROR_CODES.UNAUTHORIZED,
        `Invalid live-view ticket (${check.reason}); GET the session for a fresh liveViewUrl.`,
      );
    }
    return {
      statusCode: 200,
      contentType: 'text/html; charset=utf-8',
      headers: {
        'cache-control': 'no-store',
        'referrer-policy': 'no-referrer',
        'x-frame-options': 'DENY',
      },
      body: liveViewPage({ sessionId, websocketUrl: deps.websocketPublicUrl, ticket }),
    };
  });

export const compose = (env: Env): ComposedHttpFunction<ReturnType<typeof buildHandler>> => {
  const config = loadHttpConfig('http-live-view', env);
  const handler = buildHandler({
    ...createRouteDeps(config),
    ticketKeys: createRouteTicketKeys(config),
    clock: systemClock,
    websocketPublicUrl: config.websocketPublicUrl,
  });
  // No AWS client to close: a Secrets Manager client, if any, lives with the ticket keys.
  return { handler, dispose: () => {} };
};

export const handler = lazy(() => compose(process.env).handler);
