/**
 * `GET /v1/sessions/{id}/live?ticket=…`: the live-view page. A browser tab can't send an
 * API key, so the page is reached with the short-lived ticket from `liveViewUrl` and uses it
 * to open the WebSocket API.
 */
import { z } from 'zod';
import { loadHttpConfig } from '../shared/config.js';
import { BrowserfleetError, ERROR_CODES } from '../shared/errors.js';
import { verifyTicketWithKeys } from '../shared/session/ticket-keys.js';
import { parseOrThrow } from '../shared/validation.js';
import { createHttpDeps, type HttpDeps } from './http/deps.js';
import { httpRoute } from './http/http-route.js';
import { liveViewPage } from './http/live-view-page.js';
import { lazy } from './lazy.js';

const querySchema = z.strictObject({ ticket: z.string().min(1).max(2048) });

export const buildHandler = (deps: HttpDeps) =>
  httpRoute({ logger: deps.logger, metrics: deps.metrics }, async ({ event }) => {
    const sessionId = event.pathParameters?.id ?? '';
    const { ticket } = parseOrThrow(querySchema, event.queryStringParameters ?? {});
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

export const handler = lazy(() => buildHandler(createHttpDeps(loadHttpConfig(process.env))));
