/**
 * The clients attached to one hosted session, and the one way to tell them something: a
 * client API Gateway says is gone (its 410) is dropped here, before its `$disconnect` may
 * reach us, so nothing keeps sending to it.
 */
import type { ConnectionNotifier, ServerMessage, SessionBrowserEvents } from './ports.js';

/** Console lines and page errors are cut to this many characters (one API Gateway message). */
const MAX_EVENT_TEXT = 8_192;

export class AttachedClients {
  private readonly ids = new Set<string>();

  constructor(
    private readonly notifier: ConnectionNotifier,
    private readonly log: (event: string, details: Record<string, unknown>) => void,
    /** Told of each client found gone, to forget it elsewhere too (the screencast's viewers). */
    private readonly onGone: (connectionId: string) => void,
  ) {}

  get size(): number {
    return this.ids.size;
  }

  /** The attached clients now (a copy: sending may drop some). */
  list(): string[] {
    return [...this.ids];
  }

  add(connectionId: string): void {
    this.ids.add(connectionId);
  }

  delete(connectionId: string): void {
    this.ids.delete(connectionId);
  }

  /** Sends one message; a failed send is logged (and the client kept), a gone one dropped. */
  async send(connectionId: string, message: ServerMessage): Promise<void> {
    const alive = await this.notifier.send(connectionId, message).catch((error: unknown) => {
      this.log('post to connection failed', { connectionId, error: String(error) });
      return true;
    });
    if (!alive) {
      // The client went away without a $disconnect reaching us yet.
      this.ids.delete(connectionId);
      this.onGone(connectionId);
    }
  }

  /** `message` to every attached client, not waited for. */
  broadcast(message: ServerMessage): void {
    for (const c of this.ids) void this.send(c, message);
  }
}

/** A session browser's events, told to every attached client; its going away to `onGone`. */
export const relayBrowserEvents = (
  sessionId: string,
  clients: AttachedClients,
  onGone: SessionBrowserEvents['onGone'],
): SessionBrowserEvents => ({
  onNavigation: (url) => clients.broadcast({ type: 'navigation', sessionId, url }),
  onConsole: (level, text) =>
    clients.broadcast({ type: 'console', sessionId, level, text: text.slice(0, MAX_EVENT_TEXT) }),
  onPageError: (message) =>
    clients.broadcast({ type: 'pageerror', sessionId, message: message.slice(0, MAX_EVENT_TEXT) }),
  onGone,
});
