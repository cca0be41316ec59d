/**
 * The worker's ECS scale-in protection client, against a stand-in for the ECS agent's
 * task-protection endpoint on 127.0.0.1 (the agent itself runs only on ECS).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ecsTaskProtection,
  RELEASE_AFTER_IDLE_MS,
  SUPERSEDED_GRACE_MS,
} from '../../container/task-protection.js';

const calls: { method: string; path: string; body: unknown }[] = [];
const agent = createServer((req, res) => {
  let body = '';
  req.on('data', (c) => {
    body += c;
  });
  req.on('end', () => {
    calls.push({ method: req.method ?? '', path: req.url ?? '', body: JSON.parse(body || 'null') });
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"protection":{}}');
  });
});
let uri = '';
beforeAll(async () => {
  await new Promise<void>((r) => agent.listen(0, '127.0.0.1', r));
  uri = `http://127.0.0.1:${(agent.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => agent.close(() => r())));

const ON = {
  method: 'PUT',
  path: '/task-protection/v1/state',
  body: { ProtectionEnabled: true, ExpiresInMinutes: 15 },
};
const OFF = { method: 'PUT', path: '/task-protection/v1/state', body: { ProtectionEnabled: false } };

describe('ECS task protection', () => {
  it('protects a busy worker (tasks or sessions), once per change, and lets go after a minute idle', async () => {
    calls.length = 0;
    const clock = { ms: 0, now: () => clock.ms };
    // Each change of protection is logged synchronously, before its call is sent.
    const changes: unknown[] = [];
    const protection = ecsTaskProtection(uri, clock, (_e, d) => changes.push(d.enabled));
    protection.update(1);
    protection.update(2);
    protection.update(1);
    await expect.poll(() => calls.length, { timeout: 10_000 }).toBe(1);
    // Idle between two tasks: still protected, no call.
    protection.update(0);
    clock.ms += RELEASE_AFTER_IDLE_MS - 1;
    protection.update(0);
    expect(changes).toEqual([true]);
    clock.ms += 1;
    protection.update(0);
    await expect.poll(() => calls.length, { timeout: 10_000 }).toBe(2);
    protection.stop();
    expect(calls).toEqual([ON, OFF]);
  });

  it('a superseded worker lets go when idle, and after SUPERSEDED_GRACE_MS even while busy', async () => {
    calls.length = 0;
    const clock = { ms: 0, now: () => clock.ms };
    const changes: unknown[] = [];
    const protection = ecsTaskProtection(uri, clock, (_e, d) => changes.push(d.enabled));
    protection.update(1);
    protection.superseded();
    clock.ms += SUPERSEDED_GRACE_MS - 1;
    protection.update(1);
    // Busy and inside the grace: still protected.
    expect(changes).toEqual([true]);
    await expect.poll(() => calls.length, { timeout: 10_000 }).toBe(1);
    // A deployment waits for this worker at most the grace, not a session's 6 h.
    clock.ms += 1;
    protection.update(1);
    await expect.poll(() => calls.length, { timeout: 10_000 }).toBe(2);
    protection.stop();

    const idle = ecsTaskProtection(uri, clock, () => {});
    idle.update(2);
    await expect.poll(() => calls.length, { timeout: 10_000 }).toBe(3);
    idle.superseded();
    idle.update(0);
    await expect.poll(() => calls.length, { timeout: 10_000 }).toBe(4);
    idle.stop();
    expect(calls).toEqual([ON, OFF, ON, OFF]);
  });
});
