/**
 * Completion webhooks end to end, on the local cloud: a real receiver on 127.0.0.1 (let
 * through by the test cloud's EGRESS_ALLOW, as fixture pages are) verifies every delivery
 * with the Standard Webhooks library, with each secret it knows. Tasks and sessions are
 * made with the typed client (ops/client); endpoints and signing secrets with the
 * operator's CLI, `browserfleet admin`, run as a process: the path a user takes.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from '../../functions/http/openapi-document.js';
import {
  type BrowserfleetClient,
  createClient,
  type SessionRequest,
  ValidationError,
} from '../../ops/client/index.js';
import { createAwsClients, destroyAwsClients } from '../../shared/adapters/aws-clients.js';
import { DynamoDbSessionStore } from '../../shared/adapters/dynamodb-session-store.js';
import { QUEUES } from '../../shared/contracts.js';
import { adminEnv, runCli } from '../support/cli-process.js';
import { FAST_ENGINE_ENV } from '../support/engine-env.js';
import { type FixtureServer, startFixtureServer } from '../support/fixtures.js';
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
let api: BrowserfleetClient;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
const secrets: string[] = [];
let clients: ReturnType<typeof createAwsClients>;

/** The operator's CLI (`browserfleet admin --json …`), as a process, on the test cloud's table. */
const admin = async (...args: string[]) => {
  const ran = await runCli(['admin', '--json', ...args], adminEnv(cloud));
  return { ...ran, json: () => JSON.parse(ran.stdout) };
};

/** `admin webhook rotate-secret`: the new secret joins the receiver's; answers its index. */
const rotate = async (overlapHours: number) => {
  const rotated = await admin('webhook', 'rotate-secret', TENANT, '--overlap-hours', String(overlapHours));
  expect(rotated.code, rotated.stderr).toBe(0);
  const { secret } = rotated.json() as { secret: string };
  expect(secret).toMatch(/^whsec_/);
  secrets.push(secret);
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
  api = createClient({ baseUrl: cloud.url, apiKey: key });
  receiver = await startReceiver(() => secrets);
  await rotate(1);
});
afterAll(async () => {
  await receiver?.close();
  if (clients !== undefined) destroyAwsClients(clients);
  await cloud?.dispose();
  await site?.close();
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
    const submitted = await api.tasks.submit({
      type: 'content',
      url: `${site.url}/`,
      webhook: { url: `${receiver.url}/ok` },
    });
    expect(submitted.status).toBe('queued');
    expect(submitted.webhook).toEqual({ url: `${receiver.url}/ok`, deliveries: [] });
    const got = await receiver.next(forTask(submitted.id, 'task.succeeded'));
    expect(got.verifiedBy).toEqual([0]);
    expect(payloadErrors(got)).toEqual([]);
    expect(got.headers['webhook-timestamp']).toMatch(/^\d{10}$/);
    const event = eventOf(got);
    expect(event.data).toMatchObject({ id: submitted.id, status: 'succeeded', type: 'content' });
    expect(event.data.result?.artifacts[0]?.url).toMatch(/^http/);
    await expect
      .poll(async () => (await api.tasks.get(submitted.id)).webhook?.deliveries, { timeout: 10_000 })
      .toEqual([expect.objectContaining({ url: `${receiver.url}/ok`, status: 200, ms: expect.any(Number) })]);
  });

  it('a failed task POSTs task.failed', async () => {
    const submitted = await api.tasks.submit({
      type: 'evaluate',
      url: `${site.url}/`,
      options: { script: '() => { throw new Error("boom") }' },
      webhook: { url: `${receiver.url}/failed` },
    });
    const got = await receiver.next(forTask(submitted.id, 'task.failed'));
    expect(got.verifiedBy).toEqual([0]);
    expect(eventOf(got).data).toMatchObject({ status: 'failed', error: { code: 'SCRIPT_ERROR' } });
    expect(payloadErrors(got)).toEqual([]);
  });

  it('a cancelled task POSTs task.cancelled', async () => {
    const submitted = await api.tasks.submit({
      type: 'content',
      tier: 'fleet',
      url: `${site.url}/slow?ms=20000`,
      webhook: { url: `${receiver.url}/cancelled` },
    });
    const cancelled = await api.tasks.cancel(submitted.id);
    // Queued: cancelled at once; running: its worker stops it at its next heartbeat.
    expect(['cancelled', 'running']).toContain(cancelled.status);
    const got = await receiver.next(forTask(submitted.id, 'task.cancelled'));
    expect(got.verifiedBy).toEqual([0]);
    expect(eventOf(got).data.status).toBe('cancelled');
  });

  it('a receiver that answers 503 for a while gets the event once it recovers, same webhook-id', async () => {
    receiver.setAnswer((path, seen) => (path === '/flaky' && seen < 2 ? 503 : 200));
    const submitted = await api.tasks.submit({
      type: 'content',
      url: `${site.url}/`,
      webhook: { url: `${receiver.url}/flaky` },
    });
    const got = await receiver.next(forTask(submitted.id, 'task.succeeded'));
    const all = receiver.received.filter((r) => r.path === '/flaky');
    expect(all.map((r) => r.answered)).toEqual([503, 503, 200]);
    expect(new Set(all.map((r) => r.headers['webhook-id']))).toEqual(new Set([got.headers['webhook-id']]));
    expect(all.every((r) => r.verifiedBy.includes(0))).toBe(true);
    await expect
      .poll(async () => (await api.tasks.get(submitted.id)).webhook?.deliveries.map((d) => d.status), {
        timeout: 10_000,
      })
      .toEqual([503, 503, 200]);
  });

  it('a receiver that is down (closed port) gets the event after it comes back', async () => {
    const spare = await startReceiver(() => secrets);
    const port = Number(new URL(spare.url).port);
    await spare.close();
    const submitted = await api.tasks.submit({
      type: 'content',
      url: `${site.url}/`,
      webhook: { url: `http://127.0.0.1:${port}/back` },
    });
    // Wait until an attempt has found nobody there.
    await expect
      .poll(async () => (await api.tasks.get(submitted.id)).webhook?.deliveries.length ?? 0, {
        timeout: 30_000,
        interval: 100,
      })
      .toBeGreaterThan(0);
    expect((await api.tasks.get(submitted.id)).webhook?.deliveries[0]).toMatchObject({
      error: 'ECONNREFUSED',
    });
    const back = await startReceiver(() => secrets, port);
    try {
      const got = await back.next(forTask(submitted.id, 'task.succeeded'));
      expect(got.verifiedBy).toEqual([0]);
    } finally {
      await back.close();
    }
  });

  it(`a receiver that never accepts: after ${QUEUES.webhookMaxAttempts} attempts the event is in the DLQ`, async () => {
    receiver.setAnswer((path) => (path === '/never' ? 500 : 200));
    const submitted = await api.tasks.submit({
      type: 'content',
      url: `${site.url}/`,
      webhook: { url: `${receiver.url}/never` },
    });
    const id = submitted.id;
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
      const refused = await api.tasks
        .submit({ type: 'content', url: `${site.url}/`, webhook: { url } })
        .catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(ValidationError);
      expect(refused).toMatchObject({ status: 400, code: 'DESTINATION_BLOCKED' });
      expect((refused as Error).message).toMatch(/^DESTINATION_BLOCKED: webhook\.url: /);
    },
  );

  it("a tenant without a signing secret: its task's own webhook is refused with 400; the first endpoint brings a secret that verifies", async () => {
    const tenantId = 'unsigned';
    const { key } = await createTestTenant(cloud, tenantId);
    const unsigned = createClient({ baseUrl: cloud.url, apiKey: key });
    const hooked = {
      type: 'content' as const,
      url: `${site.url}/`,
      webhook: { url: `${receiver.url}/unsigned` },
    };
    // The house error shape, over the real API: the field, the rule and the operator's command.
    const raw = await fetch(`${cloud.url}/v1/tasks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(hooked),
    });
    expect(raw.status).toBe(400);
    const rule = expect.stringMatching(
      /signing secret.*`browserfleet admin webhook rotate-secret unsigned`$/,
    );
    expect(await raw.json()).toEqual({
      error: {
        code: 'VALIDATION_FAILED',
        message: expect.stringMatching(/^webhook: /),
        details: { issues: [{ field: 'webhook', message: rule }] },
      },
    });
    const refused = await unsigned.tasks.submit(hooked).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ValidationError);
    expect(refused).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    // Nothing was accepted.
    expect((await unsigned.tasks.list()).tasks).toEqual([]);

    // Its first endpoint comes with its first secret, printed once; the receiver takes it.
    const mine: string[] = [];
    const own = await startReceiver(() => mine);
    try {
      const added = await admin('webhook', 'add', tenantId, `${own.url}/first`, '--events', 'task.succeeded');
      expect(added.code, added.stderr).toBe(0);
      const { secret, note } = added.json() as { secret: string; note: string };
      expect(secret).toMatch(/^whsec_/);
      expect(note).toMatch(/^Shown once/);
      mine.push(secret);
      const task = await unsigned.tasks.submit({ ...hooked, webhook: { url: `${own.url}/own` } });
      const [atEndpoint, atOwn] = await Promise.all([
        own.next((r) => r.path === '/first' && r.headers['webhook-id'] === `msg_task_${task.id}`),
        own.next((r) => r.path === '/own' && r.headers['webhook-id'] === `msg_task_${task.id}`),
      ]);
      expect(atEndpoint.verifiedBy).toEqual([0]);
      expect(atOwn.verifiedBy).toEqual([0]);
    } finally {
      await own.close();
    }
  });

  it('tenant endpoints: the admin CLI adds, lists and removes them; a task without its own webhook is told to them', async () => {
    const refused = await admin('webhook', 'add', TENANT, 'http://169.254.169.254/hook');
    expect(refused.code).toBe(3);
    expect(JSON.parse(refused.stderr).error).toMatchObject({
      code: 'DESTINATION_BLOCKED',
      message: expect.stringMatching(/^url: blocked by the egress guard/),
    });

    const endpoint = (
      await admin('webhook', 'add', TENANT, `${receiver.url}/tenant`, '--events', 'task.succeeded')
    ).json();
    expect(endpoint).toMatchObject({ id: expect.stringMatching(/^ep_/), events: ['task.succeeded'] });
    const listed = (await admin('webhook', 'list', TENANT)).json();
    expect(listed.endpoints).toEqual([endpoint]);
    expect(listed.secrets[0]).toMatchObject({ prefix: expect.stringMatching(/^whsec_/) });
    expect(JSON.stringify(listed)).not.toContain(secrets[0]);

    const plain = await api.tasks.submit({ type: 'content', url: `${site.url}/` });
    expect(plain.webhook).toEqual({ deliveries: [] });
    const got = await receiver.next(
      (r) => r.path === '/tenant' && r.headers['webhook-id'] === `msg_task_${plain.id}`,
    );
    expect(got.verifiedBy).toContain(0);
    expect(eventOf(got).type).toBe('task.succeeded');
    // A batch item is a task like any other: the tenant's endpoint is told of it too.
    const [result] = await api.tasks.batch([{ type: 'content', url: `${site.url}/` }]);
    expect(result?.status, JSON.stringify(result)).toBe(202);
    expect(result?.task?.webhook).toEqual({ deliveries: [] });
    await receiver.next(
      (r) => r.path === '/tenant' && r.headers['webhook-id'] === `msg_task_${result?.task?.id}`,
    );

    expect((await admin('webhook', 'remove', TENANT, endpoint.id)).json()).toEqual({ removed: endpoint.id });
    expect((await admin('webhook', 'list', TENANT)).json().endpoints).toEqual([]);
    // With no endpoint left, a new task owes nothing.
    expect((await api.tasks.submit({ type: 'content', url: `${site.url}/` })).webhook).toBeUndefined();
  });

  it('rotation: during the overlap each delivery verifies with the old and the new secret; after it only the new', async () => {
    const newer = await rotate(1);
    const a = await api.tasks.submit({
      type: 'content',
      url: `${site.url}/`,
      webhook: { url: `${receiver.url}/rotating` },
    });
    const during = await receiver.next(forTask(a.id, 'task.succeeded'));
    expect(during.headers['webhook-signature']?.split(' ')).toHaveLength(2);
    expect(during.verifiedBy).toEqual([newer - 1, newer]);

    // No overlap: the secrets before this one retire at once.
    const newest = await rotate(0);
    const b = await api.tasks.submit({
      type: 'content',
      url: `${site.url}/`,
      webhook: { url: `${receiver.url}/rotated` },
    });
    const after = await receiver.next(forTask(b.id, 'task.succeeded'));
    expect(after.headers['webhook-signature']?.split(' ')).toHaveLength(1);
    expect(after.verifiedBy).toEqual([newest]);
  });
});

describe('session webhooks', () => {
  const forSession = (id: string) => (r: Received) =>
    r.answered === 200 && r.headers['webhook-id'] === `msg_session_${id}`;
  const createLive = async (body: SessionRequest): Promise<string> => {
    const { id } = await api.sessions.create(body);
    await expect.poll(async () => (await api.sessions.get(id)).status, { timeout: 30_000 }).toBe('live');
    return id;
  };

  it("session.ended reaches the tenant's endpoint, signed, when a client closes it and when it times out", async () => {
    const endpoint = (
      await admin('webhook', 'add', TENANT, `${receiver.url}/sessions`, '--events', 'session.ended')
    ).json();
    try {
      const closedId = await createLive({});
      expect((await api.sessions.close(closedId)).status).toBe('closed');
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
      expect((await admin('webhook', 'remove', TENANT, endpoint.id)).code).toBe(0);
    }
    // With the endpoint gone, a new session owes nothing: its ended row has no outbox.
    const quietId = await createLive({});
    expect((await api.sessions.close(quietId)).status).toBe('closed');
    const row = await new DynamoDbSessionStore(clients.dynamo, cloud.names.stateTable).get(TENANT, quietId);
    expect(row).toMatchObject({ status: 'closed' });
    expect(row?.webhook).toBeUndefined();
    expect(row?.outbox).toBeUndefined();
  }, 90_000);
});
