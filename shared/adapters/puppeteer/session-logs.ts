/**
 * What a live session's pages said and fetched, for the `console` and `network` commands:
 * every tab's console messages and page errors, and its requests as each settles (its
 * answer's headers came, or it failed), in the session's two bounded rings. Requests the
 * session's egress guard refused are marked so.
 */
import type { HTTPRequest, Page } from 'puppeteer-core';
import {
  type ConsoleEntry,
  type NetworkEntry,
  SESSION_LOG_LIMITS,
  SeqRing,
  truncate,
} from '../../session/session-log.js';

/** What Chromium says when the proxy refused an https (CONNECT) tunnel. */
const TUNNEL_REFUSED = 'net::ERR_TUNNEL_CONNECTION_FAILED';
/** The status the egress proxy answers a refused http request with. */
const PROXY_REFUSAL_STATUS = 403;

const withoutFragment = (url: string) => url.split('#')[0] ?? url;

/** `host:port` as a CONNECT request names an https URL's destination. */
const tunnelTarget = (url: string): string | undefined => {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || (u.protocol === 'https:' || u.protocol === 'wss:' ? '443' : '80')}`;
  } catch {
    return undefined;
  }
};

export class SessionLogs {
  readonly console = new SeqRing<ConsoleEntry>();
  readonly network = new SeqRing<NetworkEntry>();
  /** When each request started (its entry is made when it settles). */
  private readonly started = new WeakMap<HTTPRequest, number>();
  /** A request's entry, once it has one: a failure after its answer began fills it in. */
  private readonly entries = new WeakMap<HTTPRequest, NetworkEntry>();

  constructor(
    /** The session's egress proxy: what it refused, the newest last. */
    private readonly proxy: { blocked(): { url: string }[] },
    private readonly now: () => number = Date.now,
  ) {}

  /** Records `page`'s messages and requests from now on (once per page). */
  watch(page: Page): void {
    page.on('console', (message) => {
      const where = message.location().url || page.url();
      this.message(message.type(), message.text(), where);
    });
    // A page error's stack, where the page gave one, says where it was thrown (its first line is the message).
    page.on('pageerror', (error) =>
      this.message(
        'error',
        error instanceof Error ? error.stack || error.message : String(error),
        page.url(),
      ),
    );
    page.on('request', (request) => this.started.set(request, this.now()));
    page.on('response', (response) => {
      const request = response.request();
      const status = response.status();
      const refused =
        status === PROXY_REFUSAL_STATUS &&
        this.proxy.blocked().some((b) => b.url === withoutFragment(request.url()));
      this.settle(request, { status, ...(refused ? { blockedByEgress: true } : {}) });
    });
    page.on('requestfailed', (request) => {
      const failure = truncate(request.failure()?.errorText ?? 'failed', 200);
      const entry = this.entries.get(request);
      if (entry !== undefined) {
        // Its answer began, then broke off: the one entry says both.
        entry.failure = failure;
        return;
      }
      const target = failure === TUNNEL_REFUSED ? tunnelTarget(request.url()) : undefined;
      const refused = target !== undefined && this.proxy.blocked().some((b) => b.url === target);
      this.settle(request, { failure, ...(refused ? { blockedByEgress: true } : {}) });
    });
  }

  private message(level: string, text: string, url: string): void {
    this.console.push((seq) => ({
      seq,
      level,
      text: truncate(text, SESSION_LOG_LIMITS.textChars),
      at: new Date(this.now()).toISOString(),
      ...(url === '' ? {} : { url: truncate(url, SESSION_LOG_LIMITS.urlChars) }),
    }));
  }

  private settle(
    request: HTTPRequest,
    outcome: Pick<NetworkEntry, 'status' | 'failure' | 'blockedByEgress'>,
  ): void {
    const entry = this.network.push((seq) => ({
      seq,
      method: request.method(),
      url: truncate(request.url(), SESSION_LOG_LIMITS.urlChars),
      resourceType: request.resourceType(),
      ...outcome,
      at: new Date(this.started.get(request) ?? this.now()).toISOString(),
    }));
    this.entries.set(request, entry);
  }
}
