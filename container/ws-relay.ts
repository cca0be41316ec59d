/**
 * What the worker's WebSocket routers (CDP, Playwright) share: a bounded relay between two
 * sockets, and how an upgrade is refused before any WebSocket exists.
 */
import type { Duplex } from 'node:stream';
import type { RawData, WebSocket } from 'ws';

/** ws's error for a message past `maxPayload` (it closes that socket with 1009 itself). */
export const tooBig = (error: Error): boolean =>
  (error as Error & { code?: string }).code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH';

/**
 * A sender to `to` that stops reading `from` while more than `watermark` bytes are queued
 * towards `to`, and reads it again once the queue is under half of that.
 */
export const relay = (from: WebSocket, to: WebSocket, watermark: number) => {
  let paused = false;
  return (data: RawData, binary: boolean) => {
    to.send(data, { binary }, () => {
      if (paused && to.bufferedAmount < watermark / 2) {
        paused = false;
        from.resume();
      }
    });
    if (!paused && to.bufferedAmount > watermark) {
      paused = true;
      from.pause();
    }
  };
};

/** Answers an upgrade with an HTTP status (and a JSON body, when there is something to say). */
export const refuseUpgrade = (socket: Duplex, status: number, text: string, body?: unknown): void => {
  const payload = body === undefined ? '' : JSON.stringify(body);
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\n` +
      (body === undefined ? '' : 'Content-Type: application/json\r\n') +
      `Content-Length: ${Buffer.byteLength(payload)}\r\n\r\n${payload}`,
  );
};
