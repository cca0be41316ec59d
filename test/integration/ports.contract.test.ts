/**
 * Contract suites for the ports whose fakes the unit tests lean on (tenant, artifact and
 * session stores), each run against the
 * fake and against the real adapter on the local cloud (DynamoDB Local, s3rver), so a fake
 * can't drift from what the adapter does. (The task and idempotency stores have theirs in
 * task-store.contract.test.ts.)
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultFront, startFaultFront } from '../../local/fault-front.js';
import { type AwsClients, createAwsClients, destroyAwsClients } from '../../shared/adapters/aws-clients.js';
import { DynamoDbSessionStore } from '../../shared/adapters/dynamodb-session-store.js';
import { DynamoDbTenantStore } from '../../shared/adapters/dynamodb-tenant-store.js';
import { MemoryTenantStore } from '../../shared/adapters/memory-tenant-store.js';
import { S3ArtifactStore } from '../../shared/adapters/s3-artifact-store.js';
import type { ArtifactReader, ArtifactStore } from '../../shared/core/artifact-store.js';
import { newTimeOrderedId } from '../../shared/ids.js';
import type { SessionStore } from '../../shared/session/ports.js';
import { newSession, type Session, transitionSession } from '../../shared/session/session.js';
import { createSessionInputSchema } from '../../shared/session/session-input.js';
import { DEFAULT_LIMITS, mintApiKey, type Tenant, type TenantStore } from '../../shared/tenancy/tenant.js';
import { FakeArtifacts } from '../support/fakes.js';
import { startTestCloud } from '../support/local-cloud.js';
import { MemorySessionStore } from '../support/session-fakes.js';

let cloud: Awaited<ReturnType<typeof startTestCloud>>;
let clients: AwsClients;
/** Every BatchGetItem through it is answered in part, as DynamoDB does at its throughput limit. */
let partialBatches: FaultFront;
let partialClients: AwsClients;
beforeAll(async () => {
  cloud = await startTestCloud({ worker: false, lambdaTier: false, sweeper: false });
  clients = createAwsClients({ region: 'us-east-1', endpoints: cloud.endpoints });
  partialBatches = await startFaultFront({
    service: 'dynamodb',
    target: cloud.endpoints.dynamodb,
    plan: { rate: 1, seed: 1, slowMs: 0, kinds: ['unprocessed-keys'] },
  });
  partialClients = createAwsClients({
    region: 'us-east-1',
    endpoints: { ...cloud.endpoints, dynamodb: partialBatches.endpoint },
  });
});
afterAll(async () => {
  destroyAwsClients(clients);
  if (partialClients !== undefined) destroyAwsClients(partialClients);
  await partialBatches?.stop();
  await cloud?.dispose();
});

const NOW = Date.parse('2026-12-01T00:00:00Z');
const tenant = (): Tenant => ({
  tenantId: `t-${randomUUID().slice(0, 8)}`,
  name: 'Acme',
  limits: { ...DEFAULT_LIMITS, requestsPerSecond: 7 },
  createdAt: new Date(NOW).toISOString(),
});
let n = 0;
const key = (tenantId: string) =>
  mintApiKey({ tenantId, name: `key ${++n}`, now: NOW + n }, (size) => new Uint8Array(randomBytes(size)));

const tenantStores: [string, () => TenantStore][] = [
  ['memory', () => new MemoryTenantStore()],
  ['dynamodb', () => new DynamoDbTenantStore(clients.dynamo, cloud.names.stateTable)],
  [
    'dynamodb, batch reads answered in part',
    () => new DynamoDbTenantStore(partialClients.dynamo, cloud.names.stateTable),
  ],
];

describe.each(tenantStores)('tenant store contract (%s)', (_name, makeStore) => {
  it('round-trips a tenant, and replaces it on a second put', async () => {
    const store = makeStore();
    const t = tenant();
    expect(await store.getTenant(t.tenantId)).toBeUndefined();
    await store.putTenant(t);
    expect(await store.getTenant(t.tenantId)).toEqual(t);
    const renamed = { ...t, name: 'Acme Corp', limits: { ...t.limits, burst: 3 } };
    await store.putTenant(renamed);
    expect(await store.getTenant(t.tenantId)).toEqual(renamed);
  });

  it('finds a key by its hash, lists only the tenant’s own, and seeds idempotently', async () => {
    const store = makeStore();
    const a = tenant();
    const b = tenant();
    const ka = key(a.tenantId);
    const kb = key(b.tenantId);
    await store.putKey(ka.record);
    await store.putKey(kb.record);
    // A second put of the same hash leaves the first as it is.
    await store.putKey({ ...ka.record, name: 'renamed' });
    expect(await store.getKeyByHash(ka.record.hash)).toEqual(ka.record);
    expect(await store.getKeyByHash('0'.repeat(64))).toBeUndefined();
    expect(await store.listKeys(a.tenantId)).toEqual([ka.record]);
    expect(await store.listKeys(b.tenantId)).toEqual([kb.record]);
  });

  it('reads a key and a tenant together, each absent on its own', async () => {
    const store = makeStore();
    const t = tenant();
    const k = key(t.tenantId);
    await store.putTenant(t);
    await store.putKey(k.record);
    expect(await store.getKeyAndTenant(k.record.hash, t.tenantId)).toEqual({ key: k.record, tenant: t });
    expect(await store.getKeyAndTenant('0'.repeat(64), t.tenantId)).toEqual({ key: undefined, tenant: t });
    expect(await store.getKeyAndTenant(k.record.hash, 'gone')).toEqual({ key: k.record, tenant: undefined });
    // Through the partial front, each of those batches left its tenant's row unprocessed.
    if (_name.includes('in part')) {
      expect(partialBatches.counts().faults['dynamodb.unprocessed-keys']).toBeGreaterThanOrEqual(3);
    }
  });

  it('revokes a key of the tenant by prefix, and says false for another tenant’s', async () => {
    const store = makeStore();
    const a = tenant();
    const b = tenant();
    const ka = key(a.tenantId);
    await store.putKey(ka.record);
    expect(await store.revokeKey(b.tenantId, ka.record.prefix, new Date(NOW).toISOString())).toBe(false);
    expect((await store.getKeyByHash(ka.record.hash))?.revokedAt).toBeUndefined();
    const at = new Date(NOW + 5_000).toISOString();
    expect(await store.revokeKey(a.tenantId, ka.record.prefix, at)).toBe(true);
    expect((await store.getKeyByHash(ka.record.hash))?.revokedAt).toBe(at);
    expect((await store.listKeys(a.tenantId))[0]?.revokedAt).toBe(at);
  });
});

const artifactStores: [string, () => ArtifactStore & ArtifactReader][] = [
  ['memory', () => new FakeArtifacts()],
  ['s3', () => new S3ArtifactStore(clients.s3, cloud.names.artifactBucket)],
];

describe.each(artifactStores)('artifact store contract (%s)', (_name, makeStore) => {
  it('a presigned URL downloads the bytes as put, with their content type', async () => {
    const store = makeStore();
    const body = new Uint8Array(70_000).map((_, i) => (i * 7) % 256);
    const objectKey = `tasks/ten/${randomUUID()}/screenshot.png`;
    await store.put(objectKey, body, 'image/png');
    const res = await fetch(await store.presignGet(objectKey, 60));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(body);
  });

  it('a second put of a key replaces the object', async () => {
    const store = makeStore();
    const objectKey = `tasks/ten/${randomUUID()}/page.html`;
    await store.put(objectKey, new TextEncoder().encode('<p>one</p>'), 'text/html');
    await store.put(objectKey, new TextEncoder().encode('<p>two</p>'), 'text/html; charset=utf-8');
    const res = await fetch(await store.presignGet(objectKey, 60));
    expect(await res.text()).toBe('<p>two</p>');
    // A data: URL drops the space after the `;`; the type is the same.
    expect(res.headers.get('content-type')?.replace(/;\s*/, '; ')).toBe('text/html; charset=utf-8');
  });

  it('a key never put does not download', async () => {
    const store = makeStore();
    const res = await fetch(await store.presignGet(`tasks/ten/${randomUUID()}/nothing.png`, 60));
    expect(res.headers.get('content-type')).not.toBe('image/png');
    expect(res.status === 404 || (await res.text()).startsWith('missing:')).toBe(true);
  });

  it('reads an object back, at most maxBytes of it, saying when it was cut', async () => {
    const store = makeStore();
    const objectKey = `tasks/ten/${randomUUID()}/content.md`;
    await store.put(objectKey, new TextEncoder().encode('0123456789'), 'text/markdown');
    const whole = await store.read(objectKey, 10);
    expect(new TextDecoder().decode(whole.body)).toBe('0123456789');
    expect(whole).toMatchObject({ contentType: 'text/markdown', truncated: false });
    const cut = await store.read(objectKey, 4);
    expect(new TextDecoder().decode(cut.body)).toBe('0123');
    expect(cut.truncated).toBe(true);
  });

  it('reading a key never put is NOT_FOUND', async () => {
    const store = makeStore();
    await expect(store.read(`tasks/ten/${randomUUID()}/nothing.md`, 10)).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });
});

const sessionStores: [string, () => SessionStore][] = [
  ['memory', () => new MemorySessionStore()],
  ['dynamodb', () => new DynamoDbSessionStore(clients.dynamo, cloud.names.stateTable)],
];

const session = (tenantId: string, at: number): Session =>
  newSession({ id: newTimeOrderedId(at), tenantId, options: createSessionInputSchema.parse({}), now: at });
const next = (s: Session, event: Parameters<typeof transitionSession>[1], at: number): Session => {
  const out = transitionSession(s, event, at);
  if (!out.ok) throw new Error(out.reason);
  return out.session;
};

describe.each(sessionStores)('session store contract (%s)', (_name, makeStore) => {
  it('round-trips a session under its tenant only, and refuses a second create of its id', async () => {
    const store = makeStore();
    const tenantId = `t-${randomUUID().slice(0, 8)}`;
    const s = session(tenantId, NOW);
    await store.create(s, { maxLive: 5 });
    expect(await store.get(tenantId, s.id)).toEqual(s);
    expect(await store.get('someone-else', s.id)).toBeUndefined();
    await expect(store.create(s, { maxLive: 5 })).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('writes only at the version read, answering the row as it stands otherwise', async () => {
    const store = makeStore();
    const tenantId = `t-${randomUUID().slice(0, 8)}`;
    const s = session(tenantId, NOW);
    await store.create(s, { maxLive: 5 });
    const claimed = next(s, { kind: 'claim', owner: 'w1', leaseMs: 30_000 }, NOW + 1);
    expect(await store.save(claimed, s)).toEqual({ saved: true });
    // A second writer that read the first version loses, and is told what is there now.
    const rival = next(s, { kind: 'claim', owner: 'w2', leaseMs: 30_000 }, NOW + 2);
    expect(await store.save(rival, s)).toEqual({ saved: false, current: claimed });
    expect(await store.get(tenantId, s.id)).toEqual(claimed);
  });

  it('holds the tenant to maxLive, and an ended session frees its slot', async () => {
    const store = makeStore();
    const tenantId = `t-${randomUUID().slice(0, 8)}`;
    const a = session(tenantId, NOW);
    const b = session(tenantId, NOW + 1);
    await store.create(a, { maxLive: 2 });
    await store.create(b, { maxLive: 2 });
    expect(await store.liveCount(tenantId)).toBe(2);
    await expect(store.create(session(tenantId, NOW + 2), { maxLive: 2 })).rejects.toMatchObject({
      code: 'QUOTA_EXCEEDED',
    });
    await store.save(next(a, { kind: 'close' }, NOW + 3), a);
    expect(await store.liveCount(tenantId)).toBe(1);
    await store.create(session(tenantId, NOW + 4), { maxLive: 2 });
    expect(await store.liveCount(tenantId)).toBe(2);
  });

  it("lists the tenant's sessions newest first, by status, up to the limit", async () => {
    const store = makeStore();
    const tenantId = `t-${randomUUID().slice(0, 8)}`;
    const made: Session[] = [];
    for (let i = 0; i < 4; i++) {
      const s = session(tenantId, NOW + i * 1_000);
      await store.create(s, { maxLive: 10 });
      made.push(s);
    }
    const [first] = made;
    if (first === undefined) throw new Error('none made');
    await store.save(next(first, { kind: 'close' }, NOW + 10_000), first);
    await store.create(session(`other-${randomUUID().slice(0, 8)}`, NOW), { maxLive: 10 });
    const ids = (await store.list(tenantId, { limit: 10 })).map((s) => s.id);
    expect(ids).toEqual(made.map((s) => s.id).reverse());
    expect((await store.list(tenantId, { limit: 2 })).map((s) => s.id)).toEqual(ids.slice(0, 2));
    expect((await store.list(tenantId, { limit: 10, status: 'closed' })).map((s) => s.id)).toEqual([
      first.id,
    ]);
  });
});
