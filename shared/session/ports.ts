/**
 * Ports of the session path. Adapters: DynamoDB stores, the API Gateway management API
 * (PostToConnection), the worker inbox over HTTP, and Puppeteer for the browser.
 */
import type { ErrorCode } from '../errors.js';
import type { CloseReason, Session, SessionStatus } from './session.js';
import type { InboxMessage } from './session-input.js';

export type SessionSaveOutcome =
  | { saved: true }
  | { saved: false; current: Session | undefined }
  | { saved: false; quotaExceeded: true };

export interface SessionStore {
  /** Writes a new `pending` session; `QUOTA_EXCEEDED` past `maxLive` live sessions. */
  create(session: Session, quota: { maxLive: number }): Promise<void>;
  get(tenantId: string, sessionId: string): Promise<Session | undefined>;
  /** The tenant's sessions, newest first. */
  list(tenantId: string, options: { limit: number; status?: SessionStatus }): Promise<Session[]>;
  /** Replaces `current` with `next` only if the row is still at `current.version`. */
  save(next: Session, current: Session): Promise<SessionSaveOutcome>;
  /** Live sessions in `status` whose sweep is due before `before`. */
  listDue(status: 'pending' | 'starting' | 'live', before: number, limit: number): Promise<Session[]>;
  liveCount(tenantId: string): Promise<number>;
}

export interface Connection {
  connectionId: string;
  tenantId: string;
  /** Set when the connection authenticated with a session ticket: it may attach only there. */
  ticketSessionId?: string;
  sessionId?: string;
  connectedAt: string;
}

export interface ConnectionStore {
  put(connection: Connection): Promise<void>;
  get(connectionId: string): Promise<Connection | undefined>;
  delete(connectionId: string): Promise<void>;
  /** Records (or, with `undefined`, clears) which session the connection is attached to. */
  attach(connection: Connection, session: { tenantId: string; id: string } | undefined): Promise<void>;
  /** Connections attached to a session (to tell them it ended). */
  attached(tenantId: string, sessionId: string): Promise<string[]>;
}

/** Messages the platform sends to WebSocket clients. */
export type ServerMessage =
  | { type: 'attached'; sessionId: string; status: SessionStatus }
  | { type: 'detached'; sessionId: string }
  | { type: 'result'; id: string; result: unknown; ms: number }
  | { type: 'error'; id?: string; error: { code: ErrorCode | string; message: string } }
  | { type: 'status'; sessionId: string; status: SessionStatus; reason?: CloseReason }
  | { type: 'navigation'; sessionId: string; url: string }
  | { type: 'console'; sessionId: string; level: string; text: string }
  | { type: 'pageerror'; sessionId: string; message: string }
  | {
      type: 'frame';
      sessionId: string;
      seq: number;
      /** Base64 JPEG. */
      data: string;
      metadata: { width: number; height: number; timestamp: number };
    }
  | { type: 'closed'; sessionId: string; reason: CloseReason }
  | { type: 'pong'; at: number }
  /** A fresh live-view ticket for the connection's session, to reconnect with. */
  | { type: 'ticket'; sessionId: string; ticket: string; expiresAt: string };

export interface ConnectionNotifier {
  /** Sends one message; `false` when the connection is gone (API Gateway's 410). */
  send(connectionId: string, message: ServerMessage): Promise<boolean>;
}

/** Delivers a client's message to the worker that hosts the session. */
export interface SessionInbox {
  deliver(endpoint: string, session: { tenantId: string; id: string }, message: InboxMessage): Promise<void>;
}
