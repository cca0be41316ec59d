/**
 * Builds an HTTP API (payload v2) Lambda handler: middleware first, handler last.
 * Middleware: header normalisation, rate-limit headers, the one error mapping, API-key
 * authentication with the tenant's rate limit, and the JSON body parser. A handler only
 * parses, calls one use case and maps the answer.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import middy, { type MiddlewareObj } from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { authenticate } from '../../shared/auth/api-key.js';
import type { ApiKeyVerifier, AuthenticatedTenant } from '../../shared/auth/ports.js';
import type { Clock } from '../../shared/clock.js';
import type { MetricName } from '../../shared/contracts.js';
import { BrowserfleetError, ERROR_CODES, isBrowserfleetError } from '../../shared/errors.js';
import { type Metrics, noopMetrics } from '../../shared/metrics/metrics.js';
import type { RateBucketStore } from '../../shared/tenancy/ports.js';
import { consumeRequest, rateLimitedError, rateLimitHeaders } from '../../shared/tenancy/rate-limit.js';
import { assertJsonDepth } from '../../shared/validation.js';
import { mapError } from './error-mapping.js';

export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResult = APIGatewayProxyStructuredResultV2;

/** What a handler receives besides the raw event. */
export interface HttpRequest {
  event: HttpEvent;
  /** The parsed JSON body, when the route takes one. */
  body: unknown;
  tenant: AuthenticatedTenant | undefined;
  signal: AbortSignal;
}

export interface JsonAnswer {
  statusCode: number;
  body: unknown;
  headers?: Record<string, string>;
  /** Send `body` (a string) as is with this content type, instead of as JSON. */
  contentType?: string;
}

/** What an authenticated route needs: the key verifier and the tenants' rate buckets. */
export interface RouteAuth {
  verifier: ApiKeyVerifier;
  buckets: RateBucketStore;
  clock: Clock;
}

export interface RouteOptions {
  logger: Logger;
  metrics?: Metrics;
  /** Present when the route requires an API key (and so counts against the rate limit). */
  auth?: RouteAuth;
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
  tenant?: AuthenticatedTenant;
  /** `RateLimit-*` headers for every response to an authenticated caller. */
  rateHeaders?: Record<string, string>;
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

/** Refusals worth a metric, by error code. */
const REFUSAL_METRICS: Partial<Record<string, MetricName>> = {
  UNAUTHORIZED: 'AuthFailures',
  RATE_LIMITED: 'RateLimited',
  QUOTA_EXCEEDED: 'QuotaExceeded',
  DESTINATION_BLOCKED: 'DestinationsBlocked',
};

const errorHandler = (logger: Logger, metrics: Metrics): RouteMiddleware => ({
  onError: (request) => {
    const mapped = mapError(request.error);
    const metric = REFUSAL_METRICS[mapped.body.error.code];
    if (metric !== undefined) {
      const reason = isBrowserfleetError(request.error) ? request.error.details?.reason : undefined;
      metrics.count(metric, 1, typeof reason === 'string' ? { where: 'submit', reason } : {});
    }
    if (mapped.expected) {
      logger.info('request refused', { code: mapped.body.error.code, status: mapped.statusCode });
    } else {
      logger.error('request failed', { error: request.error as Error });
    }
    request.response = jsonResponse(mapped.statusCode, mapped.body);
  },
});

/** Methods whose requests carry no body, on a route that takes one for its other methods. */
const BODILESS_METHODS = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS']);

const bodyParser = (maxBytes: number): RouteMiddleware => ({
  before: (request) => {
    const { event } = request;
    if (BODILESS_METHODS.has(event.requestContext.http.method)) return;
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
    assertJsonDepth(parsed);
    request.context.jsonBody = parsed;
  },
});

const authAndRateLimit = (auth: RouteAuth): RouteMiddleware => ({
  before: async (request) => {
    const tenant = await authenticate(auth.verifier, request.event.headers.authorization);
    request.context.tenant = tenant;
    const decision = await consumeRequest(auth, tenant);
    request.context.rateHeaders = { ...rateLimitHeaders(tenant.limits, decision) };
    if (!decision.admitted) {
      throw rateLimitedError(tenant, decision);
    }
  },
});

/** Adds rate-limit headers to every answer, and `Retry-After` to throttled ones. */
const responseHeaders = (): RouteMiddleware => {
  const add = (request: {
    context: RouteContext;
    response: HttpResult | null | undefined;
    error?: unknown;
  }) => {
    if (request.response === null || request.response === undefined) return;
    const retryAfter = isBrowserfleetError(request.error)
      ? request.error.details?.retryAfterSeconds
      : undefined;
    // A handler's own rate headers (a batch, which takes a token per item) tell more.
    request.response.headers = {
      ...request.context.rateHeaders,
      ...request.response.headers,
      ...(typeof retryAfter === 'number' ? { 'retry-after': String(retryAfter) } : {}),
    };
  };
  return { after: add, onError: add };
};

/** The tenant of an authenticated route (the auth middleware has run). */
export const requireTenant = (tenant: AuthenticatedTenant | undefined): AuthenticatedTenant => {
  if (tenant === undefined) throw new BrowserfleetError(ERROR_CODES.UNAUTHORIZED, 'Missing API key.');
  return tenant;
};

/** Wraps `handle` into a middy handler for one HTTP route. */
export const httpRoute = (options: RouteOptions, handle: (request: HttpRequest) => Promise<JsonAnswer>) => {
  // onError runs in reverse order: the error mapping answers, then the headers are added.
  const middlewares: RouteMiddleware[] = [
    httpHeaderNormalizer() as RouteMiddleware,
    responseHeaders(),
    errorHandler(options.logger, options.metrics ?? noopMetrics),
  ];
  // Authenticate before reading the body: a caller without a key learns nothing more.
  if (options.auth !== undefined) middlewares.push(authAndRateLimit(options.auth));
  if (options.jsonBody === true) {
    middlewares.push(bodyParser(options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES));
  }

  return middy<HttpEvent, HttpResult, Error, RouteContext>({ timeoutEarlyInMillis: 1_000 })
    .use(middlewares)
    .handler(async (event, context, { signal }) => {
      const answer = await handle({ event, body: context.jsonBody, tenant: context.tenant, signal });
      if (answer.contentType !== undefined) {
        return {
          statusCode: answer.statusCode,
          headers: { 'content-type': answer.contentType, ...answer.headers },
          body: String(answer.body),
        };
      }
      return jsonResponse(answer.statusCode, answer.body, answer.headers);
    });
};
