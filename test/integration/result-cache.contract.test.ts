/**
 * The result cache's store contract, run against the in-memory twin and against DynamoDB
 * Local through the real adapter (so the unit tests' fake can't drift), plus what only the
 * row shows: its key layout and the TTL attribute DynamoDB deletes it by.
 */
import { randomUUID } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsClients, createAwsClients, destroyAwsClients } from '../../shared/adapters/aws-clients.js';
import { DynamoDbResultCache } from '../../shared/adapters/dynamodb-result-cache.js';
import { MemoryResultCache } from '../../shared/adapters/memory-result-cache.js';
import { KEYS, STATE_TABLE } from '../../shared/contracts.js';
import type { ResultCache } from '../../shared/task/ports.js';
import type { ResultCacheEntry } from '../../shared/task/result-cache.js';
import { startTestCloud } from '../support/local-cloud.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const entry = (overrides: Partial<ResultCacheEntry> = {}): ResultCacheEntry => ({
  tenantId: 'ten',
  key: 'a'.repeat(64),
  sourceTaskId: randomUUID(),
  result: {
    artifacts: [
      { name: 'screenshot.png', contentType: 'image/png', size: 3, key: 'tasks/x/1/screenshot.png' },
    ],
    finalUrl: 'http://fixture.test/',
    httpStatus: 200,
    data: { nested: [1, 'two', { three: null }] },
  },
  endedAtMs: T0,
  expiresAtMs: T0 + 60_000,
  ...overrides,
});

let cloud: Awaited<ReturnType<typeof startTestCloud>>;
let clients: AwsClients;
beforeAll(async () => {
  cloud = await startTestCloud({ worker: false, lambdaTier: false, sweeper: false });
  clients = createAwsClients({ region: 'us-east-1', endpoints: cloud.endpoints });
});
afterAll(async () => {
  destroyAwsClients(clients);
  await cloud?.dispose();
});

const suites: [string, () => ResultCache][] = [
  ['memory', () => new MemoryResultCache()],
  ['dynamodb', () => new DynamoDbResultCache(clients.dynamo, cloud.names.stateTable)],
];

describe.each(suites)('result cache contract (%s)', (_name, makeCache) => {
  it('round-trips an entry exactly, and finds nothing under another key', async () => {
    const cache = makeCache();
    const key = randomUUID().replace(/-/g, '');
    const recorded = entry({ key });
    await cache.record(recorded);
    expect(await cache.get('ten', key)).toEqual(recorded);
    expect(await cache.get('ten', `${key}0`)).toBeUndefined();
  });

  it("keeps tenants apart: one tenant's entry is never another's", async () => {
    const cache = makeCache();
    const key = randomUUID().replace(/-/g, '');
    await cache.record(entry({ key, tenantId: 'alpha' }));
    expect(await cache.get('beta', key)).toBeUndefined();
    await cache.record(entry({ key, tenantId: 'beta', sourceTaskId: 'b-task' }));
    expect((await cache.get('alpha', key))?.sourceTaskId).not.toBe('b-task');
    expect((await cache.get('beta', key))?.sourceTaskId).toBe('b-task');
  });

  it('keeps the newer result, whichever write lands last', async () => {
    const cache = makeCache();
    const key = randomUUID().replace(/-/g, '');
    const newer = entry({ key, sourceTaskId: 'newer', endedAtMs: T0 + 5_000, expiresAtMs: T0 + 10_000 });
    const older = entry({ key, sourceTaskId: 'older', endedAtMs: T0, expiresAtMs: T0 + 3_600_000 });
    await cache.record(newer);
    await cache.record(older);
    expect((await cache.get('ten', key))?.sourceTaskId).toBe('newer');
    const newest = entry({ key, sourceTaskId: 'newest', endedAtMs: T0 + 6_000, expiresAtMs: T0 + 7_000 });
    await cache.record(newest);
    expect(await cache.get('ten', key)).toEqual(newest);
  });

  it('answers an expired entry as it is (freshness is judged by the caller’s clock)', async () => {
    const cache = makeCache();
    const key = randomUUID().replace(/-/g, '');
    const old = entry({ key, endedAtMs: 1_000, expiresAtMs: 2_000 });
    await cache.record(old);
    expect(await cache.get('ten', key)).toEqual(old);
  });
});

describe('the DynamoDB row', () => {
  it('sits under the contract key with its expiry in epoch seconds for DynamoDB TTL', async () => {
    const cache = new DynamoDbResultCache(clients.dynamo, cloud.names.stateTable);
    const key = randomUUID().replace(/-/g, '');
    await cache.record(entry({ key, expiresAtMs: T0 + 60_500 }));
    const { Item } = await clients.dynamo.send(
      new GetCommand({
        TableName: cloud.names.stateTable,
        Key: { pk: KEYS.resultCachePk('ten', key), sk: KEYS.resultCacheSk },
      }),
    );
    expect(Item).toMatchObject({ entity: 'resultCache', [STATE_TABLE.ttlAttribute]: (T0 + 61_000) / 1000 });
  });
});
