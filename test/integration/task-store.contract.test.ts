/**
 * The task store and idempotency store contracts, run against the in-memory twins and
 * against DynamoDB Local through the real adapters, so the fakes the unit tests lean on
 * can't drift.
 */
import { randomUUID } from 'node:crypto';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsClients, createAwsClients, destroyAwsClients } from '../../shared/adapters/aws-clients.js';
import { DynamoDbIdempotencyStore } from '../../shared/adapters/dynamodb-idempotency-store.js';
import { DynamoDbRateBucketStore } from '../../shared/adapters/dynamodb-rate-bucket-store.js';
import { DynamoDbSessionStore } from '../../shared/adapters/dynamodb-session-store.js';
import { DynamoDbTaskStore } from '../../shared/adapters/dynamodb-task-store.js';
import { MemoryIdempotencyStore } from '../../shared/adapters/memory-idempotency-store.js';
import { MemoryTaskStore } from '../../shared/adapters/memory-task-store.js';
import { KEYS, STATE_TABLE } from '../../shared/contracts.js';
import { newTimeOrderedId } from '../../shared/ids.js';
import { newSession } from '../../shared/session/session.js';
import { createSessionInputSchema } from '../../shared/session/session-input.js';
import type { IdempotencyStore, TaskStore } from '../../shared/task/ports.js';
import { newTask, type Task, transition } from '../../shared/task/task.js';
import { screenshotOptionsSchema } from '../../shared/task/task-input.js';
import { startTestCloud } from '../support/local-cloud.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const fresh = (): Task =>
  newTask({
    id: randomUUID(),
    tenantId: 'ten',
    spec: { type: 'screenshot', options: screenshotOptionsSchema.parse({ viewport: { width: 800 } }) },
    url: 'http://example.test/',
    now: T0,
  });
const apply = (task: Task, event: Parameters<typeof transition>[1], at = T0 + 1): Task => {
  const out = transition(task, event, at);
  if (!out.ok) throw new Error(out.reason);
  return out.task;
};

let cloud: Awaited<ReturnType<typeof startTestCloud>>;
let clients: AwsClients;
beforeAll(async () => {
  cloud = await startTestCloud({ worker: false, lambdaTier: false });
  clients = createAwsClients({ region: 'us-east-1', endpoints: cloud.endpoints });
});
afterAll(async () => {
  destroyAwsClients(clients);
  await cloud?.dispose();
});

const suites: [string, () => TaskStore][] = [
  ['memory', () => new MemoryTaskStore()],
  ['dynamodb', () => new DynamoDbTaskStore(clients.dynamo, cloud.names.stateTable)],
];

describe.each(suites)('task store contract (%s)', (_name, makeStore) => {
  it('round-trips a task exactly', async () => {
    const store = makeStore();
    const task = fresh();
    await store.create(task);
    expect(await store.get(task.id)).toEqual(task);
    expect(await store.get(randomUUID())).toBeUndefined();
  });

  it('refuses to create the same id twice with CONFLICT', async () => {
    const store = makeStore();
    const task = fresh();
    await store.create(task);
    await expect(store.create(task)).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('lets exactly one of two racing claims win, and answers the loser with the row', async () => {
    const store = makeStore();
    const task = fresh();
    await store.create(task);
    const a = apply(task, { kind: 'claim', owner: 'a', leaseMs: 1000 });
    const b = apply(task, { kind: 'claim', owner: 'b', leaseMs: 1000 });
    const outcomes = await Promise.all([store.save(a, task), store.save(b, task)]);
    expect(outcomes.filter((o) => o.saved)).toHaveLength(1);
    const loser = outcomes.find((o) => !o.saved);
    expect(loser).toMatchObject({ saved: false, current: { status: 'running', leaseToken: 1 } });
    const winner = (await store.get(task.id))?.lease?.owner;
    expect(['a', 'b']).toContain(winner);
  });

  it('fences out a stale worker after a takeover', async () => {
    const store = makeStore();
    const task = fresh();
    await store.create(task);
    const first = apply(task, { kind: 'claim', owner: 'old', leaseMs: 10 });
    expect(await store.save(first, task)).toEqual({ saved: true });
    // The lease expires; a second worker takes over with token 2.
    const second = apply(first, { kind: 'claim', owner: 'new', leaseMs: 10_000 }, T0 + 100);
    expect(await store.save(second, first)).toEqual({ saved: true });
    // The old worker finishes late and tries to complete from its copy: the write is refused,
    // and on the row it gets back the state machine refuses its token.
    const late = apply(first, { kind: 'succeed', leaseToken: 1, result: { artifacts: [] } });
    const refused = await store.save(late, first);
    expect(refused).toMatchObject({ saved: false, current: { leaseToken: 2, lease: { owner: 'new' } } });
    if (refused.saved || !('current' in refused) || refused.current === undefined) {
      throw new Error('expected the row back');
    }
    expect(
      transition(refused.current, { kind: 'succeed', leaseToken: 1, result: { artifacts: [] } }, T0 + 150),
    ).toEqual({ ok: false, reason: 'stale-token' });
    // The new owner completes.
    const done = apply(second, { kind: 'succeed', leaseToken: 2, result: { artifacts: [] } }, T0 + 200);
    expect(await store.save(done, second)).toEqual({ saved: true });
    expect(await store.get(task.id)).toMatchObject({ status: 'succeeded', leaseToken: 2 });
  });

  it('answers a save of a missing row with saved: false and no row', async () => {
    const store = makeStore();
    expect(await store.save(fresh(), fresh())).toEqual({ saved: false, current: undefined });
  });

  it('lists live tasks whose sweep is due, by status, and drops ended ones from the list', async () => {
    const store = makeStore();
    const base = 1_900_000_000_000 + Math.floor(Math.random() * 1e9);
    const make = (offset: number) => ({ ...fresh(), availableAt: base + offset, enqueuedAt: base + offset });
    const early = make(10);
    const late = make(1_000);
    await store.create(early);
    await store.create(late);
    const ids = (await store.listDue('queued', base + 500, 1000)).map((t) => t.id);
    expect(ids).toContain(early.id);
    expect(ids).not.toContain(late.id);
    // Claimed, it moves to the running list, due when its lease runs out.
    const running = apply(early, { kind: 'claim', owner: 'w', leaseMs: 100 }, base + 20);
    await store.save(running, early);
    expect((await store.listDue('queued', base + 500, 1000)).map((t) => t.id)).not.toContain(early.id);
    expect((await store.listDue('running', base + 121, 1000)).map((t) => t.id)).toContain(early.id);
    expect((await store.listDue('running', base + 119, 1000)).map((t) => t.id)).not.toContain(early.id);
    // Ended, it is on neither list.
    const done = apply(running, { kind: 'succeed', leaseToken: 1, result: { artifacts: [] } }, base + 30);
    await store.save(done, running);
    expect((await store.listDue('running', base + 10_000, 1000)).map((t) => t.id)).not.toContain(early.id);
    expect((await store.get(early.id))?.status).toBe('succeeded');
  });
  it("reads a tenant's history newest first, from a position, since a time, filtered", async () => {
    const store = makeStore();
    const tenantId = `hist-${randomUUID().slice(0, 8)}`;
    const made: Task[] = [];
    for (let i = 0; i < 7; i++) {
      // Two tasks in the same millisecond: the id orders them.
      const at = T0 + Math.min(i, 5) * 1000;
      const task = { ...fresh(), id: newTimeOrderedId(at), tenantId, createdAt: new Date(at).toISOString() };
      made.push(i === 3 ? { ...task, status: 'cancelled' } : task);
    }
    for (const task of made) await store.create(task);
    await store.create({ ...fresh(), tenantId: `${tenantId}-other` });
    const newestFirst = [...made].sort((a, b) =>
      `${b.createdAt}#${b.id}`.localeCompare(`${a.createdAt}#${a.id}`),
    );
    const ids = (tasks: Task[]) => tasks.map((t) => t.id);

    const first = await store.listByTenant(tenantId, { maxRows: 3 });
    expect(ids(first.tasks)).toEqual(ids(newestFirst.slice(0, 3)));
    expect(first.tasks[0]).toEqual(newestFirst[0]);
    expect(first.last).toEqual({ createdAt: newestFirst[2]?.createdAt, id: newestFirst[2]?.id });
    const rest = await store.listByTenant(tenantId, {
      maxRows: 10,
      ...(first.last ? { after: first.last } : {}),
    });
    expect(ids(rest.tasks)).toEqual(ids(newestFirst.slice(3)));
    expect(rest.last).toBeUndefined();

    const since = new Date(T0 + 4000).toISOString();
    const recent = await store.listByTenant(tenantId, { maxRows: 10, since });
    expect(ids(recent.tasks)).toEqual(ids(newestFirst.filter((t) => t.createdAt >= since)));
    expect(recent.tasks).toHaveLength(3);

    // A filter applies to the rows read: 4 rows read, one of them cancelled.
    const cancelled = await store.listByTenant(tenantId, { maxRows: 4, status: 'cancelled' });
    expect(ids(cancelled.tasks)).toEqual([made[3]?.id]);
    expect(cancelled.last).toEqual({ createdAt: newestFirst[3]?.createdAt, id: newestFirst[3]?.id });
    expect((await store.listByTenant(tenantId, { maxRows: 10, type: 'pdf' })).tasks).toEqual([]);
    expect((await store.listByTenant(`${tenantId}-none`, { maxRows: 10 })).tasks).toEqual([]);
  });

  it('keeps exact queued/running counts per tenant and refuses a claim past maxRunning', async () => {
    const store = makeStore();
    const tenantId = `t-${randomUUID()}`;
    const tasks = [fresh(), fresh(), fresh()].map((t) => ({ ...t, tenantId }));
    for (const t of tasks) await store.create(t);
    expect(await store.usage(tenantId)).toEqual({ queuedTasks: 3, runningTasks: 0 });
    const claims = tasks.map((t, i) => apply(t, { kind: 'claim', owner: `w${i}`, leaseMs: 1000 }));
    const outcomes = await Promise.all(
      claims.map((c, i) => store.save(c, tasks[i] as Task, { maxRunning: 2 })),
    );
    expect(outcomes.filter((o) => o.saved)).toHaveLength(2);
    expect(outcomes.filter((o) => !o.saved && 'quotaExceeded' in o)).toHaveLength(1);
    expect(await store.usage(tenantId)).toEqual({ queuedTasks: 1, runningTasks: 2 });
    // One ends: a place frees up.
    const winner = claims.find((_, i) => outcomes[i]?.saved) as Task;
    await store.save(apply(winner, { kind: 'succeed', leaseToken: 1, result: { artifacts: [] } }), winner);
    expect(await store.usage(tenantId)).toEqual({ queuedTasks: 1, runningTasks: 1 });
  });
});

const idempotencySuites: [string, () => IdempotencyStore][] = [
  ['memory', () => new MemoryIdempotencyStore()],
  ['dynamodb', () => new DynamoDbIdempotencyStore(clients.dynamo, cloud.names.stateTable)],
];

describe.each(idempotencySuites)('idempotency store contract (%s)', (_name, makeStore) => {
  const NOW = 1_800_000_000;
  const record = (key: string, taskId: string, tenantId = 'ten') => ({
    tenantId,
    key,
    requestHash: `hash-of-${taskId}`,
    taskId,
    expiresAt: NOW + 100,
  });

  it('claims a key once; until it expires, a second claim answers the first record', async () => {
    const store = makeStore();
    const key = randomUUID();
    expect(await store.claim(record(key, 'first'), NOW)).toEqual({ claimed: true });
    expect(await store.claim(record(key, 'second'), NOW + 99)).toEqual({
      claimed: false,
      existing: record(key, 'first'),
    });
  });

  it('counts an expired key as absent (TTL deletion may lag by days)', async () => {
    const store = makeStore();
    const key = randomUUID();
    await store.claim(record(key, 'first'), NOW);
    const later = { ...record(key, 'second'), expiresAt: NOW + 500 };
    expect(await store.claim(later, NOW + 100)).toEqual({ claimed: true });
    expect(await store.claim(record(key, 'third'), NOW + 101)).toEqual({ claimed: false, existing: later });
  });

  it("keeps one tenant's keys apart from another's", async () => {
    const store = makeStore();
    const key = randomUUID();
    await store.claim(record(key, 'alpha-task', 'alpha'), NOW);
    expect(await store.claim(record(key, 'beta-task', 'beta'), NOW)).toEqual({ claimed: true });
  });
});

describe('listing a tenant with a long session history (DynamoDB)', () => {
  it('reads the newest page, not the whole history', async () => {
    const store = new DynamoDbSessionStore(clients.dynamo, cloud.names.stateTable);
    const tenantId = `history-${randomUUID()}`;
    const options = createSessionInputSchema.parse({});
    const ids: string[] = [];
    for (let i = 0; i < 120; i++) {
      const now = T0 + i * 1_000;
      const id = newTimeOrderedId(now);
      ids.push(id);
      await store.create(newSession({ id, tenantId, options, now }), { maxLive: 1_000 });
    }
    let scanned = 0;
    clients.dynamo.middlewareStack.add(
      (next) => async (args) => {
        const out = await next(args);
        scanned += (out.output as { ScannedCount?: number }).ScannedCount ?? 0;
        return out;
      },
      { step: 'initialize', name: 'countScanned' },
    );
    try {
      const newest = await store.list(tenantId, { limit: 5 });
      expect(newest.map((s) => s.id)).toEqual(ids.slice(-5).reverse());
      expect(scanned).toBe(5);
    } finally {
      clients.dynamo.middlewareStack.remove('countScanned');
    }
  });
});

describe('task history after an upgrade (DynamoDB)', () => {
  it('backfills the history keys of rows written without them, once, without touching their values', async () => {
    const store = new DynamoDbTaskStore(clients.dynamo, cloud.names.stateTable);
    const tenantId = `old-${randomUUID().slice(0, 8)}`;
    const old = { ...fresh(), id: newTimeOrderedId(T0), tenantId };
    await store.create(old);
    // As a release without the index wrote it.
    await clients.dynamo.send(
      new UpdateCommand({
        TableName: cloud.names.stateTable,
        Key: { pk: KEYS.taskPk(old.id), sk: KEYS.taskSk },
        UpdateExpression: 'REMOVE #hpk, #hsk',
        ExpressionAttributeNames: {
          '#hpk': STATE_TABLE.taskHistoryIndex.partitionKey,
          '#hsk': STATE_TABLE.taskHistoryIndex.sortKey,
        },
      }),
    );
    expect((await store.listByTenant(tenantId, { maxRows: 10 })).tasks).toEqual([]);
    expect(await store.backfillHistoryKeys()).toBeGreaterThanOrEqual(1);
    expect((await store.listByTenant(tenantId, { maxRows: 10 })).tasks).toEqual([old]);
    expect(await store.get(old.id)).toEqual(old);
    expect(await store.backfillHistoryKeys()).toBe(0);
  });
});

describe('the rate bucket under a slow (throttled, retried) write (DynamoDB)', () => {
  it('admits a tenant under its rate in one write, and a burst at one write a request', async () => {
    const buckets = new DynamoDbRateBucketStore(clients.dynamo, cloud.names.stateTable);
    const tenantId = `bucket-${randomUUID()}`;
    const limits = { requestsPerSecond: 10, burst: 3 };
    let now = T0;
    const clock = () => now;
    let writes = 0;
    clients.dynamo.middlewareStack.add(
      (next) => async (args) => {
        writes++;
        return next(args);
      },
      { step: 'initialize', name: 'countWrites' },
    );
    try {
      // Idle each time (a request a second, under 10 a second): the idle update, alone.
      for (let i = 0; i < 3; i++, now += 1_000) {
        expect(await buckets.take(tenantId, clock, limits)).toMatchObject({ admitted: true });
      }
      expect(writes).toBe(3);
      // A burst at one instant: busy after the first, and known to be.
      writes = 0;
      const burst = [];
      for (let i = 0; i < 4; i++) burst.push((await buckets.take(tenantId, clock, limits)).admitted);
      expect(burst).toEqual([true, true, true, false]);
      expect(writes).toBe(4);
      // Another store (another container) that saw none of it: a refused guess costs one more.
      writes = 0;
      const fresh = new DynamoDbRateBucketStore(clients.dynamo, cloud.names.stateTable);
      expect(await fresh.take(tenantId, clock, limits)).toMatchObject({ admitted: false });
      expect(writes).toBe(2);
    } finally {
      clients.dynamo.middlewareStack.remove('countWrites');
    }
  });

  it('judges a request at the time its write lands, so a long SDK backoff is not a spurious 429', async () => {
    const buckets = new DynamoDbRateBucketStore(clients.dynamo, cloud.names.stateTable);
    const tenantId = `bucket-${randomUUID()}`;
    const limits = { requestsPerSecond: 1, burst: 1 };
    let now = T0;
    const clock = () => now;
    expect(await buckets.take(tenantId, clock, limits)).toMatchObject({ admitted: true });
    // At the same instant, a second request is over the limit: refused.
    expect(await buckets.take(tenantId, clock, limits)).toMatchObject({ admitted: false });
    // A request asked now whose write takes 1.5 s to land (the SDK backing off a throttle):
    // by then the bucket has room, and it is admitted.
    let delayed = false;
    clients.dynamo.middlewareStack.add(
      (next) => async (args) => {
        if (!delayed) {
          delayed = true;
          now += 1_500;
        }
        return next(args);
      },
      { step: 'initialize', name: 'slowWrite' },
    );
    try {
      expect(await buckets.take(tenantId, clock, limits)).toMatchObject({ admitted: true });
    } finally {
      clients.dynamo.middlewareStack.remove('slowWrite');
    }
  });
});
