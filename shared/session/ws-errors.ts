/**
 * The WebSocket transport's one mapping from error codes to answers, for every sender: the
 * `ws-*` functions (a route's error message, the `$connect` handshake's status) and the
 * worker (a failed command's `error` message, sent through PostToConnection). It lives in
 * shared/session/ because both functions/ and container/ send, and neither may import the
 * other. `satisfies Record<ErrorCode, …>` makes a new code without an answer a type error.
 */
import { ERROR_CODES, type ErrorCode, isBrowserfleetError } from '../errors.js';

/** How the WebSocket transport answers one error code. */
export interface WsErrorRule {
  /** The `$connect` handshake's status when connecting fails with this code (not 200: refused). */
  connectStatus: number;
  /**
   * `shown`: the client gets the code and message, which say what to do about it. `hidden`:
   * the client gets INTERNAL and a generic message; the error goes to the log.
   */
  client: 'shown' | 'hidden';
}

const shown = (connectStatus: number): WsErrorRule => ({ connectStatus, client: 'shown' });
/** Faults on our side: nothing in them helps a client, and their messages may name internals. */
const hidden: WsErrorRule = { connectStatus: 500, client: 'hidden' };

export const WS_ERROR_RULES = {
  VALIDATION_FAILED: shown(400),
  MALFORMED_JSON: shown(400),
  UNSUPPORTED_MEDIA_TYPE: shown(415),
  UNAUTHORIZED: shown(401),
  NOT_FOUND: shown(404),
  ROUTE_NOT_FOUND: shown(404),
  METHOD_NOT_ALLOWED: shown(405),
  CONFLICT: shown(409),
  IDEMPOTENCY_KEY_REUSED: shown(409),
  TASK_ALREADY_ENDED: shown(409),
  PAYLOAD_TOO_LARGE: shown(413),
  RATE_LIMITED: shown(429),
  QUOTA_EXCEEDED: shown(429),
  THROTTLED: shown(503),
  DEPENDENCY_UNAVAILABLE: shown(503),
  SESSION_NOT_LIVE: shown(409),
  SESSION_UNREACHABLE: shown(503),
  NOT_ATTACHED: shown(409),
  FORBIDDEN_ORIGIN: shown(403),
  // A command's own outcome: the page, the script or the client's input is at fault, and
  // the session lives on. The client needs the code and message to act on them.
  DESTINATION_BLOCKED: shown(400),
  SCRIPT_ERROR: shown(400),
  RESULT_TOO_LARGE: shown(400),
  SELECTOR_NOT_FOUND: shown(400),
  STALE_REF: shown(400),
  HTTP_STATUS_FAILED: shown(400),
  NAVIGATION_FAILED: shown(400),
  TIMEOUT: shown(504),
  // The session's browser or worker went away: the client can open a new session.
  BROWSER_CRASHED: shown(503),
  WORKER_SHUTDOWN: shown(503),
  // Lease and state-machine faults, bad config, bugs.
  LEASE_LOST: hidden,
  LEASE_EXPIRED: hidden,
  INVALID_TRANSITION: hidden,
  CONFIG_INVALID: hidden,
  INTERNAL: hidden,
} as const satisfies Record<ErrorCode, WsErrorRule>;

/** What a WebSocket client is told about an error, and the handshake status for `$connect`. */
export interface WsErrorAnswer {
  error: { code: ErrorCode; message: string };
  connectStatus: number;
}

const INTERNAL_ANSWER: WsErrorAnswer = {
  error: { code: ERROR_CODES.INTERNAL, message: 'Internal error. The message can be sent again.' },
  connectStatus: 500,
};

/**
 * The answer to `error` by the table. Anything hidden — a code marked so, or an error
 * outside the family (a bug) — answers INTERNAL and is passed to `logHidden` with its stack,
 * the only place its details go.
 */
export const mapWsError = (error: unknown, logHidden: (error: unknown) => void): WsErrorAnswer => {
  if (isBrowserfleetError(error)) {
    const rule: WsErrorRule = WS_ERROR_RULES[error.code];
    if (rule.client === 'shown') {
      return { error: { code: error.code, message: error.message }, connectStatus: rule.connectStatus };
    }
  }
  logHidden(error);
  return INTERNAL_ANSWER;
};
