/**
 * Ports of the session path. Adapters: DynamoDB stores, the API Gateway management API
 * (PostToConnection), the worker inbox over HTTP, and Puppeteer for the browser.
 */
import type { ErrorCode } from '../errors.js';
import type { PlaywrightMinor } from './playwright-versions.js';
import type { CloseReason, Session, SessionStatus, SessionSweepList } from './session.js';
import type {
  CommandMessage,
  CommandMethod,
  CommandParams,
  InboxMessage,
  ScreencastMessage,
} from './session-input.js';

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
  /**
   * Sessions on a sweep list (open ones by status; ended ones whose `session.ended` event
   * waits in the outbox under `webhook`) whose sweep is due before `before`.
   */
  listDue(status: SessionSweepList, before: number, limit: number): Promise<Session[]>;
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

/** What a command answered: its result, or an error of the family. */
export type CommandOutcome =
  | { ok: true; result: unknown }
  | { ok: false; error: { code: string; message: string } };

/** Delivers a client's message to the worker that hosts the session. */
export interface SessionInbox {
  deliver(endpoint: string, session: { tenantId: string; id: string }, message: InboxMessage): Promise<void>;
  /** Runs one command on the worker that hosts the session; answered once it has run. */
  call(
    endpoint: string,
    session: { tenantId: string; id: string },
    command: CommandMessage,
  ): Promise<CommandOutcome>;
}

/** A screencast frame as the browser produced it. */
export interface ScreencastFrame {
  /** Base64 JPEG. */
  data: string;
  width: number;
  height: number;
  timestamp: number;
}

/** How a screencast is asked for: its quality, frame rate and size caps. */
export type ScreencastOptions = Omit<ScreencastMessage, 'action' | 'enabled'>;

/**
 * Commands the browser answers itself; a screenshot's bytes and the downloads' files are
 * stored first (`screenshot`, `downloads`).
 */
export type BrowserCommandMethod = Exclude<CommandMethod, 'screenshot' | 'downloads'>;

/** A finished file in a session's downloads dir. */
export interface DownloadedFile {
  /** Its file name, as Chromium chose it (no directory part). */
  name: string;
  size: number;
  /** When it was last written, in ms since the epoch. */
  modifiedAtMs: number;
}

/** What a session's browser can do; the Puppeteer adapter implements it. */
export interface SessionBrowser {
  /** The browser's own DevTools WebSocket URL (loopback), for the CDP router. */
  readonly cdpEndpoint: string;
  /** Where this session's downloads go (its own, removed with it), for the CDP router. */
  readonly downloadDir: string;
  /** Runs one command with its parsed params; what fails is an error of the family. */
  execute<M extends BrowserCommandMethod>(
    method: M,
    params: CommandParams<M>,
    timeoutMs: number,
  ): Promise<unknown>;
  /** A screenshot's bytes (commands that produce files store them and answer a URL). */
  screenshot(
    params: CommandParams<'screenshot'>,
    timeoutMs: number,
  ): Promise<{ body: Uint8Array; contentType: string }>;
  /**
   * The finished files in `downloadDir`, oldest first: not those still being written
   * (`.crdownload`), nor anything that is not a regular file.
   */
  downloads(): Promise<DownloadedFile[]>;
  /** One of `downloads()`' files, whole; past `maxBytes`, or gone, it is an error of the family. */
  readDownload(name: string, maxBytes: number): Promise<Uint8Array>;
  /**
   * Frames from now on, the first one of the page as it is now (Chromium itself sends
   * frames only when something repaints, so a viewer joining a still page would wait).
   */
  startScreencast(options: ScreencastOptions, onFrame: (f: ScreencastFrame) => void): Promise<void>;
  stopScreencast(): Promise<void>;
  close(): Promise<void>;
}

/** What a session's browser tells its host on its own. */
export interface SessionBrowserEvents {
  onNavigation(url: string): void;
  onConsole(level: string, text: string): void;
  onPageError(message: string): void;
  /** The browser went away on its own: closed over CDP, or crashed. */
  onGone(reason: 'closed' | 'crashed'): void;
}

/** Starts a session's own browser. */
export interface SessionLauncher {
  launch(session: Session, events: SessionBrowserEvents): Promise<SessionBrowser>;
}

/**
 * A Playwright server for one `playwrightUrl` client: of the client's minor version, in the
 * worker process, driving the session's browser over CDP through `cdpEndpoint` (the
 * worker's own CDP router, so the CDP guard judges everything it sends).
 */
export interface PlaywrightServer {
  /** Loopback WebSocket URL the client's connection is bridged to. */
  readonly wsEndpoint: string;
  /** Stops serving and lets go of the browser (which stays: it is the session's). */
  close(): Promise<void>;
}

/** Starts Playwright servers; the playwright-core adapter implements it. */
export interface PlaywrightServers {
  start(
    minor: PlaywrightMinor,
    browser: { cdpEndpoint: string; downloadsPath: string; timeoutMs: number },
  ): Promise<PlaywrightServer>;
}
