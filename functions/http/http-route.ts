/**
 * Builds an HTTP API (payload v2) Lambda handler: middleware first, handler last.
 * Middleware: header normalisation, JSON response shaping, the one error mapping, the
 * JSON body parser and API-key authentication. A handler only parses, calls one use case
 * and maps the answer.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import middy, { type MiddlewareObj } from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { type ApiKeyVerifier, authenticate, type Tenant } from '../../shared/auth/api-key.js';
import { BrowserfleetError, ERROR_CODES } from '../../shared/errors.js';
import { mapError } from './error-mapping.js';

export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResult = APIGatewayProxyStructuredResultV2;

/** What a handler receives besides the raw event. */
export interface HttpRequest {
  event: HttpEvent;
  /** The parsed JSON body, when the route takes one. */
  body: unknown;
  tenant: Tenant | undefined;
  signal: AbortSignal;
}

export interface JsonAnswer {
  statusCode: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface RouteOptions {
  logger: Logger;
  /** Present when the route requires an API key. */
  verifier?: ApiKeyVerifier;
  /** Whether the route takes a JSON body. */
  jsonBody?: boolean;
  /** Bigger bodies are refused with 413 before parsing. */
  maxBodyBytes?: number;
}

/** Default request body limit: a task description is small; this leaves room for scripts. */
export const DEFAULT_MAX_BODY_BYTES = 256 * 1024;

/** The Lambda context, extended by the middlewares (as middy's own do with `setToContext`). */
interface RouteContext extends Context {
  jsonBody?: unknown;
  tenant?: Tenant;
}

type RouteMiddleware = MiddlewareObj<HttpEvent, HttpResult, Error, RouteContext>;

const jsonResponse = (
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): HttpResult => ({
  statusCode,
  headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  body: JSON.stringify(body),
});

const errorHandler = (logger: Logger): RouteMiddleware => ({
  onError: (request) => {
    const mapped = mapError(request.error);
    if (mapped.expected) {
      logger.info('request refused', { code: mapped.body.error.code, status: mapped.statusCode });
    } else {
      logger.error('request failed', { error: request.error as Error });
    }
    request.response = jsonResponse(mapped.statusCode, mapped.body);
  },
});

const bodyParser = (maxBytes: number): RouteMiddleware => ({
  before: (request) => {
    const { event } = request;
    const raw = event.body ?? '';
    const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
    if (Buffer.byteLength(text, 'utf8') > maxBytes) {
      throw new BrowserfleetError(
        ERROR_CODES.PAYLOAD_TOO_LARGE,
        `Request body is larger than ${maxBytes} bytes.`,
      );
    }
    const contentType = event.headers['content-type'];
    if (contentType === undefined || !/^application\/(.+\+)?json\s*(;|$)/i.test(contentType)) {
      throw new BrowserfleetError(
        ERROR_CODES.UNSUPPORTED_MEDIA_TYPE,
        'Content-Type must be application/json.',
      );
    }
    if (text.trim() === '') {
      throw new BrowserfleetError(
        ERROR_CODES.MALFORMED_JSON,
        'Request body is empty; expected a JSON object.',
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new BrowserfleetError(
        ERROR_CODES.MALFORMED_JSON,
        `Request body is not valid JSON: ${(error as Error).message}`,
      );
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new BrowserfleetError(ERROR_CODES.VALIDATION_FAILED, '(body): must be a JSON object', {
        details: { issues: [{ field: '(body)', message: 'must be a JSON object' }] },
      });
    }
    request.context.jsonBody = parsed;
  },
});

const apiKeyAuth = (verifier: ApiKeyVerifier): RouteMiddleware => ({
  before: async (request) => {
    request.context.tenant = await authenticate(verifier, request.event.headers.authorization);
  },
});

/** The tenant of an authenticated route (the auth middleware has run). */
export const requireTenant = (tenant: Tenant | undefined): Tenant => {
  if (tenant === undefined) throw new BrowserfleetError(ERROR_CODES.UNAUTHORIZED, 'Missing API key.');
  return tenant;
};

/** Wraps `handle` into a middy handler for one HTTP route. */
export const httpRoute = (options: RouteOptions, handle: (request: HttpRequest) => Promise<JsonAnswer>) => {
  const middlewares: RouteMiddleware[] = [
    httpHeaderNormalizer() as RouteMiddleware,
    errorHandler(options.logger),
  ];
  // Authenticate before reading the body: a caller without a key learns nothing more.
  if (options.verifier !== undefined) middlewares.push(apiKeyAuth(options.verifier));
  if (options.jsonBody === true) {
    middlewares.push(bodyParser(options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES));
  }

  return middy<HttpEvent, HttpResult, Error, RouteContext>({ timeoutEarlyInMillis: 1_000 })
    .use(middlewares)
    .handler(async (event, context, { signal }) => {
      const answer = await handle({ event, body: context.jsonBody, tenant: context.tenant, signal });
      return jsonResponse(answer.statusCode, answer.body, answer.headers);
    });
};
