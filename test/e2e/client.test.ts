/**
 * The typed client (`browserfleet/client`, the package export of ops/client) against the local cloud, as a program uses it: `tasks.run`
 * submits, holds and downloads; typed errors carry their codes; a 429 is waited out for
 * its `Retry-After` and sent again; a submit whose answer is lost on the way back is sent
 * again with the same idempotency key and makes one task, not two; sessions come with the
 * URLs to drive and watch them.
 */

import {
  type BrowserfleetClient,
  createClient,
  NotFoundError,
  RateLimitedError,
  ValidationError,
} from 'browserfleet/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FixtureServer, pngSize, startFixtureServer } from '../support/fixtures.js';
import { createTestTenant, startTestCloud } from '../support/local-cloud.js';

let site: FixtureServer;
let cloud: Awaited<ReturnType<typeof startTestCloud>>;
let client: BrowserfleetClient;
let slowKey: string;

beforeAll(async () => {
  site = await startFixtureServer({ '/': '<h1 style="margin:0">client</h1>' });
  cloud = await startTestCloud();
  client = createClient({ baseUrl: cloud.url, apiKey: (await createTestTenant(cloud, 'client')).key });
  // One request a second, no burst beyond it: the second request in a second is a 429.
  slowKey = (await createTestTenant(cloud, 'client-slow', { requestsPerSecond: 1, burst: 1 })).key;
});
afterAll(async () => {
  await cloud?.dispose();
  await site?.close();
});

describe('the typed client', () => {
  it('tasks.run submits, holds until the task ends, and downloads its artifact', async () => {
    const run = await client.tasks.run({
      type: 'screenshot',
      url: `${site.url}/`,
      options: { viewport: { width: 320, height: 200 } },
    });
    expect(run.task.status).toBe('succeeded');
    expect(run.contentType).toBe('image/png');
    expect(pngSize(run.body as Uint8Array)).toEqual({ width: 320, height: 200 });
    expect((await client.tasks.get(run.task.id)).status).toBe('succeeded');
  });

  it('answers refusals as typed errors carrying the code', async () => {
    const missing = await client.tasks.get('01a23841-bb81-791b-bdb9-509357b8e4f6').catch((e) => e);
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(missing).toMatchObject({ status: 404, code: 'NOT_FOUND' });
    const bad = await client.tasks.submit({ type: 'screenshot', url: 'not a url' }).catch((e) => e);
    expect(bad).toBeInstanceOf(ValidationError);
    expect(bad).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    expect(bad.message).toMatch(/url/);
  });

  it("waits out a 429's Retry-After and sends again; with no attempts left it is a RateLimitedError", async () => {
    const waits: number[] = [];
    const slow = createClient({
      baseUrl: cloud.url,
      apiKey: slowKey,
      sleep: async (ms) => {
        waits.push(ms);
        await new Promise((resolve) => setTimeout(resolve, ms));
      },
    });
    // Three at once against one request a second: at most one goes in straight away.
    const submitted = await Promise.all(
      [1, 2, 3].map(() => slow.tasks.submit({ type: 'content', url: `${site.url}/` })),
    );
    expect(new Set(submitted.map((t) => t.id)).size).toBe(3);
    // The others were refused and waited as they were told (whole seconds of Retry-After).
    expect(waits.length).toBeGreaterThanOrEqual(2);
    expect(waits.every((ms) => ms >= 1_000 && ms % 1_000 === 0)).toBe(true);

    const once = createClient({ baseUrl: cloud.url, apiKey: slowKey, maxAttempts: 1 });
    const answers = await Promise.all(
      [1, 2, 3].map(() => once.tasks.get(submitted[0]?.id as string).catch((e: unknown) => e)),
    );
    const refused = answers.filter((a) => a instanceof RateLimitedError);
    expect(refused.length).toBeGreaterThanOrEqual(2);
    expect(refused[0]).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
  });

  it('a submit whose answer is lost is sent again with the same key: one task, not two', async () => {
    const tenant = await createTestTenant(cloud, 'client-lossy');
    const keys: (string | null)[] = [];
    let lost = false;
    const lossy = createClient({
      baseUrl: cloud.url,
      apiKey: tenant.key,
      sleep: async () => {},
      // The first submit reaches the API and does its work; its answer never comes back.
      fetch: async (input, init) => {
        const res = await fetch(input, init);
        if (init?.method === 'POST') {
          keys.push(new Headers(init.headers).get('idempotency-key'));
          if (!lost) {
            lost = true;
            await res.arrayBuffer();
            throw new TypeError('fetch failed: the connection was reset');
          }
        }
        return res;
      },
    });
    const task = await lossy.tasks.submit({ type: 'content', url: `${site.url}/` });
    expect(keys).toHaveLength(2);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(keys[1]).toBe(keys[0]);
    const history = await lossy.tasks.list();
    expect(history.tasks.map((t) => t.id)).toEqual([task.id]);
  });

  it('sessions: create, get and list carry the URLs to drive and watch; close ends it', async () => {
    const created = await client.sessions.create({ idleTimeoutMs: 60_000 });
    expect(created.cdpUrl).toMatch(/^ws:\/\/.*\/cdp\?ticket=/);
    expect(created.liveViewUrl).toMatch(/^http:\/\/.*\/live\?ticket=/);
    expect((await client.sessions.get(created.id)).id).toBe(created.id);
    expect((await client.sessions.list()).map((s) => s.id)).toContain(created.id);
    const closed = await client.sessions.close(created.id);
    expect(closed.status).toBe('closed');
    expect(closed.cdpUrl).toBeUndefined();
  });
});
