/**
 * The WebSocket API's use cases: connect (authenticate), attach/detach a session, forward
 * a command or screencast setting to the worker's inbox, disconnect. Ownership is checked
 * here, once: a connection only ever reaches sessions of its own tenant (another tenant's
 * session answers `NOT_FOUND`, like a missing one), and a connection opened with a session
 * ticket only that session. What a use case returns is the route's answer to the client (an
 * API Gateway route response); what a worker says later arrives through PostToConnection.
 */
import { authenticate } from '../auth/api-key.js';
import type { ApiKeyVerifier } from '../auth/ports.js';
import type { Clock } from '../clock.js';
import { BrowserfleetError, ERROR_CODES } from '../errors.js';
import { notFound } from '../ids.js';
import type { RateBucketStore } from '../tenancy/ports.js';
import { consumeRequest, rateLimitedError } from '../tenancy/rate-limit.js';
import { parseOrThrow } from '../validation.js';
import type { Connection, ConnectionStore, ServerMessage, SessionInbox, SessionStore } from './ports.js';
import { isSessionFinal, type Session } from './session.js';
import { notLive, requireSession } from './session-events.js';
import {
  attachMessageSchema,
  commandMessageSchema,
  detachMessageSchema,
  type InboxMessage,
  screencastMessageSchema,
} from './session-input.js';
import { issueSessionTicket } from './ticket.js';
import { type TicketKeys, verifyTicketWithKeys } from './ticket-keys.js';

export interface WsDeps {
  verifier: ApiKeyVerifier;
  /** A connect counts against the tenant's request rate, like an HTTP request. */
  buckets: RateBucketStore;
  sessions: SessionStore;
  connections: ConnectionStore;
  inbox: SessionInbox;
  clock: Clock;
  ticketKeys: TicketKeys;
}

/** `$connect`: an API key (`Authorization: Bearer`) or a live-view ticket (`?ticket=`). */
export const connectClient = async (
  deps: WsDeps,
  input: { connectionId: string; authorization: string | undefined; ticket: string | undefined },
): Promise<Connection> => {
  let connection: Connection;
  const connectedAt = new Date(deps.clock.now()).toISOString();
  if (input.ticket !== undefined && input.authorization === undefined) {
    const check = await verifyTicketWithKeys(deps.ticketKeys, input.ticket, {
      scope: 'live',
      nowSeconds: Math.floor(deps.clock.now() / 1000),
    });
    if (!check.ok) {
      throw new BrowserfleetError(ERROR_CODES.UNAUTHORIZED, `Invalid session ticket (${check.reason}).`);
    }
    connection = {
      connectionId: input.connectionId,
      tenantId: check.claims.tid,
      ticketSessionId: check.claims.sid,
      connectedAt,
    };
  } else {
    const tenant = await authenticate(deps.verifier, input.authorization);
    const decision = await consumeRequest(deps, tenant);
    if (!decision.admitted) {
      throw rateLimitedError(tenant, decision);
    }
    connection = { connectionId: input.connectionId, tenantId: tenant.tenantId, connectedAt };
  }
  await deps.connections.put(connection);
  return connection;
};

const requireConnection = async (
  deps: Pick<WsDeps, 'connections'>,
  connectionId: string,
): Promise<Connection> => {
  const c = await deps.connections.get(connectionId);
  if (c === undefined)
    throw new BrowserfleetError(ERROR_CODES.UNAUTHORIZED, 'Unknown connection; reconnect.');
  return c;
};

const ownSession = async (
  deps: Pick<WsDeps, 'sessions'>,
  c: Connection,
  sessionId: string,
): Promise<Session> => {
  if (c.ticketSessionId !== undefined && c.ticketSessionId !== sessionId) {
    throw notFound('Session', sessionId);
  }
  return requireSession(deps.sessions, c.tenantId, sessionId);
};

/**
 * `attach`: the connection follows the session. While the session is still starting the
 * attachment is recorded and the worker picks it up when the session goes live; after a
 * reconnect, attaching again is all a client does.
 */
export const attachClient = async (
  deps: WsDeps,
  input: { connectionId: string; body: unknown },
): Promise<ServerMessage | undefined> => {
  const { sessionId } = parseOrThrow(attachMessageSchema, input.body);
  const c = await requireConnection(deps, input.connectionId);
  const s = await ownSession(deps, c, sessionId);
  if (isSessionFinal(s.status)) throw notLive(s);
  if (c.sessionId !== undefined && c.sessionId !== s.id) await detachFrom(deps, c);
  await deps.connections.attach(c, s);
  // Timeline: a worker marks the session live, then reads the attached connections. Read
  // as not live before our row was written, it may have gone live (and been read) since:
  // read it again after the write, so one of the two always sees the other.
  const now = s.status === 'live' ? s : ((await deps.sessions.get(c.tenantId, s.id)) ?? s);
  if (now.status === 'live' && now.endpoint !== undefined) {
    // The worker answers `attached` itself, so it comes after nothing it could overtake.
    await deps.inbox.deliver(now.endpoint, now, { kind: 'attach', connectionId: c.connectionId });
    return undefined;
  }
  return { type: 'attached', sessionId: now.id, status: now.status };
};

export const detachClient = async (
  deps: WsDeps,
  input: { connectionId: string; body: unknown },
): Promise<ServerMessage> => {
  parseOrThrow(detachMessageSchema, input.body);
  const c = await requireConnection(deps, input.connectionId);
  if (c.sessionId === undefined)
    throw new BrowserfleetError(ERROR_CODES.NOT_ATTACHED, 'Not attached to a session.');
  const sessionId = c.sessionId;
  await detachFrom(deps, c);
  await deps.connections.attach(c, undefined);
  return { type: 'detached', sessionId };
};

const detachFrom = async (deps: WsDeps, c: Connection): Promise<void> => {
  if (c.sessionId === undefined) return;
  const s = await deps.sessions.get(c.tenantId, c.sessionId);
  if (s?.status === 'live' && s.endpoint !== undefined) {
    // A worker that can't be told still stops sending to a gone connection: API Gateway
    // answers its posts 410, and it drops the client then.
    await deps.inbox.deliver(s.endpoint, s, { kind: 'detach', connectionId: c.connectionId }).catch(() => {});
  }
};

/** `command` and `screencast`: to the worker's inbox; the worker answers the connection. */
export const forwardToSession = async (
  deps: WsDeps,
  input: { connectionId: string; body: unknown },
): Promise<void> => {
  const action = (input.body as { action?: unknown }).action;
  const message: InboxMessage =
    action === 'screencast'
      ? {
          kind: 'screencast',
          connectionId: input.connectionId,
          screencast: parseOrThrow(screencastMessageSchema, input.body),
        }
      : {
          kind: 'command',
          connectionId: input.connectionId,
          command: parseOrThrow(commandMessageSchema, input.body),
        };
  const c = await requireConnection(deps, input.connectionId);
  if (c.sessionId === undefined) {
    throw new BrowserfleetError(
      ERROR_CODES.NOT_ATTACHED,
      'Attach to a session first: {"action":"attach","sessionId":"…"}.',
    );
  }
  const s = await ownSession(deps, c, c.sessionId);
  if (s.status !== 'live' || s.endpoint === undefined) throw notLive(s);
  await deps.inbox.deliver(s.endpoint, s, message);
};

/**
 * `ticket`: a fresh live-view ticket for the session this connection follows (the one its
 * own ticket names, or the one it attached to), so a client can reconnect after API
 * Gateway's 2-hour limit or a dropped network, long after the ticket it came with expired.
 */
export const renewTicket = async (
  deps: WsDeps,
  input: { connectionId: string },
): Promise<Extract<ServerMessage, { type: 'ticket' }>> => {
  const c = await requireConnection(deps, input.connectionId);
  const sessionId = c.ticketSessionId ?? c.sessionId;
  if (sessionId === undefined) {
    throw new BrowserfleetError(
      ERROR_CODES.NOT_ATTACHED,
      'Attach to a session first: a ticket is for one session.',
    );
  }
  const s = await ownSession(deps, c, sessionId);
  if (isSessionFinal(s.status)) throw notLive(s);
  const { ticket, exp } = issueSessionTicket(await deps.ticketKeys.signingKey(), s, 'live', deps.clock.now());
  return { type: 'ticket', sessionId: s.id, ticket, expiresAt: new Date(exp * 1000).toISOString() };
};

/** `$disconnect`: the worker stops sending there; the connection's rows go. */
export const disconnectClient = async (deps: WsDeps, input: { connectionId: string }): Promise<void> => {
  const c = await deps.connections.get(input.connectionId);
  if (c === undefined) return;
  await detachFrom(deps, c);
  await deps.connections.delete(input.connectionId);
};
