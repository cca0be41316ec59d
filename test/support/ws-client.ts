/**
 * A WebSocket API client as a user's program would write it (the `ws` package): it keeps
 * every message it receives, so a test awaits the one it expects instead of sleeping.
 */
import { WebSocket } from 'ws';

export interface WsMessage {
  type: string;
  [key: string]: any;
}

export interface WsClient {
  socket: WebSocket;
  messages: WsMessage[];
  send(message: Record<string, unknown>): void;
  /** The first message (past or future) matching `predicate`. */
  next(predicate: (m: WsMessage) => boolean, timeoutMs?: number): Promise<WsMessage>;
  /** Sends a command and resolves with its `result` (or rejects with its `error`). */
  command(method: string, params?: Record<string, unknown>, timeoutMs?: number): Promise<any>;
  /** Like `command`, but answers the `error` message. */
  commandError(method: string, params?: Record<string, unknown>): Promise<WsMessage>;
  closed: Promise<{ code: number; reason: string }>;
  close(): void;
}

let ids = 0;

export const connectWs = (
  url: string,
  options: { apiKey?: string; headers?: Record<string, string> } = {},
): Promise<WsClient> =>
  new Promise((resolve, reject) => {
    const socket = new WebSocket(url, {
      headers: {
        ...(options.apiKey === undefined ? {} : { authorization: `Bearer ${options.apiKey}` }),
        ...options.headers,
      },
    });
    const messages: WsMessage[] = [];
    const waiters: { predicate: (m: WsMessage) => boolean; resolve: (m: WsMessage) => void }[] = [];
    socket.on('message', (data) => {
      const m = JSON.parse(String(data)) as WsMessage;
      messages.push(m);
      for (const w of [...waiters]) {
        if (w.predicate(m)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    });
    const closed = new Promise<{ code: number; reason: string }>((r) =>
      socket.once('close', (code, reason) => r({ code, reason: String(reason) })),
    );
    const next = (predicate: (m: WsMessage) => boolean, timeoutMs = 20_000): Promise<WsMessage> => {
      const seen = messages.find(predicate);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((res, rej) => {
        const timer = setTimeout(
          () =>
            rej(
              new Error(
                `no matching message in ${timeoutMs} ms; got ${JSON.stringify(messages.map((m) => m.type))}`,
              ),
            ),
          timeoutMs,
        );
        waiters.push({
          predicate,
          resolve: (m) => {
            clearTimeout(timer);
            res(m);
          },
        });
      });
    };
    const send = (message: Record<string, unknown>) => socket.send(JSON.stringify(message));
    const answer = (method: string, params: Record<string, unknown>, timeoutMs = 20_000) => {
      const id = `c${++ids}`;
      send({ action: 'command', id, method, params });
      return next((m) => (m.type === 'result' || m.type === 'error') && m.id === id, timeoutMs);
    };
    socket.once('open', () =>
      resolve({
        socket,
        messages,
        send,
        next,
        command: async (method, params = {}, timeoutMs) => {
          const m = await answer(method, params, timeoutMs);
          if (m.type === 'error') throw new Error(`${method} failed: ${m.error.code}: ${m.error.message}`);
          return m.result;
        },
        commandError: async (method, params = {}) => answer(method, params),
        closed,
        close: () => socket.close(),
      }),
    );
    socket.once('unexpected-response', (_req, res) =>
      reject(Object.assign(new Error(`handshake refused: ${res.statusCode}`), { status: res.statusCode })),
    );
    socket.once('error', reject);
  });

/**
 * The session is live: `attached` says so when it went live before the attach, a `status`
 * event when it goes live after. Wait on this, not on one of the two.
 */
export const isLive = (m: WsMessage): boolean =>
  (m.type === 'attached' || m.type === 'status') && m.status === 'live';
