/**
 * A live session no worker takes in time ends `failed` with `NO_CAPACITY` (set by the
 * sweeper), told to the client attached to it, and frees its quota slot. No worker runs here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAST_ENGINE_ENV } from '../support/engine-env.js';
import { apiClient } from '../support/fixtures.js';
import { startTestCloud } from '../support/local-cloud.js';
import { connectWs } from '../support/ws-client.js';

let cloud: Awaited<ReturnType<typeof startTestCloud>>;

beforeAll(async () => {
  cloud = await startTestCloud({
    worker: false,
    lambdaTier: false,
    extraEnv: { ...FAST_ENGINE_ENV, SESSION_PENDING_TIMEOUT_MS: '6000' },
  });
});
afterAll(async () => {
  await cloud?.dispose();
});

describe('sessions without capacity', () => {
  it('a session no worker takes in time ends failed with NO_CAPACITY, told to its attached client', async () => {
    // No worker runs: the session stays pending until the sweeper gives up on it.
    const api = apiClient(cloud.url, cloud.apiKey);
    const res = await api.call('POST', '/v1/sessions', {
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    const ws = await connectWs(cloud.wsUrl, { apiKey: cloud.apiKey });
    ws.send({ action: 'attach', sessionId: res.body.id });
    expect((await ws.next((m) => m.type === 'attached')).status).toBe('pending');
    const closed = await ws.next((m) => m.type === 'closed', 20_000);
    expect(closed.reason).toEqual({
      code: 'NO_CAPACITY',
      message: 'No worker had a free session slot in time; try again later.',
    });
    expect((await api.call('GET', `/v1/sessions/${res.body.id}`)).body).toMatchObject({ status: 'failed' });
    expect((await api.call('GET', '/v1/limits')).body.usage.liveSessions).toBe(0);
    ws.close();
  });
});
