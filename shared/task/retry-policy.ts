/**
 * What happens after a failed execution: retry with backoff, or fail for good. Pure.
 */
import { ERROR_CODES, type ErrorCode, isBrowserfleetError } from '../errors.js';
import type { TaskError } from './task.js';

/**
 * Which errors are worth another attempt. Transient trouble (a crashed browser, a page that
 * was slow this time, a worker that was stopped, throttling, an unexpected fault) is;
 * anything the same input would hit again (bad input, an unreachable or blocked
 * destination, a script error, a status the caller asked to fail on) is not.
 * `satisfies` makes a new code without a decision a type error.
 */
const RETRYABLE = {
  VALIDATION_FAILED: false,
  MALFORMED_JSON: false,
  UNSUPPORTED_MEDIA_TYPE: false,
  UNAUTHORIZED: false,
  NOT_FOUND: false,
  ROUTE_NOT_FOUND: false,
  METHOD_NOT_ALLOWED: false,
  PAYLOAD_TOO_LARGE: false,
  CONFLICT: false,
  TASK_ALREADY_ENDED: false,
  LEASE_EXPIRED: true,
  IDEMPOTENCY_KEY_REUSED: false,
  INVALID_TRANSITION: false,
  LEASE_LOST: false,
  // Transient network trouble (reset, refused, empty answer, a lookup that failed this
  // time); the Puppeteer translator overrides this for the net errors a retry can't mend.
  NAVIGATION_FAILED: true,
  TIMEOUT: true,
  BROWSER_CRASHED: true,
  WORKER_SHUTDOWN: true,
  THROTTLED: true,
  RATE_LIMITED: false,
  QUOTA_EXCEEDED: false,
  DESTINATION_BLOCKED: false,
  SCRIPT_ERROR: false,
  RESULT_TOO_LARGE: false,
  SELECTOR_NOT_FOUND: false,
  STALE_REF: false,
  HTTP_STATUS_FAILED: false,
  DEPENDENCY_UNAVAILABLE: true,
  SESSION_NOT_LIVE: false,
  SESSION_UNREACHABLE: true,
  NOT_ATTACHED: false,
  FORBIDDEN_ORIGIN: false,
  CONFIG_INVALID: false,
  INTERNAL: true,
} as const satisfies Record<ErrorCode, boolean>;

export interface ClassifiedError extends TaskError {
  retryable: boolean;
}

/**
 * The task-facing form of any error a run can throw, and the one reader of retryability.
 * Unknown errors are internal, retryable.
 */
export const classifyError = (error: unknown): ClassifiedError => {
  if (isBrowserfleetError(error)) {
    // The raiser's override, where it knew more than the code says; else the code's default.
    return { code: error.code, message: error.message, retryable: error.retryable ?? RETRYABLE[error.code] };
  }
  return { code: ERROR_CODES.INTERNAL, message: 'The browser work failed unexpectedly.', retryable: true };
};

export interface BackoffPolicy {
  /** Delay ceiling of the first retry, in ms. */
  baseMs: number;
  /** No delay ever exceeds this (SQS can delay a message by at most 900 s). */
  capMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 1_000, capMs: 60_000 };

/**
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And
 * Jitter"): a uniform draw in [0, min(cap, base·2^(retry−1))]. Spreading retries over the
 * whole window keeps a burst of failures from coming back as a burst.
 * `retry` counts from 1; `random` returns [0, 1).
 */
export const backoffDelayMs = (retry: number, policy: BackoffPolicy, random: () => number): number => {
  const exponent = Math.min(Math.max(retry, 1) - 1, 30);
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** exponent);
  return Math.floor(random() * (ceiling + 1));
};
