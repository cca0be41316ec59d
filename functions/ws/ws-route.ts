/**
 * Builds a WebSocket API route handler (API Gateway WebSocket event shape). The body is
 * parsed once; any error becomes one `{"type":"error","id"?,"error":{code,message}}`
 * message to the connection (never internals), and the route answers 200 so API Gateway
 * keeps the connection. `$connect` is different: its status decides the handshake.
 */
import type { Context } from 'aws-lambda';
import { ERROR_CODES, isBrowserfleetError } from '../../shared/errors.js';
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

const OK: WsResult = { statusCode: 200 };

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

export const wsRoute =
  (
    deps: WsFunctionDeps,
    handle: (input: { connectionId: string; body: unknown; event: WsEvent }) => Promise<void>,
  ): WsHandler =>
  async (event) => {
    const { connectionId } = event.requestContext;
    const body = parseBody(event);
    const id =
      typeof (body as { id?: unknown } | undefined)?.id === 'string'
        ? (body as { id: string }).id
        : undefined;
    try {
      if (body === null || typeof body !== 'object' || Array.isArray(body)) {
        await deps.notifier.send(connectionId, {
          type: 'error',
          error: {
            code: ERROR_CODES.MALFORMED_JSON,
            message: 'Each message must be a JSON object with an "action".',
          },
        });
        return OK;
      }
      await handle({ connectionId, body, event });
    } catch (error) {
      const known = isBrowserfleetError(error) && error.code !== ERROR_CODES.INTERNAL;
      if (!known)
        deps.logger.error('ws route failed', { route: event.requestContext.routeKey, error: error as Error });
      await deps.notifier
        .send(connectionId, {
          type: 'error',
          ...(id === undefined ? {} : { id }),
          error: known
            ? { code: error.code, message: error.message }
            : { code: ERROR_CODES.INTERNAL, message: 'Internal error. The message can be sent again.' },
        })
        .catch(() => {});
    }
    return OK;
  };
