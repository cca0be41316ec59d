/**
 * The worker inbox protocol, the calls between the platform's functions and a fleet worker,
 * each signed (HMAC of path, time and body, in two headers) with the deployment's ticket
 * secret:
 *
 * - `POST /inbox/sessions/<id>` with `{ tenantId, message }`: a client's message, accepted
 *   at once (202); the worker answers the client itself, through PostToConnection.
 * - `POST /inbox/sessions/<id>/calls` with `{ tenantId, command }`: one command, run in turn
 *   with the session's other commands and answered in the response (`200` with a
 *   `CommandOutcome`, its headers sent at once and its body once the command has run).
 *
 * Either answers 404 when the session isn't hosted there (or isn't the tenant's), 401 to a
 * bad signature, 400 to a body of the wrong shape. The client (adapters/http-session-inbox.ts)
 * and the server (container/inbox-server.ts) both take every part of it from here.
 */
import type { CommandOutcome } from './ports.js';
import { type CommandMessage, commandMessageSchema, type InboxMessage } from './session-input.js';
import { sign, signedWithOneOf } from './ticket.js';

/** The path of a session's inbox on the worker that hosts it. */
export const inboxPath = (sessionId: string): string => `/inbox/sessions/${encodeURIComponent(sessionId)}`;

/** The path a session's command calls go to on the worker that hosts it. */
export const inboxCallPath = (sessionId: string): string => `${inboxPath(sessionId)}/calls`;

const INBOX_PATH = /^\/inbox\/sessions\/([\w-]{1,64})$/;
const INBOX_CALL_PATH = /^\/inbox\/sessions\/([\w-]{1,64})\/calls$/;

/** The session id an inbox path names, or undefined when it isn't an inbox path. */
export const sessionIdOfInboxPath = (pathname: string): string | undefined => INBOX_PATH.exec(pathname)?.[1];

/** The session id a call path names, or undefined when it isn't a call path. */
export const sessionIdOfInboxCallPath = (pathname: string): string | undefined =>
  INBOX_CALL_PATH.exec(pathname)?.[1];

/** Inbox bodies are one client message: API Gateway caps those at 128 KB. */
export const MAX_INBOX_BODY_BYTES = 256 * 1024;

/** The JSON object a body holds, or undefined for anything else (not JSON, or not an object). */
const jsonObjectOf = (text: string): Record<string, unknown> | undefined => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  return parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : undefined;
};

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
  const parsed = jsonObjectOf(text);
  if (parsed === undefined) return undefined;
  const { tenantId, message } = parsed;
  if (typeof tenantId !== 'string' || message === null || typeof message !== 'object') return undefined;
  return { tenantId, message: message as InboxMessage };
};

export interface InboxCallBody {
  tenantId: string;
  command: CommandMessage;
}

export const encodeInboxCallBody = (body: InboxCallBody): string => JSON.stringify(body);

/**
 * A call's body, or undefined for anything but `{ tenantId, command }` with a command the
 * edge would have accepted (its id, method, timeout and params, by the one schema).
 */
export const decodeInboxCallBody = (text: string): InboxCallBody | undefined => {
  const parsed = jsonObjectOf(text);
  if (parsed === undefined) return undefined;
  const { tenantId, command } = parsed;
  if (typeof tenantId !== 'string' || Object.keys(parsed).length !== 2) return undefined;
  const checked = commandMessageSchema.safeParse(command);
  return checked.success ? { tenantId, command: checked.data } : undefined;
};

/**
 * How much longer than its command's own timeout a call is waited for: the commands queued
 * before it in the session, and the trip. Past it the caller stops waiting (`TIMEOUT`).
 */
export const INBOX_CALL_MARGIN_MS = 10_000;

export const encodeCommandOutcome = (outcome: CommandOutcome): string => JSON.stringify(outcome);

/** A call's answer, or undefined when the text is no `CommandOutcome`. */
export const decodeCommandOutcome = (text: string): CommandOutcome | undefined => {
  const parsed = jsonObjectOf(text);
  if (parsed === undefined) return undefined;
  const answer = parsed as { ok?: unknown; result?: unknown; error?: { code?: unknown; message?: unknown } };
  if (answer.ok === true) return { ok: true, result: answer.result ?? null };
  if (
    answer.ok === false &&
    typeof answer.error?.code === 'string' &&
    typeof answer.error.message === 'string'
  ) {
    return { ok: false, error: { code: answer.error.code, message: answer.error.message } };
  }
  return undefined;
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
  /** The request path, `/inbox/sessions/<id>` or `/inbox/sessions/<id>/calls`, as sent. */
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
