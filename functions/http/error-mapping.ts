/**
 * The HTTP transport's one mapping from error codes to statuses. `satisfies Record<ErrorCode,
 * …>` makes a new code without a status a type error.
 */
import type { ErrorBody } from '../../shared/error-body.js';
import { type ErrorCode, isBrowserfleetError } from '../../shared/errors.js';

const STATUS_BY_CODE = {
  VALIDATION_FAILED: 400,
  MALFORMED_JSON: 400,
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  ROUTE_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  IDEMPOTENCY_KEY_REUSED: 409,
  TASK_ALREADY_ENDED: 409,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  QUOTA_EXCEEDED: 429,
  DESTINATION_BLOCKED: 400,
  SCRIPT_ERROR: 500,
  RESULT_TOO_LARGE: 500,
  SELECTOR_NOT_FOUND: 500,
  STALE_REF: 500,
  HTTP_STATUS_FAILED: 500,
  UNSUPPORTED_MEDIA_TYPE: 415,
  INVALID_TRANSITION: 409,
  DEPENDENCY_UNAVAILABLE: 503,
  SESSION_NOT_LIVE: 409,
  SESSION_UNREACHABLE: 503,
  NOT_ATTACHED: 409,
  // A browser page of another origin (or a rebound DNS name) calling the MCP server.
  FORBIDDEN_ORIGIN: 403,
  // Codes below describe task outcomes or internal faults; reaching a client as a
  // response status means something went wrong on our side.
  LEASE_LOST: 500,
  LEASE_EXPIRED: 500,
  THROTTLED: 503,
  NAVIGATION_FAILED: 500,
  TIMEOUT: 500,
  BROWSER_CRASHED: 500,
  WORKER_SHUTDOWN: 500,
  CONFIG_INVALID: 500,
  INTERNAL: 500,
} as const satisfies Record<ErrorCode, number>;

export type { ErrorBody };

/** The HTTP status each error code is answered with. */
export const httpStatusOf = (code: ErrorCode): number => STATUS_BY_CODE[code];

export interface MappedError {
  statusCode: number;
  body: ErrorBody;
  /** Whether the error was expected; unexpected ones are logged with their stack. */
  expected: boolean;
}

export const mapError = (error: unknown): MappedError => {
  if (isBrowserfleetError(error)) {
    const statusCode = STATUS_BY_CODE[error.code];
    if (statusCode < 500 || statusCode === 503) {
      return {
        statusCode,
        expected: true,
        body: {
          error: {
            code: error.code,
            message: error.message,
            ...(error.details === undefined ? {} : { details: error.details }),
          },
        },
      };
    }
  }
  // Never leak internals: the log has the details, the client gets a generic answer.
  return {
    statusCode: 500,
    expected: false,
    body: { error: { code: 'INTERNAL', message: 'Internal error. The request can be retried.' } },
  };
};
