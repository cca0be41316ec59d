/**
 * Live sessions' start: POST /v1/sessions → the session is live, as a user's program sees
 * it over the WebSocket API (attached at once; `attached` or a later `status` says live,
 * pushed, so no polling interval is added). One session at a time, each closed with
 * DELETE before the next, each on a WebSocket connection of its own.
 */
import type { apiClient } from '../test/support/fixtures.js';
import { connectWs, isLive } from '../test/support/ws-client.js';
import type { Cleanup } from './cleanup.js';

/** A session starts its own Chromium: generous for a loaded machine. */
const LIVE_TIMEOUT_MS = 45_000;

export const measureSessionStarts = async (options: {
  api: ReturnType<typeof apiClient>;
  wsUrl: string;
  apiKey: string;
  sessions: number;
  cleanup: Cleanup;
}): Promise<number[]> => {
  const { api, cleanup } = options;
  const startMs: number[] = [];
  for (let i = 0; i < options.sessions; i++) {
    // The socket is open before the clock starts: a client's connection outlives a session.
    const ws = cleanup.add(
      'WebSocket client',
      await connectWs(options.wsUrl, { apiKey: options.apiKey }),
      (c) => c.close(),
    );
    const t0 = performance.now();
    const created = await api.call('POST', '/v1/sessions', {
      body: JSON.stringify({ viewport: { width: 1280, height: 720 } }),
      headers: { 'content-type': 'application/json' },
    });
    if (created.status !== 201) {
      throw new Error(`session refused: HTTP ${created.status} ${JSON.stringify(created.body)}`);
    }
    const id = created.body.id as string;
    ws.send({ action: 'attach', sessionId: id });
    await ws.next((m) => m.sessionId === id && isLive(m), LIVE_TIMEOUT_MS);
    startMs.push(performance.now() - t0);
    const closed = await api.call('DELETE', `/v1/sessions/${id}`);
    if (closed.status !== 200) {
      throw new Error(`session ${id} close: HTTP ${closed.status} ${JSON.stringify(closed.body)}`);
    }
    await cleanup.release(ws);
  }
  return startMs;
};
