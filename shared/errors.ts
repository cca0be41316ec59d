/**
 * The one error family. Every error the platform raises on purpose is a `BrowserfleetError`
 * with a stable `code`; each transport maps codes to its own answer once, exhaustively
 * (see `functions/http/error-mapping.ts`). Anything else is a bug and becomes a generic
 * internal error whose details go to the log only.
 */

export const ERROR_CODES = {
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  MALFORMED_JSON: 'MALFORMED_JSON',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  UNAUTHORIZED: 'UNAUTHORIZED',
  NOT_FOUND: 'NOT_FOUND',
  ROUTE_NOT_FOUND: 'ROUTE_NOT_FOUND',
  CONFLICT: 'CONFLICT',
  IDEMPOTENCY_KEY_REUSED: 'IDEMPOTENCY_KEY_REUSED',
  THROTTLED: 'THROTTLED',
  RATE_LIMITED: 'RATE_LIMITED',
  QUOTA_EXCEEDED: 'QUOTA_EXCEEDED',
  DESTINATION_BLOCKED: 'DESTINATION_BLOCKED',
  SCRIPT_ERROR: 'SCRIPT_ERROR',
  RESULT_TOO_LARGE: 'RESULT_TOO_LARGE',
  SELECTOR_NOT_FOUND: 'SELECTOR_NOT_FOUND',
  /** A snapshot's element ref whose element is gone (removed, or the page navigated): snapshot again. */
  STALE_REF: 'STALE_REF',
  HTTP_STATUS_FAILED: 'HTTP_STATUS_FAILED',
  LEASE_EXPIRED: 'LEASE_EXPIRED',
  TASK_ALREADY_ENDED: 'TASK_ALREADY_ENDED',
  INVALID_TRANSITION: 'INVALID_TRANSITION',
  LEASE_LOST: 'LEASE_LOST',
  NAVIGATION_FAILED: 'NAVIGATION_FAILED',
  TIMEOUT: 'TIMEOUT',
  BROWSER_CRASHED: 'BROWSER_CRASHED',
  WORKER_SHUTDOWN: 'WORKER_SHUTDOWN',
  METHOD_NOT_ALLOWED: 'METHOD_NOT_ALLOWED',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  DEPENDENCY_UNAVAILABLE: 'DEPENDENCY_UNAVAILABLE',
  CONFIG_INVALID: 'CONFIG_INVALID',
  SESSION_NOT_LIVE: 'SESSION_NOT_LIVE',
  SESSION_UNREACHABLE: 'SESSION_UNREACHABLE',
  NOT_ATTACHED: 'NOT_ATTACHED',
  FORBIDDEN_ORIGIN: 'FORBIDDEN_ORIGIN',
  INTERNAL: 'INTERNAL',
} as const;

export type ErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];

export interface BrowserfleetErrorOptions {
  /**
   * Overrides the code's default retryability (the one table, `shared/task/retry-policy.ts`).
   * Only an adapter that knows more than the code says sets it: a navigation that failed on a
   * bad certificate is a NAVIGATION_FAILED that the same input would hit again.
   */
  retryable?: boolean;
  cause?: unknown;
  /** Extra machine-readable facts (the field that failed validation, …). */
  details?: Record<string, unknown>;
}

/** Base of every error the platform raises on purpose. */
export class BrowserfleetError extends Error {
  readonly code: ErrorCode;
  /** The override of the code's default, if the raiser knew better; read only by `classifyError`. */
  readonly retryable: boolean | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: BrowserfleetErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BrowserfleetError';
    this.code = code;
    this.retryable = options.retryable;
    this.details = options.details;
  }
}

export const isBrowserfleetError = (error: unknown): error is BrowserfleetError =>
  error instanceof BrowserfleetError;
