/**
 * The egress guard end to end: a private destination is refused at submit, and in the
 * browser every other vector — redirect, image, iframe, fetch, WebSocket — is blocked and
 * reported, while the EGRESS_ALLOWed fixture works. The "private service" counts its hits.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, type FixtureServer, startFixtureServer } from '../support/fixtures.js';
import { startTestCloud, TEST_API_KEY } from '../support/local-cloud.js';

let site: FixtureServer;
let secret: Server;
let secretPort: number;
let secretHits = 0;
let cloud: Awaited<ReturnType<typeof startTestCloud>>;
let api: ReturnType<typeof apiClient>;

beforeAll(async () => {
  secret = createServer((_req, res) => {
    secretHits++;
    res.end('internal secrets');
  });
  secret.on('upgrade', (_req, socket) => {
    secretHits++;
    socket.destroy();
  });
  await new Promise<void>((r) => secret.listen(0, '127.0.0.1', r));
  secretPort = (secret.address() as AddressInfo).port;
  const target = `127.0.0.1:${secretPort}`;
  site = await startFixtureServer({
    '/': '<h1>fine</h1>',
    '/vectors': `<h1>vectors</h1>
      <img src="http://${target}/img.png">
      <iframe src="http://localhost:${secretPort}/frame"></iframe>
      <script>
        fetch('http://${target}/fetch').catch(() => {});
        try { new WebSocket('ws://${target}/ws'); } catch {}
        fetch('http://[::ffff:127.0.0.1]:${secretPort}/mapped').catch(() => {});
      </script>`,
  });
  // Only the fixture's own host:port is allowed; the "private service" is not.
  const sitePort = new URL(site.url).port;
  cloud = await startTestCloud({ extraEnv: { EGRESS_ALLOW: `127.0.0.1:${sitePort}` } });
  api = apiClient(cloud.url, TEST_API_KEY);
});
afterAll(async () => {
  await cloud?.dispose();
  await site?.close();
  secret?.closeAllConnections();
  await new Promise((r) => secret?.close(r));
});

/** Submits a screenshot and answers it once it has ended (or the refusal at submit). */
const submit = (url: string, extra: Record<string, unknown> = {}) =>
  api.run({ type: 'screenshot', url, maxAttempts: 1, ...extra });

describe('egress guard', () => {
  it.each([
    () => `http://127.0.0.1:${secretPort}/`,
    () => `http://localhost:${secretPort}/`,
    () => `http://2130706433:${secretPort}/`,
    () => `http://0x7f.0.0.1:${secretPort}/`,
    () => `http://0177.0.0.1:${secretPort}/`,
    () => `http://[::ffff:127.0.0.1]:${secretPort}/`,
    () => 'http://169.254.169.254/latest/meta-data/',
    () => 'http://[fd00:ec2::254]/',
    () => 'http://10.0.0.1/',
  ])('refuses a private destination at submit with 400 DESTINATION_BLOCKED (%#)', async (url) => {
    const res = await submit(url());
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('DESTINATION_BLOCKED');
    expect(res.body.error.message).toMatch(/url: blocked by the egress guard/);
  });

  it('refuses file: and other schemes at submit', async () => {
    const res = await submit('file:///etc/passwd');
    expect(res.status).toBe(400);
  });

  it('blocks every sub-resource vector in the browser, reports them, and the page still renders', async () => {
    const res = await submit(`${site.url}/vectors`, { options: { waitUntil: 'networkidle0' } });
    expect(res.body.status, JSON.stringify(res.body.error)).toBe('succeeded');
    const blocked = res.body.result.blockedRequests.map((b: { url: string }) => b.url).join('\n');
    expect(blocked).toContain(`/img.png`);
    expect(blocked).toContain(`localhost:${secretPort}/frame`);
    expect(blocked).toContain('/fetch');
    expect(blocked).toContain('/mapped');
    // The WebSocket asks the proxy for a CONNECT tunnel, recorded as host:port.
    expect(blocked.split('\n')).toContain(`127.0.0.1:${secretPort}`);
    expect(res.body.result.blockedRequests.every((b: { reason: string }) => b.reason === 'loopback')).toBe(
      true,
    );
    expect(secretHits).toBe(0);
  });

  it.each(['http', 'https'])(
    'fails a task whose page redirects to a private %s address with DESTINATION_BLOCKED, not retried',
    async (scheme) => {
      const to = encodeURIComponent(`${scheme}://127.0.0.1:${secretPort}/admin`);
      // Three attempts allowed: a blocked destination is terminal, so only one runs.
      const res = await submit(`${site.url}/redirect?to=${to}`, { maxAttempts: 3 });
      expect(res.body).toMatchObject({
        status: 'failed',
        attempts: 1,
        error: { code: 'DESTINATION_BLOCKED' },
      });
      expect(res.body.error.message).toContain(`127.0.0.1:${secretPort}`);
      expect(secretHits).toBe(0);
    },
  );

  it('lets the EGRESS_ALLOWed fixture work', async () => {
    const res = await submit(`${site.url}/`);
    expect(res.body.status).toBe('succeeded');
    expect(res.body.result.blockedRequests).toBeUndefined();
  });
});
