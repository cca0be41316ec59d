/**
 * One session this worker hosts, from its claim to its end: bring its browser up and mark
 * it live, keep its lease, end it on the idle or absolute timeout, and tear it down — row
 * first (with the reason), then every attached client is told, then the browser closes.
 */
import type { Cancel, SchedulingClock } from '../clock.js';
import type { ArtifactStore } from '../core/artifact-store.js';
import type { Metrics } from '../metrics/metrics.js';
import { AttachedClients, relayBrowserEvents } from './attached-clients.js';
import { SessionCommandRunner } from './command-runner.js';
import type {
  CommandOutcome,
  ConnectionNotifier,
  ConnectionStore,
  SessionBrowser,
  SessionLauncher,
  SessionStore,
} from './ports.js';
import { ScreencastRelay } from './screencast-relay.js';
import { type CloseReason, type CloseReasonCode, closeReason, type Session } from './session.js';
import { applySessionEvent } from './session-events.js';
import type { CommandMessage, ScreencastMessage } from './session-input.js';
import { renewSessionLease } from './session-lease.js';

export interface HostedSessionDeps {
  sessions: SessionStore;
  launcher: SessionLauncher;
  notifier: ConnectionNotifier;
  /** Clients that attached while the session was starting are picked up from here. */
  connections: Pick<ConnectionStore, 'attached'>;
  artifacts: ArtifactStore;
  artifactUrlTtlSeconds: number;
  /** The session's time and its timers (idle, absolute timeout, heartbeat, screencast pacing). */
  clock: SchedulingClock;
  metrics: Metrics;
  /** Where this worker's inbox and CDP router are reached (`http://10.0.1.5:8090`). */
  endpoint: () => string;
  leaseMs: number;
  heartbeatMs: number;
  log: (event: string, details: Record<string, unknown>) => void;
}

/** How often idle timeouts are checked, at most. */
const IDLE_CHECK_MS = 1_000;

export class HostedSession {
  private row: Session;
  private browser: SessionBrowser | undefined;
  private readonly clients: AttachedClients;
  private readonly screencast: ScreencastRelay;
  private readonly commands: SessionCommandRunner;
  private cdpClients = 0;
  private lastActivity: number;
  /** One cancel per timer the session scheduled, each called when it ends. */
  private readonly timers: Cancel[] = [];
  private ending: Promise<void> | undefined;
  /** Set once the end has told its clients: what a client attaching later is told instead. */
  private told: { status: 'closed' | 'failed'; reason: CloseReason } | undefined;

  constructor(
    private readonly deps: HostedSessionDeps,
    claimed: Session,
    /** Called once, when the session has ended and its browser is closed. */
    private readonly onEnded: () => void,
  ) {
    this.row = claimed;
    this.lastActivity = deps.clock.now();
    this.clients = new AttachedClients(deps.notifier, deps.log, (c) => this.screencast.forget(c));
    this.screencast = new ScreencastRelay({
      sessionId: claimed.id,
      browser: () => this.browser,
      ending: () => this.ending !== undefined,
      clock: deps.clock,
      send: (c, message) => this.clients.send(c, message),
      metrics: deps.metrics,
      log: deps.log,
    });
    this.commands = new SessionCommandRunner(
      deps,
      () => ({ sessionId: this.row.id, status: this.row.status, browser: this.browser }),
      () => this.touch(),
    );
  }

  get session(): Session {
    return this.row;
  }

  /** Where the CDP router bridges a client, once the browser is up. */
  get cdpTarget(): { cdpEndpoint: string; downloadDir: string } | undefined {
    return this.browser === undefined
      ? undefined
      : { cdpEndpoint: this.browser.cdpEndpoint, downloadDir: this.browser.downloadDir };
  }

  /**
   * Brings the session up in the background. Not awaited (its queue message is done with),
   * so nothing it throws may escape: a rejection here would be unhandled and take down every
   * tenant's work on this worker.
   */
  start(): void {
    void this.bringUp().catch((error: unknown) => {
      this.deps.log('session start failed', { sessionId: this.row.id, error: String(error) });
      return this.end('START_FAILED', 'The session could not be brought up; try again.');
    });
  }

  attach(connectionId: string): void {
    if (this.told !== undefined) {
      // Too late for the end's own `closed` (its browser is still closing, so we're still
      // routed to): told now, or it would wait on a session that is gone.
      void this.tellEnded(connectionId, this.told.status, this.told.reason);
      return;
    }
    this.clients.add(connectionId);
    this.touch();
    void this.clients.send(connectionId, {
      type: 'attached',
      sessionId: this.row.id,
      status: this.row.status,
    });
  }

  detach(connectionId: string): void {
    this.clients.delete(connectionId);
    this.touch();
    this.screencast.leave(connectionId);
  }

  requestScreencast(connectionId: string, message: ScreencastMessage): void {
    this.clients.add(connectionId);
    this.screencast.request(connectionId, message);
  }

  command(connectionId: string, command: CommandMessage): void {
    this.clients.add(connectionId);
    this.commands.enqueue(command, (answer) => this.clients.send(connectionId, answer));
  }

  /** A command called over the inbox: answered to the caller, not to a connection. */
  call(command: CommandMessage): Promise<CommandOutcome> {
    return this.commands.call(command);
  }

  /** A CDP client connected (`+1`) or left (`-1`): it counts as attached for the idle timeout. */
  cdpClient(delta: 1 | -1): void {
    this.cdpClients += delta;
    this.touch();
  }

  private touch(): void {
    this.lastActivity = this.deps.clock.now();
  }

  private async bringUp(): Promise<void> {
    const { deps } = this;
    const id = this.row.id;
    let browser: SessionBrowser;
    try {
      browser = await deps.launcher.launch(
        this.row,
        relayBrowserEvents(id, this.clients, (why) => {
          if (why === 'crashed') deps.metrics.count('BrowserCrashes', 1, { where: 'session' });
          void this.end(why === 'crashed' ? 'BROWSER_CRASHED' : 'BROWSER_CLOSED');
        }),
      );
    } catch (error) {
      deps.log('session start failed', { sessionId: id, error: String(error) });
      const why = error instanceof Error ? error.message : String(error);
      await this.end('START_FAILED', `The browser for the session could not be started: ${why}`);
      return;
    }
    if (this.abandonedStart()) {
      // Ended while its browser launched: the end had no browser to close, so this one is
      // closed here — no Chromium outlives its session.
      await browser
        .close()
        .catch((error: unknown) =>
          deps.log('session browser close failed', { sessionId: id, error: String(error) }),
        );
      return;
    }
    this.browser = browser;
    // A failed write (throttled, a network blip) ends the session with a reason its client
    // can act on; its browser is closed with it.
    let live: Awaited<ReturnType<typeof applySessionEvent>>;
    try {
      live = await applySessionEvent(
        deps.sessions,
        this.row,
        { kind: 'live', leaseToken: this.row.leaseToken, endpoint: deps.endpoint(), leaseMs: deps.leaseMs },
        deps.clock.now,
      );
    } catch (error) {
      deps.log('session live write failed', { sessionId: id, error: String(error) });
      await this.end('START_FAILED', 'The session could not be recorded as live; try again.');
      return;
    }
    if (!live.ok) {
      // Closed by its client while starting (or taken from us): nothing to run.
      await this.teardown(live.session?.endReason ?? closeReason('CLOSED_BY_CLIENT'));
      return;
    }
    // Ended while the live write was in flight (its end wrote over our live row): the end
    // has told its clients and cancelled its timers, so nothing is announced or scheduled.
    if (this.abandonedStart()) return;
    // Live from here: whoever read the live row may call a command at once, and it must find
    // the session live (not still starting) while the attached clients are read.
    this.row = live.session;
    // Unreadable: those clients attach again or learn the state at their next message.
    const attached = await deps.connections.attached(live.session.tenantId, id).catch(() => []);
    if (this.abandonedStart()) return;
    this.touch();
    for (const c of attached) this.clients.add(c);
    deps.metrics.count('SessionsLive', 1);
    deps.log('session live', { sessionId: id, tenantId: this.row.tenantId });
    this.clients.broadcast({ type: 'status', sessionId: id, status: 'live' });
    this.startTimers();
  }

  /** `true` (and logged) when the session ended before bringUp could finish. */
  private abandonedStart(): boolean {
    if (this.ending === undefined) return false;
    this.deps.log('session start abandoned', { sessionId: this.row.id });
    return true;
  }

  private startTimers(): void {
    const { clock, heartbeatMs } = this.deps;
    const { timeoutMs, idleTimeoutMs } = this.row.options;
    this.timers.push(
      clock.after(timeoutMs, () => void this.end('SESSION_TIMEOUT')),
      clock.every(heartbeatMs, () => void this.renewLease()),
      clock.every(Math.min(IDLE_CHECK_MS, Math.max(100, Math.floor(idleTimeoutMs / 4))), () => {
        const idle = this.clients.size === 0 && this.cdpClients === 0;
        if (idle && clock.now() - this.lastActivity >= idleTimeoutMs) void this.end('IDLE_TIMEOUT');
      }),
    );
  }

  private async renewLease(): Promise<void> {
    if (this.ending !== undefined) return;
    const renewal = await renewSessionLease(this.deps, this.row);
    if (renewal.kind === 'renewed') this.row = renewal.session;
    else if (renewal.kind === 'lost') await this.teardown(renewal.reason);
  }

  /** Ends the session: row first (with the reason), then clients, then browser. Once. */
  end(code: CloseReasonCode, message?: string): Promise<void> {
    this.ending ??= (async () => {
      const reason = closeReason(code, message);
      const out = await applySessionEvent(
        this.deps.sessions,
        this.row,
        { kind: 'end', leaseToken: this.row.leaseToken, reason },
        this.deps.clock.now,
      ).catch((error: unknown) => {
        // The row keeps its lease; when it runs out the sweeper ends it (WORKER_LOST). The
        // clients and the browser are not kept waiting for that.
        this.deps.log('session end write failed', { sessionId: this.row.id, error: String(error) });
        return undefined;
      });
      const final = out?.ok === true ? out.session : out?.session;
      await this.finish(final?.endReason ?? reason, final ?? this.row);
    })();
    return this.ending;
  }

  /** Someone else ended the row (the client's close, a lost lease): just stop here. */
  private teardown(reason: CloseReason): Promise<void> {
    this.ending ??= this.finish(reason, this.row);
    return this.ending;
  }

  private async tellEnded(
    connectionId: string,
    status: 'closed' | 'failed',
    reason: CloseReason,
  ): Promise<void> {
    const sessionId = this.row.id;
    await this.clients.send(connectionId, { type: 'status', sessionId, status, reason });
    await this.clients.send(connectionId, { type: 'closed', sessionId, reason });
  }

  private async finish(reason: CloseReason, final: Session): Promise<void> {
    const { deps } = this;
    const { id, tenantId } = this.row;
    for (const cancel of this.timers.splice(0)) cancel();
    this.screencast.stop();
    // Ended before it went live (closed while starting, or its browser never came up):
    // clients that attached meanwhile are known to the connection store only.
    if (this.row.liveAt === undefined) {
      // Unreadable: those clients learn it ended at their next message (SESSION_NOT_LIVE).
      for (const c of await deps.connections.attached(tenantId, id).catch(() => [])) this.clients.add(c);
    }
    const status = final.status === 'failed' ? 'failed' : 'closed';
    // From here on a client that attaches is told by attach(): the list below is all we tell.
    this.told = { status, reason };
    await Promise.all(this.clients.list().map((c) => this.tellEnded(c, status, reason)));
    // closeChromium kills the process group whatever close() did: nothing is left to handle.
    await this.browser?.close().catch(() => {});
    this.onEnded();
    const { liveAt } = this.row;
    const minutes = liveAt === undefined ? 0 : (deps.clock.now() - Date.parse(liveAt)) / 60_000;
    deps.metrics.count('SessionsEnded', 1, { reason: reason.code });
    deps.metrics.count('SessionMinutes', Math.round(minutes * 1000) / 1000);
    deps.log('session ended', { sessionId: id, reason: reason.code });
  }
}
