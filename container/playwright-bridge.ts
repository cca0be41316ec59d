/**
 * One Playwright client's bridge to its server (or to the worker that hosts its session):
 * the client's calls pass the Playwright guard (shared/egress/playwright-command-guard.ts)
 * when the server is ours, the server's messages are read for the objects they create,
 * and both directions are bounded like the CDP router's.
 */
import { type RawData, WebSocket } from 'ws';
import { checkPlaywrightCommand, PlaywrightObjects } from '../shared/egress/playwright-command-guard.js';
import type { CdpRouterLimits } from './cdp-router.js';
import { relay, tooBig } from './ws-relay.js';

/** Where a Playwright client goes: a server started for it here, or the owning worker. */
export interface PlaywrightTarget {
  url: string;
  /** A server of ours (its calls are judged here), not another worker's router. */
  local: boolean;
  sessionId: string;
  /** Gives back the client's count and closes its server (once). */
  release(): Promise<void>;
}

export interface BridgeOptions {
  limits: CdpRouterLimits;
  /** Every socket open, for the router's close. */
  sockets: Set<WebSocket>;
  log: (event: string, details: Record<string, unknown>) => void;
}

/** Codes a close may be sent with (1005, 1006 and 1015 only ever describe one). */
const sendable = (code: number) =>
  (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code < 5000);

/**
 * Pipes Playwright messages both ways: client calls the guard refuses are answered here;
 * the server's messages are read (here only) for the objects they create. Bounded like the
 * CDP router: a message past its limit closes the client with 1009; backpressure both ways.
 */
export const bridgePlaywright = (
  client: WebSocket,
  target: PlaywrightTarget,
  userAgent: string,
  { limits, sockets, log }: BridgeOptions,
): void => {
  sockets.add(client);
  // The client's User-Agent goes on: the server (or the owning worker) checks it too.
  const upstream = new WebSocket(target.url, {
    headers: { 'User-Agent': userAgent },
    maxPayload: limits.browserMessageBytes,
    perMessageDeflate: false,
  });
  sockets.add(upstream);
  const objects = new PlaywrightObjects();
  const toServer = relay(client, upstream, limits.highWatermarkBytes);
  const toClient = relay(upstream, client, limits.highWatermarkBytes);
  const pending: RawData[] = [];
  client.pause();
  let closing: { code: number; reason: string } = { code: 1000, reason: 'Playwright server gone' };
  client.on('message', (data, binary) => {
    if (binary) {
      client.close(1003, 'Playwright messages are text frames');
      return;
    }
    if (target.local) {
      const verdict = checkPlaywrightCommand(data.toString(), objects);
      if (!verdict.forward) {
        log('playwright call refused', { sessionId: target.sessionId, call: verdict.call });
        client.send(verdict.reply);
        return;
      }
    }
    if (upstream.readyState === WebSocket.OPEN) toServer(data, false);
    else pending.push(data);
  });
  upstream.on('open', () => {
    for (const m of pending.splice(0)) toServer(m, false);
    client.resume();
  });
  upstream.on('message', (data, binary) => {
    if (target.local) objects.observe(Buffer.isBuffer(data) ? data : Buffer.from(data.toString()));
    if (client.readyState === WebSocket.OPEN) toClient(data, binary);
  });
  upstream.on('close', (code, reason) => {
    // The server's own close (1001 "Browser closed" when the session ends) goes on as it is.
    if (sendable(code)) closing = { code, reason: reason.toString() || closing.reason };
  });
  const closeBoth = () => {
    sockets.delete(client);
    sockets.delete(upstream);
    if (client.readyState === WebSocket.OPEN) client.close(closing.code, closing.reason);
    if (upstream.readyState === WebSocket.OPEN || upstream.readyState === WebSocket.CONNECTING)
      upstream.terminate();
    void target.release();
  };
  client.on('close', closeBoth);
  upstream.on('close', closeBoth);
  client.on('error', (error) => {
    if (tooBig(error)) log('playwright message too large', { sessionId: target.sessionId, from: 'client' });
    closeBoth();
  });
  upstream.on('error', (error) => {
    if (tooBig(error)) {
      log('playwright message too large', { sessionId: target.sessionId, from: 'server' });
      closing = {
        code: 1009,
        reason: `A Playwright message from the server is past ${limits.browserMessageBytes} bytes`,
      };
    }
    closeBoth();
  });
};
