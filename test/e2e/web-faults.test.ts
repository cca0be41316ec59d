/**
 * The web side of a hostile world, end to end (real Chromium behind the egress proxy, both
 * tiers): connections that drop, close early, stall, reset, or answer malformed HTTP. Each
 * row of the README's retry table is pinned here: what is retried (transient network
 * trouble, with backoff) and what ends the task at once (what the same URL does again).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultySite, startFaultySite } from '../support/faulty-site.js';
import { apiClient } from '../support/fixtures.js';
import { startTestCloud, TEST_API_KEY } from '../support/local-cloud.js';

let site: FaultySite;
let cloud: Awaited<ReturnType<typeof startTestCloud>>;
let api: ReturnType<typeof apiClient>;

beforeAll(async () => {
  site = await startFaultySite();
  cloud = await startTestCloud({ extraEnv: { EGRESS_ALLOW: `127.0.0.1:${site.port}` } });
  api = apiClient(cloud.url, TEST_API_KEY);
});
afterAll(async () => {
  await cloud?.dispose();
  await site?.close();
});

const run = async (path: string, tier: 'lambda' | 'fleet', extra: Record<string, unknown> = {}) =>
  (
    await api.run({
      type: 'screenshot',
      url: `${site.url}${path}`,
      tier,
      maxAttempts: 2,
      options: { timeoutMs: 4_000, viewport: { width: 400, height: 300 } },
      ...extra,
    })
  ).body;

const outcomes = (task: { history?: { outcome: string; error?: { code: string } }[] }) =>
  (task.history ?? []).map((h) => `${h.outcome}${h.error === undefined ? '' : `:${h.error.code}`}`);

describe.each(['lambda', 'fleet'] as const)(
  'a healthy page on a connection-dropping web (%s tier)',
  (tier) => {
    it('pooled connections closed before the answer: every task succeeds on its first attempt', async () => {
      for (let i = 0; i < 4; i++) {
        const task = await run('/drops-reuse', tier);
        expect(task).toMatchObject({ status: 'succeeded', attempts: 1 });
      }
    });

    it('keep-alive connections closed right after each answer: first attempt', async () => {
      for (let i = 0; i < 3; i++) {
        expect(await run('/closes-early', tier)).toMatchObject({ status: 'succeeded', attempts: 1 });
      }
    });

    it('a slow answer (1.5 s) is waited for: first attempt', async () => {
      expect(await run('/slow?ms=1500', tier)).toMatchObject({ status: 'succeeded', attempts: 1 });
    });
  },
);

describe('what is retried and what ends a task at once', () => {
  it('a body that stalls: TIMEOUT at the deadline, retried with backoff', async () => {
    const before = site.hits('/stalls');
    const task = await run('/stalls', 'fleet', { options: { timeoutMs: 2_000 } });
    expect(task).toMatchObject({ status: 'failed', error: { code: 'TIMEOUT' } });
    expect(outcomes(task)).toEqual(['retried:TIMEOUT', 'failed:TIMEOUT']);
    expect(site.hits('/stalls') - before).toBe(2);
  });

  it('connections reset before any byte: a network error, retried', async () => {
    const task = await run('/resets', 'lambda');
    expect(task).toMatchObject({ status: 'failed', error: { code: 'NAVIGATION_FAILED' } });
    expect(outcomes(task)).toEqual(['retried:NAVIGATION_FAILED', 'failed:NAVIGATION_FAILED']);
  });

  it('a body cut by a reset midway still renders what arrived (as a browser does)', async () => {
    expect(await run('/resets-mid-body', 'lambda')).toMatchObject({ status: 'succeeded', attempts: 1 });
  });

  it('malformed HTTP (broken chunked encoding): fails at once, named, not retried', async () => {
    const before = site.hits('/bad-chunks');
    const task = await run('/bad-chunks', 'fleet');
    expect(task).toMatchObject({ status: 'failed', attempts: 1, error: { code: 'NAVIGATION_FAILED' } });
    expect(task.error.message).toMatch(/malformed HTTP response \(HPE_INVALID_CHUNK_SIZE\)/);
    expect(site.hits('/bad-chunks') - before).toBe(1);
  });
});
