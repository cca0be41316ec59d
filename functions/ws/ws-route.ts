/**
 * Builds a WebSocket API route handler (API Gateway WebSocket event shape). The body is
 * parsed once; the handler's answer, or any error as `{"type":"error","id"?,"error":{code,
 * message}}` (by the transport's one table, shared/session/ws-errors.ts: never internals),
 * goes back as the route response (the routes are two-way), so these functions need no
 * PostToConnection — they run in the VPC, which has no way out to API Gateway's management
 * API. `$connect` is different: its status decides the handshake.
 */
import type { Context } from 'aws-lambda';
import { ERROR_CODES } from '../../shared/errors.js';
import type { ServerMessage } from '../../shared/session/ports.js';
import { mapWsError } from '../../shared/session/ws-errors.js';
import { assertJsonDepth } from '../../shared/validation.js';
import type { WsFunctionDeps } from './deps.js';

/** The parts of API Gateway's WebSocket event the handlers read. */
export interface WsEvent {
  requestContext: {
    connectionId: string;
    routeKey: string;
    eventType: 'CONNECT' | 'MESSAGE' | 'DISCONNECT';
    requestId?: string;
  };
  headers?: Record<string, string | undefined>;
  queryStringParameters?: Record<string, string | undefined> | null;
  body?: string | null;
  isBase64Encoded?: boolean;
}

export interface WsResult {
  statusCode: number;
  body?: string;
}
export type WsHandler = (event: WsEvent, context?: Context) => Promise<WsResult>;

const parseBody = (event: WsEvent): unknown => {
  const raw =
    event.isBase64Encoded === true
      ? Buffer.from(event.body ?? '', 'base64').toString('utf8')
      : (event.body ?? '');
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
};

const answer = (message: ServerMessage | undefined): WsResult =>
  message === undefined ? { statusCode: 200 } : { statusCode: 200, body: JSON.stringify(message) };

export const wsRoute =
  (
    deps: WsFunctionDeps,
    handle: (input: {
      connectionId: string;
      body: unknown;
      event: WsEvent;
    }) => Promise<ServerMessage | undefined>,
  ): WsHandler =>
  async (event) => {
    const { connectionId } = event.requestContext;
    const body = parseBody(event);
    const id =
      typeof (body as { id?: unknown } | undefined)?.id === 'string'
        ? (body as { id: string }).id
        : undefined;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      return answer({
        type: 'error',
        error: {
          code: ERROR_CODES.MALFORMED_JSON,
          message: 'Each message must be a JSON object with an "action".',
        },
      });
    }
    try {
      assertJsonDepth(body, '(message)');
      return answer(await handle({ connectionId, body, event }));
    } catch (error) {
      const { error: shownError } = mapWsError(error, (hidden) =>
        deps.logger.error('ws route failed', {
          route: event.requestContext.routeKey,
          error: hidden as Error,
        }),
      );
      return answer({ type: 'error', ...(id === undefined ? {} : { id }), error: shownError });
    }
  };
