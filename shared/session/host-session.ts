/**
 * The worker's side of live sessions: claim a session's lease, start its browser, mark it
 * live, keep the lease, run the commands that arrive through the inbox, stream events and
 * screencast frames to attached clients, and end it — on the client's close, the idle or
 * absolute timeout, a crash or the worker's shutdown — with a reason every attached client
 * is told before anything closes.
 */
import type { Clock } from '../clock.js';
import type { Metrics } from '../metrics/metrics.js';
import type { ArtifactStore } from '../core/artifact-store.js';
import { SessionCommandRunner } from './command-runner.js';
import { applySessionEvent, tellEnded } from './manage-sessions.js';
import type {
  ConnectionNotifier,
  ConnectionStore,
  ScreencastFrame,
  ScreencastOptions,
  ServerMessage,
  SessionBrowser,
  SessionLauncher,
  SessionStore,
} from './ports.js';
import { type CloseReason, type CloseReasonCode, closeReason, type Session } from './session.js';
import type { InboxMessage } from './session-input.js';

export interface SessionHostDeps {
  sessions: SessionStore;
  launcher: SessionLauncher;
  notifier: ConnectionNotifier;
  /** Clients that attached while the session was starting are picked up from here. */
  connections: Pick<ConnectionStore, 'attached'>;
  artifacts: ArtifactStore;
  artifactUrlTtlSeconds: number;
  clock: Clock;
  metrics: Metrics;
  workerId: string;
  /** Where this worker's inbox and CDP router are reached (`http://10.0.1.5:8090`). */
  endpoint: () => string;
  leaseMs: number;
  heartbeatMs: number;
  slots: number;
  log: (event: string, details: Record<string, unknown>) => void;
  /** Told the number of sessions hosted (starting or live) whenever it changes. */
  onLoad?: (sessions: number) => void;
}

/** How often idle timeouts are checked, at most. */
const IDLE_CHECK_MS = 1_000;
/** A frame (plus its JSON envelope) must fit one API Gateway message. */
const MAX_FRAME_BASE64 = 120 * 1024;

interface Hosted {
  session: Session;
  browser: SessionBrowser | undefined;
  attached: Set<string>;
  /** Connections that asked for the screencast. */
  watching: Set<string>;
  cdpClients: number;
  lastActivity: number;
  frameSeq: number;
  lastFrameAt: number;
  /** A frame held back by the frame-rate cap, sent when the interval is up (the last state always shows). */
  heldFrame: ScreencastFrame | undefined;
  heldTimer: NodeJS.Timeout | undefined;
  commands: SessionCommandRunner;
  /**
   * Screencast starts and stops, one at a time: a viewer that reloads sends its old
   * connection's detach and its new one's `screencast` at once, and interleaved they could
   * stop the stream the other just started.
   */
  screencastChanges: Promise<void>;
  screencast: ScreencastOptions | undefined;
  timers: NodeJS.Timeout[];
  ending: Promise<void> | undefined;
}

export type StartOutcome = 'started' | 'no-slot' | 'not-claimable';

export class SessionHost {
  private readonly hosted = new Map<string, Hosted>();
  /** Claimed, not yet live or ended: they hold a slot too. */
  private starting = 0;

  constructor(private readonly deps: SessionHostDeps) {}

  /** Sessions hosted here now (live or starting). */
  count(): number {
    return this.hosted.size + this.starting;
  }

  isHosted(sessionId: string): boolean {
    return this.hosted.has(sessionId);
  }

  /**
   * Claims and starts a pending session. `ack` is called once the claim is written (the
   * queue message has done its job). A full worker answers `no-slot` without claiming.
   */
  async start(
    message: { sessionId: string; tenantId: string },
    ack: () => Promise<void>,
  ): Promise<StartOutcome> {
    const { deps } = this;
    const found = await deps.sessions.get(message.tenantId, message.sessionId);
    if (await this.tellIfClosedWhilePending(found)) return 'not-claimable';
    if (this.count() >= deps.slots) return 'no-slot';
    if (found?.status !== 'pending') return 'not-claimable';
    this.starting++;
    try {
      const claimed = await applySessionEvent(
        deps.sessions,
        found,
        { kind: 'claim', owner: deps.workerId, leaseMs: deps.leaseMs },
        deps.clock.now,
      );
      if (!claimed.ok) {
        // Closed between our read and our claim: it's ours to tell, as above.
        await this.tellIfClosedWhilePending(claimed.session);
        return 'not-claimable';
      }
      await ack();
      const h: Hosted = {
        session: claimed.session,
        commands: new SessionCommandRunner(
          deps,
          () => ({ sessionId: h.session.id, status: h.session.status, browser: h.browser }),
          () => {
            h.lastActivity = deps.clock.now();
          },
        ),
        browser: undefined,
        attached: new Set(),
        watching: new Set(),
        cdpClients: 0,
        lastActivity: deps.clock.now(),
        frameSeq: 0,
        lastFrameAt: 0,
        heldFrame: undefined,
        heldTimer: undefined,
        screencastChanges: Promise.resolve(),
        screencast: undefined,
        timers: [],
        ending: undefined,
      };
      this.hosted.set(h.session.id, h);
      this.starting--;
      deps.onLoad?.(this.count());
      // Not awaited (the message is done with), so nothing it throws may escape: a rejection
      // here would be unhandled and take down every tenant's work on this worker.
      void this.bringUp(h).catch((error: unknown) => {
        deps.log('session start failed', { sessionId: h.session.id, error: String(error) });
        return this.end(h, 'START_FAILED', 'The session could not be brought up; try again.');
      });
      return 'started';
    } catch (error) {
      this.starting--;
      throw error;
    }
  }

  /**
   * A session its client closed while it waited for a worker: nobody has told its attached
   * clients (the close ran in the VPC, where API Gateway's management API can't be reached;
   * a worker can). Other endings before live were told by whoever ended it (the sweeper's
   * NO_CAPACITY). `true` when `s` was such a session.
   */
  private async tellIfClosedWhilePending(s: Session | undefined): Promise<boolean> {
    if (s?.liveAt !== undefined || s?.endReason?.code !== 'CLOSED_BY_CLIENT') return false;
    await tellEnded(this.deps, s).catch((error: unknown) =>
      this.deps.log('post to connection failed', { sessionId: s.id, error: String(error) }),
    );
    return true;
  }

  private async bringUp(h: Hosted): Promise<void> {
    const { deps } = this;
    const id = h.session.id;
    try {
      h.browser = await deps.launcher.launch(h.session, {
        onNavigation: (url) => this.broadcast(h, { type: 'navigation', sessionId: id, url }),
        onConsole: (level, text) =>
          this.broadcast(h, { type: 'console', sessionId: id, level, text: text.slice(0, 8_192) }),
        onPageError: (message) =>
          this.broadcast(h, { type: 'pageerror', sessionId: id, message: message.slice(0, 8_192) }),
        onGone: (why) => {
          if (why === 'crashed') deps.metrics.count('BrowserCrashes', 1, { where: 'session' });
          void this.end(h, why === 'crashed' ? 'BROWSER_CRASHED' : 'BROWSER_CLOSED');
        },
      });
    } catch (error) {
      deps.log('session start failed', { sessionId: id, error: String(error) });
      await this.end(
        h,
        'START_FAILED',
        `The browser for the session could not be started: ${(error as Error).message}`,
      );
      return;
    }
    if (h.ending !== undefined) return;
    // A failed write (throttled, a network blip) ends the session with a reason its client
    // can act on; its browser is closed with it.
    let live: Awaited<ReturnType<typeof applySessionEvent>>;
    try {
      live = await applySessionEvent(
        deps.sessions,
        h.session,
        { kind: 'live', leaseToken: h.session.leaseToken, endpoint: deps.endpoint(), leaseMs: deps.leaseMs },
        deps.clock.now,
      );
    } catch (error) {
      deps.log('session live write failed', { sessionId: id, error: String(error) });
      await this.end(h, 'START_FAILED', 'The session could not be recorded as live; try again.');
      return;
    }
    if (!live.ok) {
      // Closed by its client while starting (or taken from us): nothing to run.
      await this.teardown(h, live.session?.endReason ?? closeReason('CLOSED_BY_CLIENT'));
      return;
    }
    h.session = live.session;
    h.lastActivity = deps.clock.now();
    for (const c of await deps.connections.attached(h.session.tenantId, id).catch(() => []))
      h.attached.add(c);
    deps.metrics.count('SessionsLive', 1);
    deps.log('session live', { sessionId: id, tenantId: h.session.tenantId });
    this.broadcast(h, { type: 'status', sessionId: id, status: 'live' });
    const { timeoutMs, idleTimeoutMs } = h.session.options;
    h.timers.push(
      setTimeout(() => void this.end(h, 'SESSION_TIMEOUT'), timeoutMs),
      setInterval(() => void this.heartbeat(h), deps.heartbeatMs),
      setInterval(
        () => {
          const idle = h.attached.size === 0 && h.cdpClients === 0;
          if (idle && deps.clock.now() - h.lastActivity >= idleTimeoutMs) void this.end(h, 'IDLE_TIMEOUT');
        },
        Math.min(IDLE_CHECK_MS, Math.max(100, Math.floor(idleTimeoutMs / 4))),
      ),
    );
  }

  private async heartbeat(h: Hosted): Promise<void> {
    if (h.ending !== undefined) return;
    const out = await applySessionEvent(
      this.deps.sessions,
      h.session,
      { kind: 'heartbeat', leaseToken: h.session.leaseToken, leaseMs: this.deps.leaseMs },
      this.deps.clock.now,
    ).catch((error: unknown) => {
      this.deps.log('session heartbeat failed', { sessionId: h.session.id, error: String(error) });
      return undefined;
    });
    if (out === undefined) {
      // A failed write: the next beat tries again, while the lease we hold lasts. Past it the
      // sweeper may end the row and another worker could claim nothing of ours: stop here.
      const expiresAt = h.session.lease?.expiresAt ?? 0;
      if (expiresAt <= this.deps.clock.now()) await this.teardown(h, closeReason('WORKER_LOST'));
      return;
    }
    if (out.ok) {
      h.session = out.session;
      return;
    }
    // The row moved on without us: closed by its client, or the lease was lost.
    await this.teardown(h, out.session?.endReason ?? closeReason('WORKER_LOST'));
  }

  /** A message from the inbox. `false` when the session isn't hosted here. */
  deliver(sessionId: string, tenantId: string, message: InboxMessage): boolean {
    const h = this.hosted.get(sessionId);
    if (h === undefined || h.session.tenantId !== tenantId) return false;
    switch (message.kind) {
      case 'attach':
        h.attached.add(message.connectionId);
        h.lastActivity = this.deps.clock.now();
        void this.send(h, message.connectionId, { type: 'attached', sessionId, status: h.session.status });
        return true;
      case 'detach':
        h.attached.delete(message.connectionId);
        h.watching.delete(message.connectionId);
        h.lastActivity = this.deps.clock.now();
        this.syncScreencast(h);
        return true;
      case 'close':
        void this.end(h, 'CLOSED_BY_CLIENT');
        return true;
      case 'screencast':
        h.attached.add(message.connectionId);
        if (message.screencast.enabled) {
          h.watching.add(message.connectionId);
          const { action: _a, enabled: _e, ...options } = message.screencast;
          h.screencast = options;
        } else {
          h.watching.delete(message.connectionId);
        }
        this.syncScreencast(h, true);
        return true;
      case 'command':
        h.attached.add(message.connectionId);
        h.commands.enqueue(message.command, (answer) => this.send(h, message.connectionId, answer));
        return true;
    }
  }

  /**
   * A CDP client connected (`+1`) or left (`-1`): it counts as attached for the idle timeout.
   * Answers where the router bridges it, once the browser is up.
   */
  cdpClient(sessionId: string, delta: 1 | -1): { cdpEndpoint: string; downloadDir: string } | undefined {
    const h = this.hosted.get(sessionId);
    if (h === undefined) return undefined;
    h.cdpClients += delta;
    h.lastActivity = this.deps.clock.now();
    return h.browser === undefined
      ? undefined
      : { cdpEndpoint: h.browser.cdpEndpoint, downloadDir: h.browser.downloadDir };
  }

  private syncScreencast(h: Hosted, restart = false): void {
    h.screencastChanges = h.screencastChanges.then(() => this.applyScreencast(h, restart));
  }

  private async applyScreencast(h: Hosted, restart: boolean): Promise<void> {
    const browser = h.browser;
    if (browser === undefined) return;
    if (h.watching.size === 0 || h.screencast === undefined) {
      await browser.stopScreencast().catch(() => {});
      return;
    }
    if (restart) await browser.stopScreencast().catch(() => {});
    const options = h.screencast;
    const interval = 1000 / options.maxFps;
    const emit = (frame: ScreencastFrame) => {
      h.lastFrameAt = Date.now();
      h.frameSeq++;
      this.deps.metrics.count('ScreencastFrames', 1);
      const message: ServerMessage = {
        type: 'frame',
        sessionId: h.session.id,
        seq: h.frameSeq,
        data: frame.data,
        metadata: { width: frame.width, height: frame.height, timestamp: frame.timestamp },
      };
      for (const c of h.watching) void this.send(h, c, message);
    };
    await browser
      .startScreencast(options, (frame) => {
        // Frames over one API Gateway message are dropped (quality and size caps keep them rare).
        if (frame.data.length > MAX_FRAME_BASE64) return;
        const wait = h.lastFrameAt + interval - Date.now();
        if (wait <= 0) return emit(frame);
        // The frame-rate cap: hold the newest frame and send it when the interval is up, so
        // the picture never stays on a stale frame when the page stops changing.
        h.heldFrame = frame;
        h.heldTimer ??= setTimeout(() => {
          h.heldTimer = undefined;
          const held = h.heldFrame;
          h.heldFrame = undefined;
          if (held !== undefined && h.ending === undefined && h.watching.size > 0) emit(held);
        }, wait);
      })
      .catch((error: unknown) =>
        this.deps.log('screencast failed', { sessionId: h.session.id, error: String(error) }),
      );
  }

  private broadcast(h: Hosted, message: ServerMessage): void {
    for (const c of h.attached) void this.send(h, c, message);
  }

  private async send(h: Hosted, connectionId: string, message: ServerMessage): Promise<void> {
    const alive = await this.deps.notifier.send(connectionId, message).catch((error: unknown) => {
      this.deps.log('post to connection failed', { connectionId, error: String(error) });
      return true;
    });
    if (!alive) {
      // The client went away without a $disconnect reaching us yet.
      h.attached.delete(connectionId);
      h.watching.delete(connectionId);
    }
  }

  /** Ends a session this worker owns: row first (with the reason), then clients, then browser. */
  private end(h: Hosted, code: CloseReasonCode, message?: string): Promise<void> {
    h.ending ??= (async () => {
      const reason = closeReason(code, message);
      const out = await applySessionEvent(
        this.deps.sessions,
        h.session,
        { kind: 'end', leaseToken: h.session.leaseToken, reason },
        this.deps.clock.now,
      ).catch(() => undefined);
      const final = out?.ok === true ? out.session : out?.session;
      await this.finish(h, final?.endReason ?? reason, final ?? h.session);
    })();
    return h.ending;
  }

  /** Someone else ended the row (the client's close, a lost lease): just stop here. */
  private teardown(h: Hosted, reason: CloseReason): Promise<void> {
    h.ending ??= this.finish(h, reason, h.session);
    return h.ending;
  }

  private async finish(h: Hosted, reason: CloseReason, row: Session): Promise<void> {
    for (const t of h.timers) clearTimeout(t);
    clearTimeout(h.heldTimer);
    // Ended before it went live (closed while starting, or its browser never came up):
    // clients that attached meanwhile are known to the connection store only.
    if (h.session.liveAt === undefined) {
      for (const c of await this.deps.connections.attached(h.session.tenantId, h.session.id).catch(() => []))
        h.attached.add(c);
    }
    const status = row.status === 'failed' ? 'failed' : 'closed';
    await Promise.all(
      [...h.attached].map(async (c) => {
        await this.send(h, c, { type: 'status', sessionId: h.session.id, status, reason });
        await this.send(h, c, { type: 'closed', sessionId: h.session.id, reason });
      }),
    );
    await h.browser?.close().catch(() => {});
    this.hosted.delete(h.session.id);
    this.deps.onLoad?.(this.count());
    const minutes =
      h.session.liveAt === undefined ? 0 : (this.deps.clock.now() - Date.parse(h.session.liveAt)) / 60_000;
    this.deps.metrics.count('SessionsEnded', 1, { reason: reason.code });
    this.deps.metrics.count('SessionMinutes', Math.round(minutes * 1000) / 1000);
    this.deps.log('session ended', { sessionId: h.session.id, reason: reason.code });
  }

  /** The worker is stopping: every session ends `closed` with `WORKER_SHUTDOWN`. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.hosted.values()].map((h) => this.end(h, 'WORKER_SHUTDOWN')));
  }
}
