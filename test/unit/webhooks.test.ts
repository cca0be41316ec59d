/** Webhook signing and rotation, the backoff, the outbox and one delivery, on memory twins. */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { MemoryTaskStore } from '../../shared/adapters/memory-task-store.js';
import { MemoryTenantStore } from '../../shared/adapters/memory-tenant-store.js';
import { newSession, type Session } from '../../shared/session/session.js';
import { applySessionEvent } from '../../shared/session/session-events.js';
import { sweepSessions } from '../../shared/session/sweep-sessions.js';
import { applyEvent } from '../../shared/task/apply-event.js';
import { sweepTasks } from '../../shared/task/sweep-tasks.js';
import { newTask, type Task } from '../../shared/task/task.js';
import { toTaskView } from '../../shared/task/task-view.js';
import { upsertTenant } from '../../shared/tenancy/manage-tenants.js';
import { deliverWebhook, webhookRetryDelaySeconds } from '../../shared/webhooks/deliver-webhook.js';
import { addEndpoint, rotateSigningSecret } from '../../shared/webhooks/manage-webhooks.js';
import type { WebhookRequest, WebhookResponse } from '../../shared/webhooks/ports.js';
import {
  liveSecrets,
  rotateSecrets,
  type SigningSecret,
  signWebhook,
} from '../../shared/webhooks/signing-secrets.js';
import {
  decodeWebhookMessage,
  encodeWebhookMessage,
  MAX_RECORDED_DELIVERIES,
  type WebhookMessage,
} from '../../shared/webhooks/webhook-event.js';
import { type FakeClock, fakeClock } from '../support/fake-clock.js';
import { FakeQueue } from '../support/fakes.js';
import { MemoryConnectionStore, MemorySessionStore, RecordingNotifier } from '../support/session-fakes.js';

const T0 = Date.parse('2026-03-01T00:00:00Z');
const HOUR = 3_600_000;
const body = JSON.stringify({ type: 'task.succeeded', timestamp: new Date(T0).toISOString(), data: {} });

/** Verifies as a receiver does, with the library, at the delivery's own time. */
const verifies = (secret: string, headers: Record<string, string>, at: number, payload = body): boolean => {
  const realNow = Date.now;
  Date.now = () => at;
  try {
    new Webhook(secret).verify(payload, headers);
    return true;
  } catch {
    return false;
  } finally {
    Date.now = realNow;
  }
};

describe('signing secrets', () => {
  it('a delivery signed with one secret verifies with the standardwebhooks library', () => {
    const { secrets, added } = rotateSecrets([], { now: T0, overlapMs: HOUR, random: randomBytes });
    expect(added.secret).toMatch(/^whsec_[A-Za-z0-9+/=]{32}$/);
    const headers = signWebhook(secrets, { id: 'msg_1', now: T0, body });
    expect(headers['webhook-id']).toBe('msg_1');
    expect(headers['webhook-timestamp']).toBe(String(T0 / 1000));
    expect(headers['webhook-signature'].split(' ')).toHaveLength(1);
    expect(verifies(added.secret, headers, T0)).toBe(true);
    expect(
      verifies(rotateSecrets([], { now: T0, overlapMs: 0, random: randomBytes }).added.secret, headers, T0),
    ).toBe(false);
  });

  it('during a rotation overlap both secrets sign (two v1 entries); after it only the new one', () => {
    const first = rotateSecrets([], { now: T0, overlapMs: HOUR, random: randomBytes });
    const second = rotateSecrets(first.secrets, { now: T0 + 10_000, overlapMs: HOUR, random: randomBytes });
    expect(second.secrets).toHaveLength(2);
    const during = T0 + 20_000;
    const both = signWebhook(second.secrets, { id: 'msg_2', now: during, body });
    const entries = both['webhook-signature'].split(' ');
    expect(entries).toHaveLength(2);
    expect(entries.every((e) => e.startsWith('v1,'))).toBe(true);
    expect(verifies(first.added.secret, both, during)).toBe(true);
    expect(verifies(second.added.secret, both, during)).toBe(true);

    const after = T0 + 10_000 + HOUR + 1;
    expect(liveSecrets(second.secrets, after).map((s) => s.secret)).toEqual([second.added.secret]);
    const onlyNew = signWebhook(second.secrets, { id: 'msg_3', now: after, body });
    expect(onlyNew['webhook-signature'].split(' ')).toHaveLength(1);
    expect(verifies(second.added.secret, onlyNew, after)).toBe(true);
    expect(verifies(first.added.secret, onlyNew, after)).toBe(false);
  });

  it('a rotation never extends an overlap already running, and drops retired secrets', () => {
    const a = rotateSecrets([], { now: T0, overlapMs: HOUR, random: randomBytes });
    const b = rotateSecrets(a.secrets, { now: T0 + 1_000, overlapMs: HOUR, random: randomBytes });
    const c = rotateSecrets(b.secrets, { now: T0 + 2_000, overlapMs: 10 * HOUR, random: randomBytes });
    const retiresOf = (s: SigningSecret[], secret: string) => s.find((x) => x.secret === secret)?.retiresAt;
    expect(retiresOf(c.secrets, a.added.secret)).toBe(new Date(T0 + 1_000 + HOUR).toISOString());
    const d = rotateSecrets(c.secrets, { now: T0 + 2 * HOUR, overlapMs: HOUR, random: randomBytes });
    // a retired an hour after b came; b was given c's overlap (ten hours), which d's
    // shorter one (an hour) cuts: the earlier retirement wins.
    expect(retiresOf(c.secrets, b.added.secret)).toBe(new Date(T0 + 2_000 + 10 * HOUR).toISOString());
    expect(d.secrets.map((s) => s.secret)).toEqual([b.added.secret, c.added.secret, d.added.secret]);
    expect(retiresOf(d.secrets, b.added.secret)).toBe(new Date(T0 + 3 * HOUR).toISOString());
  });

  it('signing with no live secret is refused, not sent unsigned', () => {
    expect(() => signWebhook([], { id: 'x', now: T0, body })).toThrow(/no live signing secret/);
  });
});

describe('adding a tenant endpoint', () => {
  const admin = async () => {
    const tenants = new MemoryTenantStore();
    const clock = fakeClock(T0);
    const deps = {
      tenants,
      clock,
      random: randomBytes,
      checkDestination: async () => ({
        allowed: true as const,
        host: 'hooks.test',
        port: 443,
        addresses: ['203.0.113.9'],
      }),
    };
    await upsertTenant(deps, { tenantId: 'acme' });
    const secretsOf = async () => (await tenants.getTenant('acme'))?.webhooks?.secrets ?? [];
    return { deps, clock, secretsOf };
  };

  it('gives a tenant without a secret its first one, in the same write, and answers it once', async () => {
    const { deps, secretsOf } = await admin();
    const added = await addEndpoint(deps, { tenantId: 'acme', url: 'https://hooks.test/a' });
    expect(added.secret?.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(await secretsOf()).toEqual([
      { secret: added.secret?.secret, createdAt: new Date(T0).toISOString() },
    ]);
    // The secret it answered is the one deliveries are signed with.
    const headers = signWebhook(await secretsOf(), { id: 'msg_1', now: T0, body });
    expect(verifies(added.secret?.secret as string, headers, T0)).toBe(true);
    // The second endpoint finds the secret: nothing new, nothing shown.
    const second = await addEndpoint(deps, { tenantId: 'acme', url: 'https://hooks.test/b' });
    expect(second.secret).toBeUndefined();
    expect((await secretsOf()).map((s) => s.secret)).toEqual([added.secret?.secret]);
  });

  it('leaves a live secret alone, and replaces only retired ones', async () => {
    const { deps, clock, secretsOf } = await admin();
    const rotated = await rotateSigningSecret(deps, { tenantId: 'acme' });
    const kept = await addEndpoint(deps, { tenantId: 'acme', url: 'https://hooks.test/a' });
    expect(kept.secret).toBeUndefined();
    expect(await secretsOf()).toEqual([rotated.secret]);

    // Its overlap ran out with no rotation after it (a tenant row edited by hand, say).
    const tenant = await deps.tenants.getTenant('acme');
    if (tenant?.webhooks === undefined) throw new Error('no webhooks');
    const retired = { ...rotated.secret, retiresAt: new Date(T0 + 1_000).toISOString() };
    await deps.tenants.putTenant({ ...tenant, webhooks: { ...tenant.webhooks, secrets: [retired] } });
    clock.jump(1_000);
    const fresh = await addEndpoint(deps, { tenantId: 'acme', url: 'https://hooks.test/b' });
    expect(fresh.secret?.secret).toMatch(/^whsec_/);
    expect(fresh.secret?.secret).not.toBe(rotated.secret.secret);
    // The retired one is dropped, as a rotation drops it.
    expect(await secretsOf()).toEqual([fresh.secret]);
  });
});

describe('webhook backoff', () => {
  it('is whole seconds within [max(1, ceiling/2), ceiling], growing with the attempt up to the cap', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1_000, max: 600_000 }),
        fc.integer({ min: 1_000, max: 900_000 }),
        fc.double({ min: 0, max: 0.999_999, noNaN: true }),
        (attempt, baseMs, capMs, r) => {
          const seconds = webhookRetryDelaySeconds(attempt, { baseMs, capMs }, () => r);
          const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt - 1, 30));
          expect(Number.isInteger(seconds)).toBe(true);
          expect(seconds).toBeGreaterThanOrEqual(Math.max(1, Math.floor(ceiling / 2 / 1000)));
          expect(seconds).toBeLessThanOrEqual(Math.max(1, Math.ceil(ceiling / 1000)));
          expect(seconds).toBeLessThanOrEqual(900);
        },
      ),
    );
  });
});

const endedTask = async (store: MemoryTaskStore, webhook: { url?: string } | undefined): Promise<Task> => {
  const clock = fakeClock(T0);
  const task = newTask({
    id: `t-${Math.random().toString(36).slice(2)}`,
    tenantId: 'acme',
    spec: { type: 'content', options: {} } as never,
    url: 'http://fixture.test/',
    webhook,
    now: T0,
  });
  await store.create(task);
  const out = await applyEvent(store, task, { kind: 'cancel' }, () => clock.now());
  if (!out.ok) throw new Error('cancel refused');
  return out.task;
};

describe('the outbox', () => {
  it('ending a task with a webhook owes its event in the same write; without one, nothing', async () => {
    const store = new MemoryTaskStore();
    const withHook = await endedTask(store, { url: 'https://hooks.example/a' });
    expect(withHook.outbox).toEqual({
      eventId: `msg_task_${withHook.id}`,
      type: 'task.cancelled',
      dueAt: T0,
    });
    expect((await store.get(withHook.id))?.outbox).toBeDefined();
    const without = await endedTask(store, undefined);
    expect(without.outbox).toBeUndefined();
  });

  it('the sweeper relays an owed event once per resend window, and not after the deliverer took it', async () => {
    const store = new MemoryTaskStore();
    const task = await endedTask(store, { url: 'https://hooks.example/a' });
    const sent: WebhookMessage[] = [];
    const clock = fakeClock(T0 + 1);
    const deps = {
      store,
      queue: new FakeQueue(),
      clock,
      resendAfterMs: 60_000,
      webhooks: { send: async (m: WebhookMessage) => void sent.push(m) },
    };
    expect((await sweepTasks(deps)).webhooksSent).toBe(1);
    expect(sent).toEqual([{ eventId: `msg_task_${task.id}`, type: 'task.cancelled', taskId: task.id }]);
    expect((await sweepTasks(deps)).webhooksSent).toBe(0);
    clock.jump(60_001);
    // Not yet taken by the deliverer (the send may have been lost): sent again.
    expect((await sweepTasks(deps)).webhooksSent).toBe(1);
    const current = (await store.get(task.id)) as Task;
    const { outbox: _outbox, ...taken } = current;
    await store.save({ ...taken, version: current.version + 1 }, current);
    clock.jump(60_001);
    expect((await sweepTasks(deps)).webhooksSent).toBe(0);
  });
});

/** A tenant with one live secret and `endpoints` taking task.cancelled and session.ended. */
const secrets = rotateSecrets([], { now: T0 - 1, overlapMs: HOUR, random: randomBytes }).secrets;
const world = (answers: (req: WebhookRequest) => WebhookResponse, endpoints: string[] = []) => {
  const store = new MemoryTaskStore();
  const requests: WebhookRequest[] = [];
  const deps = {
    store,
    sessions: new MemorySessionStore(),
    tenantWebhooks: async () => ({
      secrets,
      endpoints: endpoints.map((url, i) => ({
        id: `ep_${i}`,
        url,
        events: ['task.cancelled' as const, 'session.ended' as const],
        createdAt: new Date(T0).toISOString(),
      })),
    }),
    sender: {
      send: async (req: WebhookRequest) => {
        requests.push(req);
        return answers(req);
      },
    },
    present: async (task: Task) => toTaskView(task),
    clock: fakeClock(T0 + 5),
    backoff: { baseMs: 1_000, capMs: 4_000 },
    random: () => 0.5,
    maxAttempts: 3,
  };
  return { store, sessions: deps.sessions, requests, deps };
};

describe('a delivery', () => {
  it('is signed, records the attempt on the task, and clears the outbox', async () => {
    const { store, requests, deps } = world(() => ({ status: 204, ms: 3 }));
    const task = await endedTask(store, { url: 'https://hooks.example/a' });
    const message = { eventId: `msg_task_${task.id}`, type: 'task.cancelled' as const, taskId: task.id };
    expect(await deliverWebhook(deps, { message: { ...message, attempt: 1 } })).toEqual({
      kind: 'delivered',
      targets: 1,
    });
    const [request] = requests;
    expect(request?.headers['webhook-id']).toBe(message.eventId);
    const payload = JSON.parse(request?.body ?? '{}');
    expect(payload).toMatchObject({ type: 'task.cancelled', data: { id: task.id, status: 'cancelled' } });
    expect(verifies(secrets[0]?.secret ?? '', request?.headers ?? {}, T0 + 5, request?.body)).toBe(true);
    const after = (await store.get(task.id)) as Task;
    expect(after.outbox).toBeUndefined();
    expect(after.webhook?.deliveries).toEqual([
      { at: new Date(T0 + 5).toISOString(), url: 'https://hooks.example/a', status: 204, ms: 3 },
    ]);
  });

  it('retries only the targets that failed, with backoff, and is exhausted after the last attempt', async () => {
    const { store, requests, deps } = world(
      (req) => (req.url.endsWith('/down') ? { error: 'ECONNREFUSED', ms: 1 } : { status: 200, ms: 2 }),
      ['https://hooks.example/down'],
    );
    const task = await endedTask(store, { url: 'https://hooks.example/a' });
    const message = { eventId: `msg_task_${task.id}`, type: 'task.cancelled' as const, taskId: task.id };
    expect(await deliverWebhook(deps, { message: { ...message, attempt: 1 } })).toEqual({
      kind: 'retry',
      failed: 1,
      delaySeconds: 1,
    });
    expect(await deliverWebhook(deps, { message: { ...message, attempt: 2 } })).toEqual({
      kind: 'retry',
      failed: 1,
      delaySeconds: 2,
    });
    expect(await deliverWebhook(deps, { message: { ...message, attempt: 3 } })).toEqual({
      kind: 'exhausted',
      failed: 1,
    });
    // The receiver that answered 200 got the event once; the one that was down, three times.
    expect(requests.map((r) => r.url)).toEqual([
      'https://hooks.example/a',
      'https://hooks.example/down',
      'https://hooks.example/down',
      'https://hooks.example/down',
    ]);
    expect((await store.get(task.id))?.webhook?.deliveries.at(-1)).toMatchObject({ error: 'ECONNREFUSED' });
  });

  it('keeps only the last attempts on the task', async () => {
    const { store, deps } = world(() => ({ status: 503, ms: 1 }));
    const task = await endedTask(store, { url: 'https://hooks.example/a' });
    const message = { eventId: `msg_task_${task.id}`, type: 'task.cancelled' as const, taskId: task.id };
    for (let attempt = 1; attempt <= MAX_RECORDED_DELIVERIES + 3; attempt++) {
      await deliverWebhook({ ...deps, maxAttempts: 100 }, { message: { ...message, attempt } });
    }
    const deliveries = (await store.get(task.id))?.webhook?.deliveries ?? [];
    expect(deliveries).toHaveLength(MAX_RECORDED_DELIVERIES);
    expect(deliveries[0]).toMatchObject({ status: 503, error: 'answered 503' });
  });
});

describe("a session's end", () => {
  const options = {
    timeoutMs: 60_000,
    idleTimeoutMs: 30_000,
    viewport: { width: 800, height: 600, deviceScaleFactor: 1 },
  };
  /** A session created owing its end event, then closed by its client at T0. */
  const closedSession = async (sessions: MemorySessionStore, webhook = true): Promise<Session> => {
    const created = newSession({
      id: `s-${sessions.rows.size + 1}`,
      tenantId: 't1',
      options,
      now: T0,
      webhook,
    });
    await sessions.create(created, { maxLive: 5 });
    const out = await applySessionEvent(sessions, created, { kind: 'close' }, () => T0);
    if (!out.ok) throw new Error('close refused');
    return out.session;
  };
  const sweepDeps = (sessions: MemorySessionStore, clock: FakeClock, sent: WebhookMessage[]) => ({
    sessions,
    sessionQueue: { send: async () => {} },
    connections: new MemoryConnectionStore(),
    notifier: new RecordingNotifier(),
    clock,
    resendAfterMs: 60_000,
    maxPendingMs: 120_000,
    webhooks: { send: async (m: WebhookMessage) => void sent.push(m) },
  });

  it('is owed from the write that ends the session, and relayed once per resend window', async () => {
    const sessions = new MemorySessionStore();
    const s = await closedSession(sessions);
    await closedSession(sessions, false);
    expect(sessions.row(s.id).outbox).toEqual({
      eventId: `msg_session_${s.id}`,
      type: 'session.ended',
      dueAt: T0,
    });
    const sent: WebhookMessage[] = [];
    const clock = fakeClock(T0 + 1);
    const deps = sweepDeps(sessions, clock, sent);
    expect((await sweepSessions(deps)).webhooksSent).toBe(1);
    // Only the session whose tenant takes the event; keyed by tenant, as its row is.
    expect(sent).toEqual([
      { eventId: `msg_session_${s.id}`, type: 'session.ended', tenantId: 't1', sessionId: s.id },
    ]);
    expect((await sweepSessions(deps)).webhooksSent).toBe(0);
    clock.jump(60_001);
    expect((await sweepSessions(deps)).webhooksSent).toBe(1);
  });

  it('is delivered signed, with the session as data, recorded on the row, and the outbox cleared', async () => {
    const { sessions, requests, deps } = world(
      (req) => (req.url.endsWith('/down') ? { status: 500, ms: 1 } : { status: 200, ms: 2 }),
      ['https://hooks.example/a', 'https://hooks.example/down'],
    );
    const s = await closedSession(sessions);
    const message = {
      eventId: `msg_session_${s.id}`,
      type: 'session.ended' as const,
      tenantId: 't1',
      sessionId: s.id,
    };
    expect(await deliverWebhook(deps, { message })).toMatchObject({ kind: 'retry', failed: 1 });
    const [ok] = requests;
    expect(ok?.headers['webhook-id']).toBe(message.eventId);
    expect(verifies(secrets[0]?.secret ?? '', ok?.headers ?? {}, T0 + 5, ok?.body)).toBe(true);
    const payload = JSON.parse(ok?.body ?? '{}');
    expect(payload).toMatchObject({
      type: 'session.ended',
      data: { id: s.id, status: 'closed', endReason: { code: 'CLOSED_BY_CLIENT' } },
    });
    // An ended session hands out no URLs: no tickets in a webhook body.
    expect(payload.data.cdpUrl).toBeUndefined();
    const after = sessions.row(s.id);
    expect(after.outbox).toBeUndefined();
    expect(after.webhook?.delivered).toEqual(['https://hooks.example/a']);
    expect(after.webhook?.deliveries.map((d) => d.status)).toEqual([200, 500]);
    // The retry goes only to the endpoint that failed.
    await deliverWebhook(deps, { message: { ...message, attempt: 2 } });
    expect(requests.map((r) => r.url).slice(2)).toEqual(['https://hooks.example/down']);
    // Another tenant's id finds nothing: the message is keyed by the tenant.
    expect(await deliverWebhook(deps, { message: { ...message, tenantId: 't2' } })).toEqual({
      kind: 'nothing',
      reason: 'missing',
    });
  });
});

describe('the webhook message codec', () => {
  it('reads back what it writes for tasks and sessions, and refuses a mix or a mismatched type', () => {
    const task = { eventId: 'msg_task_a', type: 'task.failed' as const, taskId: 'a', attempt: 2 };
    const session = {
      eventId: 'msg_session_b',
      type: 'session.ended' as const,
      tenantId: 't1',
      sessionId: 'b',
    };
    expect(decodeWebhookMessage(encodeWebhookMessage(task))).toEqual(task);
    expect(decodeWebhookMessage(encodeWebhookMessage(session))).toEqual(session);
    expect(decodeWebhookMessage(JSON.stringify({ ...task, type: 'session.ended' }))).toBeUndefined();
    expect(decodeWebhookMessage(JSON.stringify({ ...session, type: 'task.failed' }))).toBeUndefined();
    expect(decodeWebhookMessage(JSON.stringify({ ...session, taskId: 'a' }))).toBeUndefined();
    expect(decodeWebhookMessage('not json')).toBeUndefined();
  });
});
