/**
 * The task store contract, run against the in-memory twin and against DynamoDB Local
 * through the real adapter, so the fake the unit tests lean on can't drift.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsClients, createAwsClients, destroyAwsClients } from '../../shared/adapters/aws-clients.js';
import { DynamoDbTaskStore } from '../../shared/adapters/dynamodb-task-store.js';
import { MemoryTaskStore } from '../../shared/adapters/memory-task-store.js';
import type { TaskStore } from '../../shared/task/ports.js';
import { newTask, type Task, transition } from '../../shared/task/task.js';
import { screenshotOptionsSchema } from '../../shared/task/task-input.js';
import { startTestCloud } from '../support/local-cloud.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const fresh = (): Task =>
  newTask({
    id: randomUUID(),
    tenantId: 'ten',
    type: 'screenshot',
    url: 'http://example.test/',
    options: screenshotOptionsSchema.parse({ viewport: { width: 800 } }),
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
  cloud = await startTestCloud({ worker: false });
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
    const outcomes = await Promise.all([
      store.save(a, { status: 'queued', leaseToken: 0 }),
      store.save(b, { status: 'queued', leaseToken: 0 }),
    ]);
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
    expect(await store.save(first, { status: 'queued', leaseToken: 0 })).toEqual({ saved: true });
    // The lease expires; a second worker takes over with token 2.
    const second = apply(first, { kind: 'claim', owner: 'new', leaseMs: 10_000 }, T0 + 100);
    expect(await store.save(second, { status: 'running', leaseToken: 1 })).toEqual({ saved: true });
    // The old worker finishes late and tries to complete with token 1: refused.
    const late = apply(first, { kind: 'succeed', leaseToken: 1, result: { artifacts: [] } });
    const refused = await store.save(late, { status: 'running', leaseToken: 1 });
    expect(refused).toMatchObject({ saved: false, current: { leaseToken: 2, lease: { owner: 'new' } } });
    // The new owner completes.
    const done = apply(second, { kind: 'succeed', leaseToken: 2, result: { artifacts: [] } }, T0 + 200);
    expect(await store.save(done, { status: 'running', leaseToken: 2 })).toEqual({ saved: true });
    expect(await store.get(task.id)).toMatchObject({ status: 'succeeded', leaseToken: 2 });
  });

  it('answers a save of a missing row with saved: false and no row', async () => {
    const store = makeStore();
    expect(await store.save(fresh(), { status: 'queued', leaseToken: 0 })).toEqual({
      saved: false,
      current: undefined,
    });
  });
});
