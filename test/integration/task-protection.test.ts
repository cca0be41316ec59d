/**
 * The worker's ECS scale-in protection client, against a stand-in for the ECS agent's
 * task-protection endpoint on 127.0.0.1 (the agent itself runs only on ECS).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ecsTaskProtection } from '../../container/task-protection.js';

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

describe('ECS task protection', () => {
  it('protects while sessions are hosted, once per change, and unprotects when the last ends', async () => {
    const protection = ecsTaskProtection(uri, () => {});
    protection.update(1);
    protection.update(2);
    protection.update(1);
    await expect.poll(() => calls.length, { timeout: 10_000 }).toBe(1);
    protection.update(0);
    await expect.poll(() => calls.length, { timeout: 10_000 }).toBe(2);
    protection.stop();
    expect(calls).toEqual([
      {
        method: 'PUT',
        path: '/task-protection/v1/state',
        body: { ProtectionEnabled: true, ExpiresInMinutes: 60 },
      },
      { method: 'PUT', path: '/task-protection/v1/state', body: { ProtectionEnabled: false } },
    ]);
  });
});
