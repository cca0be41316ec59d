/**
 * The webhook sender at the moment of sending: a real receiver on 127.0.0.1, a resolver the
 * test controls (the DNS port). The address is vetted when the POST goes, not only at
 * submit, and the connection goes to exactly the vetted address; no redirect is followed,
 * and an answer that never ends is cut off at the deadline.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GuardedWebhookSender } from '../../shared/adapters/guarded-webhook-sender.js';

let server: Server;
let port: number;
const hits: string[] = [];
beforeAll(async () => {
  server = createServer((req, res) => {
    hits.push(req.url ?? '');
    if (req.url === '/redirect') res.writeHead(302, { location: '/ok' }).end();
    else if (req.url === '/hang') res.writeHead(200).write('partial');
    else res.writeHead(204).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/**
 * A sender whose DNS answers every name with whatever `answer` holds now; the operator
 * allows `hooks.example.test` (the receiver, on loopback) and the 127.0.0.1 literal.
 */
const sender = (answer: { addresses: string[] }, timeoutMs = 5_000) =>
  new GuardedWebhookSender({
    allow: [
      { host: 'hooks.example.test', port },
      { host: '127.0.0.1', port },
    ],
    resolve: async () => answer.addresses,
    timeoutMs,
  });
const post = (url: string) => ({ url, headers: { 'content-type': 'application/json' }, body: '{}' });

describe('a webhook POST', () => {
  it('connects to exactly the address resolved and vetted at the moment of sending', async () => {
    const dns = { addresses: ['127.0.0.1'] };
    const send = sender(dns);
    // No real DNS knows this name: the connection goes to the answer the guard judged.
    expect(await send.send(post(`http://hooks.example.test:${port}/a`))).toMatchObject({ status: 204 });
    expect(hits.at(-1)).toBe('/a');
    // A name that passed at submit now answers a private, then a metadata address
    // (rebinding): refused when the POST would go, and nothing reaches any server.
    const before = hits.length;
    for (const address of ['10.0.0.7', '169.254.169.254']) {
      dns.addresses = [address];
      const refused = await send.send(post(`http://receiver.example.test:${port}/b`));
      expect(refused, address).toMatchObject({
        error: expect.stringMatching(/^blocked by the egress guard/),
      });
      expect('status' in refused).toBe(false);
    }
    // One vetted and one private address in the same answer: refused too.
    dns.addresses = ['93.184.216.34', '10.0.0.7'];
    expect(await send.send(post(`http://receiver.example.test:${port}/c`))).toMatchObject({
      error: expect.stringMatching(/^blocked by the egress guard/),
    });
    expect(hits.length).toBe(before);
  });

  it('does not follow a redirect: a 3xx is the answer, and not a success', async () => {
    const before = hits.length;
    expect(await sender({ addresses: [] }).send(post(`http://127.0.0.1:${port}/redirect`))).toMatchObject({
      status: 302,
    });
    expect(hits.slice(before)).toEqual(['/redirect']);
  });

  it('gives up on an answer that never ends at its deadline', async () => {
    const answer = await sender({ addresses: [] }, 300).send(post(`http://127.0.0.1:${port}/hang`));
    expect('status' in answer && answer.status >= 200 && answer.status < 300).toBe(false);
    expect(answer).toMatchObject({ error: expect.any(String) });
  });
});
