/**
 * The worker's side of live sessions, as the inbox, the CDP router and the queue consumer
 * see it: claim a pending session if a slot is free, route what arrives for a session to it,
 * and end them all when the worker stops. Each session's own life — its browser, lease,
 * timers, commands, screencast and end — is its HostedSession (hosted-session.ts).
 */
import { HostedSession, type HostedSessionDeps } from './hosted-session.js';
import type { CommandOutcome } from './ports.js';
import type { Session } from './session.js';
import { applySessionEvent, tellEnded } from './session-events.js';
import type { CommandMessage, InboxMessage } from './session-input.js';

export interface SessionHostDeps extends HostedSessionDeps {
  workerId: string;
  slots: number;
  /** Told the number of sessions hosted (starting or live) whenever it changes. */
  onLoad?: (sessions: number) => void;
}

export type StartOutcome = 'started' | 'no-slot' | 'not-claimable';

export class SessionHost {
  private readonly hosted = new Map<string, HostedSession>();
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
    // Checked and taken with no await between: two starts can't both take the last slot.
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
      const id = claimed.session.id;
      const session = new HostedSession(deps, claimed.session, () => {
        this.hosted.delete(id);
        deps.onLoad?.(this.count());
      });
      this.hosted.set(id, session);
      this.starting--;
      deps.onLoad?.(this.count());
      session.start();
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

  /** A message from the inbox. `false` when the session isn't hosted here. */
  deliver(sessionId: string, tenantId: string, message: InboxMessage): boolean {
    const session = this.hosted.get(sessionId);
    if (session === undefined || session.session.tenantId !== tenantId) return false;
    switch (message.kind) {
      case 'attach':
        session.attach(message.connectionId);
        return true;
      case 'detach':
        session.detach(message.connectionId);
        return true;
      case 'close':
        void session.end('CLOSED_BY_CLIENT');
        return true;
      case 'screencast':
        session.requestScreencast(message.connectionId, message.screencast);
        return true;
      case 'command':
        session.command(message.connectionId, message.command);
        return true;
    }
  }

  /**
   * A command call from the inbox: its outcome once it has run (in turn with the session's
   * other commands), or `undefined` at once when the session isn't hosted here.
   */
  call(sessionId: string, tenantId: string, command: CommandMessage): Promise<CommandOutcome> | undefined {
    const session = this.hosted.get(sessionId);
    if (session === undefined || session.session.tenantId !== tenantId) return undefined;
    return session.call(command);
  }

  /**
   * A CDP client connected (`+1`) or left (`-1`): it counts as attached for the idle timeout.
   * Answers where the router bridges it, once the browser is up.
   */
  cdpClient(sessionId: string, delta: 1 | -1): { cdpEndpoint: string; downloadDir: string } | undefined {
    const session = this.hosted.get(sessionId);
    if (session === undefined) return undefined;
    session.cdpClient(delta);
    return session.cdpTarget;
  }

  /** The worker is stopping: every session ends `closed` with `WORKER_SHUTDOWN`. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.hosted.values()].map((s) => s.end('WORKER_SHUTDOWN')));
  }
}
