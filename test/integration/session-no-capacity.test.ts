/**
 * Sessions no worker can take: the one worker here has no session slots. One that waits too
 * long ends `failed` with `NO_CAPACITY` (set by the sweeper), told to its attached client,
 * and frees its quota slot. One closed while it waits is told to its attached client by the
 * worker that receives its start message: the close itself posts nothing (on AWS it runs in
 * the VPC, where API Gateway's management API can't be reached).
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
    extraEnv: { ...FAST_ENGINE_ENV, SESSION_PENDING_TIMEOUT_MS: '6000', WORKER_SESSION_SLOTS: '0' },
  });
});
afterAll(async () => {
  await cloud?.dispose();
});

/** A new session, still pending, with a client attached to it. */
const pendingSessionWithClient = async () => {
  const api = apiClient(cloud.url, cloud.apiKey);
  const res = await api.call('POST', '/v1/sessions', {
    body: '{}',
    headers: { 'content-type': 'application/json' },
  });
  const ws = await connectWs(cloud.wsUrl, { apiKey: cloud.apiKey });
  ws.send({ action: 'attach', sessionId: res.body.id });
  expect((await ws.next((m) => m.type === 'attached')).status).toBe('pending');
  return { api, res, ws };
};

describe('sessions without capacity', () => {
  it('a session no worker takes in time ends failed with NO_CAPACITY, told to its attached client', async () => {
    // No worker has a slot: the session stays pending until the sweeper gives up on it.
    const { api, res, ws } = await pendingSessionWithClient();
    const closed = await ws.next((m) => m.type === 'closed', 20_000);
    expect(closed.reason).toEqual({
      code: 'NO_CAPACITY',
      message: 'No worker had a free session slot in time; try again later.',
    });
    expect((await api.call('GET', `/v1/sessions/${res.body.id}`)).body).toMatchObject({ status: 'failed' });
    expect((await api.call('GET', '/v1/limits')).body.usage.liveSessions).toBe(0);
    ws.close();
  });

  it('a session closed while it waits is told to its attached client by the worker that receives its start message', async () => {
    const { api, res, ws } = await pendingSessionWithClient();
    const closedByClient = await api.call('DELETE', `/v1/sessions/${res.body.id}`);
    expect(closedByClient.body).toMatchObject({ status: 'closed', endReason: { code: 'CLOSED_BY_CLIENT' } });
    const told = await ws.next((m) => m.type === 'closed', 20_000);
    expect(told).toMatchObject({ sessionId: res.body.id, reason: { code: 'CLOSED_BY_CLIENT' } });
    ws.close();
  });
});
