/**
 * Fakes for unit tests of the session host: in-memory rows written only at the version
 * they were read at (as the DynamoDB store does), a browser that records what it was
 * asked, and a notifier that records what each client was sent.
 */
import type {
  ConnectionNotifier,
  ScreencastFrame,
  ServerMessage,
  SessionBrowser,
  SessionBrowserEvents,
  SessionLauncher,
  SessionSaveOutcome,
  SessionStore,
} from '../../shared/session/ports.js';
import type { Session } from '../../shared/session/session.js';

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

  async create(): Promise<void> {
    throw new Error('not used by the host');
  }
  async list(): Promise<Session[]> {
    throw new Error('not used by the host');
  }
  async listDue(): Promise<Session[]> {
    throw new Error('not used by the host');
  }
  async liveCount(): Promise<number> {
    throw new Error('not used by the host');
  }
  async get(_tenantId: string, sessionId: string): Promise<Session | undefined> {
    return this.rows.get(sessionId);
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
