/**
 * Completion webhooks end to end, on the local cloud: a real receiver on 127.0.0.1 (let
 * through by the test cloud's EGRESS_ALLOW, as fixture pages are) verifies every delivery
 * with the Standard Webhooks library, with each secret it knows.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from '../../functions/http/openapi-document.js';
import { createAwsClients, destroyAwsClients } from '../../shared/adapters/aws-clients.js';
import { DynamoDbSessionStore } from '../../shared/adapters/dynamodb-session-store.js';
import { DynamoDbTenantStore } from '../../shared/adapters/dynamodb-tenant-store.js';
import { systemClock } from '../../shared/clock.js';
import { QUEUES } from '../../shared/contracts.js';
import { rotateSigningSecret } from '../../shared/webhooks/manage-webhooks.js';
import { FAST_ENGINE_ENV } from '../support/engine-env.js';
import { apiClient, type FixtureServer, startFixtureServer } from '../support/fixtures.js';
import { createTestTenant, startTestCloud } from '../support/local-cloud.js';
import { documentValidator } from '../support/openapi-schemas.js';

const TENANT = 'hooks';

interface Received {
  path: string;
  headers: Record<string, string>;
  body: string;
  /** The secrets (by index in `secrets`) whose verification accepted the delivery. */
  verifiedBy: number[];
  answered: number;
}

/** A receiver: answers each path with what `answer` says, records and verifies every delivery. */
const startReceiver = async (secrets: () => string[], port = 0) => {
  const received: Received[] = [];
  const waiters: { match: (r: Received) => boolean; resolve: (r: Received) => void }[] = [];
  let answer: (path: string, seen: number) => number = () => 200;
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = Object.fromEntries(
        Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : (v ?? '')]),
      );
      const verifiedBy = secrets().flatMap((secret, i) => {
        try {
          new Webhook(secret).verify(body, headers);
          return [i];
        } catch {
          return [];
        }
      });
      const path = req.url ?? '/';
      const status = answer(path, received.filter((r) => r.path === path).length);
      const entry = { path, headers, body, verifiedBy, answered: status };
      received.push(entry);
      res.writeHead(status).end();
      for (const w of waiters.filter((w) => w.match(entry))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(entry);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    received,
    setAnswer: (f: typeof answer) => {
      answer = f;
    },
    /** The first delivery (already here, or to come) that `match` accepts. */
    next: (match: (r: Received) => boolean) =>
      new Promise<Received>((resolve) => {
        const seen = received.find(match);
        if (seen !== undefined) resolve(seen);
        else waiters.push({ match, resolve });
      }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
};

let site: FixtureServer;
let cloud: Awaited<ReturnType<typeof startTestCloud>>;
let api: ReturnType<typeof apiClient>;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
const secrets: string[] = [];
let clients: ReturnType<typeof createAwsClients>;

const rotate = async (overlapMs: number) => {
  const tenants = new DynamoDbTenantStore(clients.dynamo, cloud.names.stateTable);
  const { secret } = await rotateSigningSecret(
    { tenants, clock: systemClock, random: randomBytes },
    { tenantId: TENANT, overlapMs },
  );
  secrets.push(secret.secret);
  return secrets.length - 1;
};

beforeAll(async () => {
  site = await startFixtureServer({ '/': '<h1>hooked</h1>' });
  cloud = await startTestCloud({
    extraEnv: {
      ...FAST_ENGINE_ENV,
      // Seconds, not the minutes of production: a receiver that is down comes back soon.
      WEBHOOK_RETRY_BASE_MS: '1000',
      WEBHOOK_RETRY_CAP_MS: '1000',
      WEBHOOK_TIMEOUT_MS: '2000',
    },
  });
  clients = createAwsClients({ region: 'us-east-1', endpoints: cloud.endpoints });
  const { key } = await createTestTenant(cloud, TENANT);
  api = apiClient(cloud.url, key);
  receiver = await startReceiver(() => secrets);
  await rotate(60 * 60_000);
});
afterAll(async () => {
  await receiver?.close();
  if (clients !== undefined) destroyAwsClients(clients);
  await cloud?.dispose();
  await site?.close();
});

/** The operator's admin CLI, as a process, against the test cloud's table. */
const admin = (...args: string[]) =>
  promisify(execFile)(process.execPath, ['--import', 'tsx', 'ops/admin.ts', ...args], {
    env: {
      ...process.env,
      STATE_TABLE_NAME: cloud.names.stateTable,
      AWS_ENDPOINT_URL_DYNAMODB: cloud.endpoints.dynamodb,
      // The operator's allow-list, as the cloud's: the receiver is on 127.0.0.1.
      EGRESS_ALLOW: '127.0.0.1',
    },
  });

/** The errors of a delivery's body against the OpenAPI document's `webhooks` entry for its type. */
const document = buildOpenApiDocument();
const payloadErrors = (r: Received) => {
  const { type } = JSON.parse(r.body) as { type: string };
  const entry = (
    document as unknown as {
      webhooks: Record<string, { post: { requestBody: { content: Record<string, { schema: unknown }> } } }>;
    }
  ).webhooks[type];
  return documentValidator(document).errors(
    entry?.post.requestBody.content['application/json']?.schema,
    JSON.parse(r.body),
  );
};

const eventOf = (r: Received) =>
  JSON.parse(r.body) as {
    type: string;
    timestamp: string;
    data: { id: string; status: string; result?: { artifacts: { url: string }[] } };
  };
const forTask = (id: string, type: string) => (r: Received) =>
  r.answered === 200 && r.headers['webhook-id'] === `msg_task_${id}` && eventOf(r).type === type;

describe('task webhooks', () => {
  it('a succeeded task POSTs task.succeeded, signed, with the task view; its attempts show on the task', async () => {
    const submitted = await api.submit({
      type: 'content',
      url: `${site.url}/`,
      webhook: { url: `${receiver.url}/ok` },
    });
    expect(submitted.status).toBe(202);
    expect(submitted.body.webhook).toEqual({ url: `${receiver.url}/ok`, deliveries: [] });
    const got = await receiver.next(forTask(submitted.body.id, 'task.succeeded'));
    expect(got.verifiedBy).toEqual([0]);
    expect(payloadErrors(got)).toEqual([]);
    expect(got.headers['webhook-timestamp']).toMatch(/^\d{10}$/);
    const event = eventOf(got);
    expect(event.data).toMatchObject({ id: submitted.body.id, status: 'succeeded', type: 'content' });
    expect(event.data.result?.artifacts[0]?.url).toMatch(/^http/);
    await expect
      .poll(async () => (await api.get(submitted.body.id)).body.webhook?.deliveries, { timeout: 10_000 })
      .toEqual([expect.objectContaining({ url: `${receiver.url}/ok`, status: 200, ms: expect.any(Number) })]);
  });

  it('a failed task POSTs task.failed', async () => {
    const submitted = await api.submit({
      type: 'evaluate',
      url: `${site.url}/`,
      options: { script: '() => { throw new Error("boom") }' },
      webhook: { url: `${receiver.url}/failed` },
    });
    const got = await receiver.next(forTask(submitted.body.id, 'task.failed'));
    expect(got.verifiedBy).toEqual([0]);
    expect(eventOf(got).data).toMatchObject({ status: 'failed', error: { code: 'SCRIPT_ERROR' } });
    expect(payloadErrors(got)).toEqual([]);
  });

  it('a cancelled task POSTs task.cancelled', async () => {
    const submitted = await api.submit({
      type: 'content',
      tier: 'fleet',
      url: `${site.url}/slow?ms=20000`,
      webhook: { url: `${receiver.url}/cancelled` },
    });
    const cancelled = await api.call('DELETE', `/v1/tasks/${submitted.body.id}`);
    // Queued: cancelled at once (200); running: its worker stops at its next heartbeat (202).
    expect([200, 202]).toContain(cancelled.status);
    const got = await receiver.next(forTask(submitted.body.id, 'task.cancelled'));
    expect(got.verifiedBy).toEqual([0]);
    expect(eventOf(got).data.status).toBe('cancelled');
  });

  it('a receiver that answers 503 for a while gets the event once it recovers, same webhook-id', async () => {
    receiver.setAnswer((path, seen) => (path === '/flaky' && seen < 2 ? 503 : 200));
    const submitted = await api.submit({
      type: 'content',
      url: `${site.url}/`,
      webhook: { url: `${receiver.url}/flaky` },
    });
    const got = await receiver.next(forTask(submitted.body.id, 'task.succeeded'));
    const all = receiver.received.filter((r) => r.path === '/flaky');
    expect(all.map((r) => r.answered)).toEqual([503, 503, 200]);
    expect(new Set(all.map((r) => r.headers['webhook-id']))).toEqual(new Set([got.headers['webhook-id']]));
    expect(all.every((r) => r.verifiedBy.includes(0))).toBe(true);
    await expect
      .poll(
        async () =>
          (await api.get(submitted.body.id)).body.webhook?.deliveries.map(
            (d: { status?: number }) => d.status,
          ),
        {
          timeout: 10_000,
        },
      )
      .toEqual([503, 503, 200]);
  });

  it('a receiver that is down (closed port) gets the event after it comes back', async () => {
    const spare = await startReceiver(() => secrets);
    const port = Number(new URL(spare.url).port);
    await spare.close();
    const submitted = await api.submit({
      type: 'content',
      url: `${site.url}/`,
      webhook: { url: `http://127.0.0.1:${port}/back` },
    });
    // Wait until an attempt has found nobody there.
    await expect
      .poll(async () => (await api.get(submitted.body.id)).body.webhook?.deliveries.length ?? 0, {
        timeout: 30_000,
        interval: 100,
      })
      .toBeGreaterThan(0);
    expect((await api.get(submitted.body.id)).body.webhook.deliveries[0]).toMatchObject({
      error: 'ECONNREFUSED',
    });
    const back = await startReceiver(() => secrets, port);
    try {
      const got = await back.next(forTask(submitted.body.id, 'task.succeeded'));
      expect(got.verifiedBy).toEqual([0]);
    } finally {
      await back.close();
    }
  });

  it(`a receiver that never accepts: after ${QUEUES.webhookMaxAttempts} attempts the event is in the DLQ`, async () => {
    receiver.setAnswer((path) => (path === '/never' ? 500 : 200));
    const submitted = await api.submit({
      type: 'content',
      url: `${site.url}/`,
      webhook: { url: `${receiver.url}/never` },
    });
    const id = submitted.body.id as string;
    const deadline = Date.now() + 50_000;
    let dead: { taskId: string; eventId: string } | undefined;
    while (dead === undefined && Date.now() < deadline) {
      const out = await clients.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: cloud.names.webhookDlqUrl,
          WaitTimeSeconds: 1,
          MaxNumberOfMessages: 1,
        }),
      );
      dead = (out.Messages ?? []).map((m) => JSON.parse(m.Body ?? '{}')).find((m) => m.taskId === id);
    }
    expect(dead).toMatchObject({ taskId: id, eventId: `msg_task_${id}`, type: 'task.succeeded' });
    expect(receiver.received.filter((r) => r.path === '/never')).toHaveLength(QUEUES.webhookMaxAttempts);
  }, 70_000);

  it.each(['http://169.254.169.254/latest/meta-data/', 'http://10.0.0.7/hook'])(
    'a webhook to a private address (%s) is refused at submit with 400 DESTINATION_BLOCKED',
    async (url) => {
      const res = await api.submit({ type: 'content', url: `${site.url}/`, webhook: { url } });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('DESTINATION_BLOCKED');
      expect(res.body.error.message).toMatch(/^webhook\.url: /);
    },
  );

  it('tenant endpoints: the admin CLI adds, lists and removes them; a task without its own webhook is told to them', async () => {
    const refused = await admin('webhook', 'add', TENANT, 'http://169.254.169.254/hook').catch((e) => e);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/DESTINATION_BLOCKED: url: blocked by the egress guard/);

    const endpoint = JSON.parse(
      (await admin('webhook', 'add', TENANT, `${receiver.url}/tenant`, '--events', 'task.succeeded')).stdout,
    );
    expect(endpoint).toMatchObject({ id: expect.stringMatching(/^ep_/), events: ['task.succeeded'] });
    const listed = JSON.parse((await admin('webhook', 'list', TENANT)).stdout);
    expect(listed.endpoints).toEqual([endpoint]);
    expect(listed.secrets[0]).toMatchObject({ prefix: expect.stringMatching(/^whsec_/) });
    expect(JSON.stringify(listed)).not.toContain(secrets[0]);

    const plain = await api.submit({ type: 'content', url: `${site.url}/` });
    expect(plain.body.webhook).toEqual({ deliveries: [] });
    const got = await receiver.next(
      (r) => r.path === '/tenant' && r.headers['webhook-id'] === `msg_task_${plain.body.id}`,
    );
    expect(got.verifiedBy).toContain(0);
    expect(eventOf(got).type).toBe('task.succeeded');
    // A batch item is a task like any other: the tenant's endpoint is told of it too.
    const batch = await api.call('POST', '/v1/tasks/batch', {
      body: JSON.stringify({ tasks: [{ type: 'content', url: `${site.url}/` }] }),
      headers: { 'content-type': 'application/json' },
    });
    expect(batch.status, JSON.stringify(batch.body)).toBe(200);
    const item = batch.body.results[0].task;
    expect(item.webhook).toEqual({ deliveries: [] });
    await receiver.next((r) => r.path === '/tenant' && r.headers['webhook-id'] === `msg_task_${item.id}`);

    await admin('webhook', 'remove', TENANT, endpoint.id);
    expect(JSON.parse((await admin('webhook', 'list', TENANT)).stdout).endpoints).toEqual([]);
    // With no endpoint left, a new task owes nothing.
    expect((await api.submit({ type: 'content', url: `${site.url}/` })).body.webhook).toBeUndefined();
  });

  it('rotation: during the overlap each delivery verifies with the old and the new secret; after it only the new', async () => {
    const newer = await rotate(60 * 60_000);
    const a = await api.submit({
      type: 'content',
      url: `${site.url}/`,
      webhook: { url: `${receiver.url}/rotating` },
    });
    const during = await receiver.next(forTask(a.body.id, 'task.succeeded'));
    expect(during.headers['webhook-signature']?.split(' ')).toHaveLength(2);
    expect(during.verifiedBy).toEqual([newer - 1, newer]);

    // An overlap of 1 ms: the secrets before this one are retired by the time anything is sent.
    const newest = await rotate(1);
    const b = await api.submit({
      type: 'content',
      url: `${site.url}/`,
      webhook: { url: `${receiver.url}/rotated` },
    });
    const after = await receiver.next(forTask(b.body.id, 'task.succeeded'));
    expect(after.headers['webhook-signature']?.split(' ')).toHaveLength(1);
    expect(after.verifiedBy).toEqual([newest]);
  });
});

describe('session webhooks', () => {
  const forSession = (id: string) => (r: Received) =>
    r.answered === 200 && r.headers['webhook-id'] === `msg_session_${id}`;
  const createLive = async (body: object): Promise<string> => {
    const created = await api.call('POST', '/v1/sessions', {
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id as string;
    await expect
      .poll(async () => (await api.call('GET', `/v1/sessions/${id}`)).body.status, { timeout: 30_000 })
      .toBe('live');
    return id;
  };

  it("session.ended reaches the tenant's endpoint, signed, when a client closes it and when it times out", async () => {
    const endpoint = JSON.parse(
      (await admin('webhook', 'add', TENANT, `${receiver.url}/sessions`, '--events', 'session.ended')).stdout,
    );
    try {
      const closedId = await createLive({});
      expect((await api.call('DELETE', `/v1/sessions/${closedId}`)).status).toBe(200);
      const closed = await receiver.next(forSession(closedId));
      expect(closed.path).toBe('/sessions');
      expect(closed.verifiedBy).toEqual(secrets.map((_, i) => i).slice(-1));
      expect(eventOf(closed)).toMatchObject({
        type: 'session.ended',
        data: { id: closedId, status: 'closed', endReason: { code: 'CLOSED_BY_CLIENT' } },
      });
      // An ended session's event hands out no ticket, and is what the document describes.
      expect(closed.body).not.toContain('ticket=');
      expect(payloadErrors(closed)).toEqual([]);

      // Ended by its worker, not by a request: the absolute timeout.
      const timedOutId = await createLive({ timeoutMs: 1_000 });
      const timedOut = await receiver.next(forSession(timedOutId));
      expect(eventOf(timedOut)).toMatchObject({
        type: 'session.ended',
        data: { id: timedOutId, status: 'closed', endReason: { code: 'SESSION_TIMEOUT' } },
      });
    } finally {
      await admin('webhook', 'remove', TENANT, endpoint.id);
    }
    // With the endpoint gone, a new session owes nothing: its ended row has no outbox.
    const quietId = await createLive({});
    expect((await api.call('DELETE', `/v1/sessions/${quietId}`)).status).toBe(200);
    const row = await new DynamoDbSessionStore(clients.dynamo, cloud.names.stateTable).get(TENANT, quietId);
    expect(row).toMatchObject({ status: 'closed' });
    expect(row?.webhook).toBeUndefined();
    expect(row?.outbox).toBeUndefined();
  }, 90_000);
});
