/**
 * Fakes for unit tests of the session host and the session APIs: in-memory rows written
 * only at the version they were read at (as the DynamoDB store does), a browser that
 * records what it was asked, a notifier that records what each client was sent, in-memory
 * connection rows, and an inbox that records what each worker was delivered.
 */
import { BrowserfleetError, ERROR_CODES } from '../../shared/errors.js';
import type {
  CommandOutcome,
  Connection,
  ConnectionNotifier,
  ConnectionStore,
  ScreencastFrame,
  ServerMessage,
  SessionBrowser,
  SessionBrowserEvents,
  SessionInbox,
  SessionLauncher,
  SessionSaveOutcome,
  SessionStore,
} from '../../shared/session/ports.js';
import {
  holdsSlot,
  type Session,
  type SessionStatus,
  type SessionSweepList,
  sessionSweepDueAt,
  sessionSweepListOf,
} from '../../shared/session/session.js';
import type { CommandMessage, InboxMessage } from '../../shared/session/session-input.js';
import { sessionQuotaError } from '../../shared/tenancy/quota-errors.js';

export class MemorySessionStore implements SessionStore {
  readonly rows = new Map<string, Session>();
  /** A write this answers `true` for fails as DynamoDB does when throttled past the SDK's retries. */
  failWhen: (next: Session) => boolean = () => false;
  /** Awaited before each write (a slow DynamoDB); `next` is the row being written. */
  beforeSave: (next: Session) => Promise<void> = async () => {};
  /** Awaited after each write has landed, before it answers (a slow reply); `next` is the row written. */
  afterSave: (next: Session) => Promise<void> = async () => {};

  constructor(...rows: Session[]) {
    for (const row of rows) this.rows.set(row.id, row);
  }

  row(id: string): Session {
    const row = this.rows.get(id);
    if (row === undefined) throw new Error(`no row ${id}`);
    return row;
  }

  /** Someone else's write (the sweeper, a client's close): the next version of the row. */
  overwrite(next: Session): void {
    this.rows.set(next.id, { ...next, version: this.row(next.id).version + 1 });
  }

  /** As DynamoDB's transaction: the row is written only while the tenant is under its quota. */
  async create(session: Session, quota: { maxLive: number }): Promise<void> {
    if (this.rows.has(session.id)) {
      throw new BrowserfleetError(ERROR_CODES.CONFLICT, `Session ${session.id} already exists.`);
    }
    if ((await this.liveCount(session.tenantId)) >= quota.maxLive) throw sessionQuotaError(quota.maxLive);
    this.rows.set(session.id, session);
  }
  /** Newest first: ids sort by time here as UUIDv7s do. */
  async list(tenantId: string, options: { limit: number; status?: SessionStatus }): Promise<Session[]> {
    return [...this.rows.values()]
      .filter((s) => s.tenantId === tenantId && (options.status === undefined || s.status === options.status))
      .sort((a, b) => (a.id < b.id ? 1 : -1))
      .slice(0, options.limit);
  }
  /** As the sweep index: the rows on `list` due before `before`, earliest first. */
  async listDue(list: SessionSweepList, before: number, limit: number): Promise<Session[]> {
    return [...this.rows.values()]
      .filter((s) => sessionSweepListOf(s) === list && (sessionSweepDueAt(s) ?? Infinity) < before)
      .sort((a, b) => (sessionSweepDueAt(a) ?? 0) - (sessionSweepDueAt(b) ?? 0))
      .slice(0, limit);
  }
  async liveCount(tenantId: string): Promise<number> {
    return [...this.rows.values()].filter((s) => s.tenantId === tenantId && holdsSlot(s.status)).length;
  }
  /** Keyed by tenant, as the table is: another tenant's id reads as missing. */
  async get(tenantId: string, sessionId: string): Promise<Session | undefined> {
    const row = this.rows.get(sessionId);
    return row?.tenantId === tenantId ? row : undefined;
  }
  async save(next: Session, current: Session): Promise<SessionSaveOutcome> {
    await this.beforeSave(next);
    if (this.failWhen(next)) {
      throw Object.assign(new Error('Rate of requests exceeds the allowed throughput.'), {
        name: 'ThrottlingException',
      });
    }
    const row = this.rows.get(current.id);
    if (row === undefined || current.version !== row.version) return { saved: false, current: row };
    this.rows.set(next.id, next);
    await this.afterSave(next);
    return { saved: true };
  }
}

/** A browser per launch, each remembering whether it was closed; launches can be held. */
export class FakeLauncher implements SessionLauncher {
  readonly launched: { sessionId: string; browser: SessionBrowser; events: SessionBrowserEvents }[] = [];
  readonly closed: string[] = [];
  /** Awaited by each launch before it answers (a slow Chromium). */
  gate: Promise<void> = Promise.resolve();
  /** Awaited by each browser's close before it is done (a slow Chromium shutdown). */
  beforeClose: (sessionId: string) => Promise<void> = async () => {};
  private readonly closeWaiters = new Map<string, () => void>();

  /** Resolves once the browser launched for `sessionId` has been closed. */
  whenClosed(sessionId: string): Promise<void> {
    if (this.closed.includes(sessionId)) return Promise.resolve();
    return new Promise((resolve) => this.closeWaiters.set(sessionId, resolve));
  }

  async launch(session: Session, events: SessionBrowserEvents): Promise<SessionBrowser> {
    await this.gate;
    const browser: SessionBrowser = {
      cdpEndpoint: `ws://127.0.0.1:9/devtools/browser/${session.id}`,
      downloadDir: '/nonexistent/downloads',
      execute: async () => null,
      screenshot: async () => ({ body: new Uint8Array(), contentType: 'image/png' }),
      downloads: async () => [],
      readDownload: async () => new Uint8Array(),
      startScreencast: async (_options, onFrame: (f: ScreencastFrame) => void) => {
        onFrame({ data: 'AAAA', width: 800, height: 600, timestamp: 0 });
      },
      stopScreencast: async () => {},
      close: async () => {
        await this.beforeClose(session.id);
        this.closed.push(session.id);
        this.closeWaiters.get(session.id)?.();
      },
    };
    this.launched.push({ sessionId: session.id, browser, events });
    return browser;
  }
}

export class RecordingNotifier implements ConnectionNotifier {
  readonly sent: { connectionId: string; message: ServerMessage }[] = [];
  async send(connectionId: string, message: ServerMessage): Promise<boolean> {
    this.sent.push({ connectionId, message });
    return true;
  }
  /** The message types `connectionId` was sent, in order. */
  typesTo(connectionId: string): string[] {
    return this.sent.filter((s) => s.connectionId === connectionId).map((s) => s.message.type);
  }
  /** The reason of the `closed` message `connectionId` got, if any. */
  closedReasonTo(connectionId: string): string | undefined {
    for (const { connectionId: c, message } of this.sent)
      if (c === connectionId && message.type === 'closed') return message.reason.code;
    return undefined;
  }
}

/** Connection rows in memory, as the DynamoDB store keeps them. */
export class MemoryConnectionStore implements ConnectionStore {
  readonly rows = new Map<string, Connection>();

  constructor(...rows: Connection[]) {
    for (const row of rows) this.rows.set(row.connectionId, row);
  }

  async put(connection: Connection): Promise<void> {
    this.rows.set(connection.connectionId, connection);
  }
  async get(connectionId: string): Promise<Connection | undefined> {
    return this.rows.get(connectionId);
  }
  async delete(connectionId: string): Promise<void> {
    this.rows.delete(connectionId);
  }
  async attach(connection: Connection, session: { tenantId: string; id: string } | undefined): Promise<void> {
    const row = this.rows.get(connection.connectionId);
    if (row === undefined) return;
    const { sessionId: _previous, ...rest } = row;
    this.rows.set(connection.connectionId, session === undefined ? rest : { ...rest, sessionId: session.id });
  }
  async attached(tenantId: string, sessionId: string): Promise<string[]> {
    return [...this.rows.values()]
      .filter((c) => c.tenantId === tenantId && c.sessionId === sessionId)
      .map((c) => c.connectionId);
  }
}

/**
 * A worker inbox that records each delivery and call; `failWith` makes every one throw it.
 * A call is answered by `answer` (by default, a `null` result).
 */
export class RecordingInbox implements SessionInbox {
  readonly delivered: { endpoint: string; sessionId: string; tenantId: string; message: InboxMessage }[] = [];
  readonly calls: { endpoint: string; sessionId: string; tenantId: string; command: CommandMessage }[] = [];
  failWith: Error | undefined;
  answer: (command: CommandMessage) => Promise<CommandOutcome> = async () => ({ ok: true, result: null });

  async call(
    endpoint: string,
    session: { tenantId: string; id: string },
    command: CommandMessage,
  ): Promise<CommandOutcome> {
    if (this.failWith !== undefined) throw this.failWith;
    this.calls.push({ endpoint, sessionId: session.id, tenantId: session.tenantId, command });
    return this.answer(command);
  }

  async deliver(
    endpoint: string,
    session: { tenantId: string; id: string },
    message: InboxMessage,
  ): Promise<void> {
    if (this.failWith !== undefined) throw this.failWith;
    this.delivered.push({ endpoint, sessionId: session.id, tenantId: session.tenantId, message });
  }
}
