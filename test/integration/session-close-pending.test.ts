/**
 * Closing a session that no worker has taken yet: the close itself posts nothing (on AWS it
 * runs in the VPC, where API Gateway's management API can't be reached), so the worker that
 * receives the session's start message finds it closed and tells the attached client. The
 * worker here has no session slots, so the session stays pending until it is closed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAST_ENGINE_ENV } from '../support/engine-env.js';
import { apiClient } from '../support/fixtures.js';
import { startTestCloud } from '../support/local-cloud.js';
import { connectWs } from '../support/ws-client.js';

let cloud: Awaited<ReturnType<typeof startTestCloud>>;

beforeAll(async () => {
  cloud = await startTestCloud({
    lambdaTier: false,
    extraEnv: { ...FAST_ENGINE_ENV, WORKER_SESSION_SLOTS: '0' },
  });
});
afterAll(async () => {
  await cloud?.dispose();
});

describe('closing a pending session', () => {
  it('is told to the attached client by the worker that receives its start message', async () => {
    const api = apiClient(cloud.url, cloud.apiKey);
    const res = await api.call('POST', '/v1/sessions', {
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    const ws = await connectWs(cloud.wsUrl, { apiKey: cloud.apiKey });
    ws.send({ action: 'attach', sessionId: res.body.id });
    expect((await ws.next((m) => m.type === 'attached')).status).toBe('pending');
    const closedByClient = await api.call('DELETE', `/v1/sessions/${res.body.id}`);
    expect(closedByClient.body).toMatchObject({ status: 'closed', endReason: { code: 'CLOSED_BY_CLIENT' } });
    const told = await ws.next((m) => m.type === 'closed', 20_000);
    expect(told).toMatchObject({ sessionId: res.body.id, reason: { code: 'CLOSED_BY_CLIENT' } });
    ws.close();
  });
});
