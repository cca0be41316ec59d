/**
 * The worker inbox protocol, the one call between the platform's functions and a fleet
 * worker: `POST /inbox/sessions/<id>` with a JSON body `{ tenantId, message }`, signed
 * (HMAC of path, time and body, in two headers) with the deployment's ticket secret. The
 * client (adapters/http-session-inbox.ts) and the server (container/inbox-server.ts) both
 * take every part of it from here.
 */
import type { InboxMessage } from './session-input.js';
import { sign, signedWithOneOf } from './ticket.js';

/** The path of a session's inbox on the worker that hosts it. */
export const inboxPath = (sessionId: string): string => `/inbox/sessions/${encodeURIComponent(sessionId)}`;

const INBOX_PATH = /^\/inbox\/sessions\/([\w-]{1,64})$/;

/** The session id an inbox path names, or undefined when it isn't an inbox path. */
export const sessionIdOfInboxPath = (pathname: string): string | undefined => INBOX_PATH.exec(pathname)?.[1];

/** Inbox bodies are one client message: API Gateway caps those at 128 KB. */
export const MAX_INBOX_BODY_BYTES = 256 * 1024;

export interface InboxBody {
  tenantId: string;
  message: InboxMessage;
}

export const encodeInboxBody = (body: InboxBody): string => JSON.stringify(body);

/**
 * A signed body, still checked for shape (the server answers 400 to anything else rather
 * than throw in an async listener). The message's own fields are the session host's to
 * judge, by its kind.
 */
export const decodeInboxBody = (text: string): InboxBody | undefined => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object') return undefined;
  const { tenantId, message } = parsed as { tenantId?: unknown; message?: unknown };
  if (typeof tenantId !== 'string' || message === null || typeof message !== 'object') return undefined;
  return { tenantId, message: message as InboxMessage };
};

/** Header carrying the HMAC of an inbox call (path, time and body). */
export const INBOX_SIGNATURE_HEADER = 'x-browserfleet-signature';
/** Header carrying the Unix second the inbox call was signed at. */
export const INBOX_TIMESTAMP_HEADER = 'x-browserfleet-timestamp';
/**
 * How far an inbox call's time may be from the worker's clock. A captured call can't be
 * replayed after this, nor its signature moved to another session's path.
 */
export const INBOX_MAX_SKEW_SECONDS = 60;

export interface InboxCall {
  /** The request path, `/inbox/sessions/<id>`, as sent. */
  path: string;
  body: string;
}

const inboxSigningText = (call: InboxCall, timestamp: string): string =>
  `inbox:v2\n${timestamp}\n${call.path}\n${call.body}`;

/** The headers that sign an inbox call, so only the platform's own functions reach a worker. */
export const signInboxCall = (
  secret: string,
  call: InboxCall,
  nowSeconds: number,
): Record<string, string> => {
  const timestamp = String(Math.floor(nowSeconds));
  return {
    [INBOX_TIMESTAMP_HEADER]: timestamp,
    [INBOX_SIGNATURE_HEADER]: sign(secret, inboxSigningText(call, timestamp)),
  };
};

/** Whether an inbox call carries a valid signature of its path and body, signed recently. */
export const verifyInboxCall = (
  secrets: string | readonly string[],
  call: InboxCall,
  headers: { timestamp: string; signature: string },
  nowSeconds: number,
): boolean => {
  if (!/^\d{1,12}$/.test(headers.timestamp)) return false;
  if (Math.abs(Number(headers.timestamp) - nowSeconds) > INBOX_MAX_SKEW_SECONDS) return false;
  return signedWithOneOf(secrets, inboxSigningText(call, headers.timestamp), headers.signature);
};
