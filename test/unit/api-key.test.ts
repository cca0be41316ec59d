import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MemoryTenantStore } from '../../shared/adapters/memory-tenant-store.js';
import { authenticate, StoredApiKeyVerifier } from '../../shared/auth/api-key.js';
import { systemClock } from '../../shared/clock.js';
import {
  createApiKey,
  ensureTenantKey,
  listApiKeys,
  revokeApiKey,
  rotateApiKey,
  upsertTenant,
} from '../../shared/tenancy/manage-tenants.js';
import { DEFAULT_LIMITS, hashApiKey } from '../../shared/tenancy/tenant.js';

const setup = async () => {
  const tenants = new MemoryTenantStore();
  const deps = { tenants, clock: systemClock, random: randomBytes };
  await upsertTenant(deps, { tenantId: 'acme', limits: { burst: 5 } });
  const verifier = new StoredApiKeyVerifier(tenants);
  return { tenants, deps, verifier };
};

const refusal = async (verifier: StoredApiKeyVerifier, header: string | undefined) => {
  try {
    await authenticate(verifier, header);
  } catch (error) {
    return error as { code: string; message: string };
  }
  throw new Error('expected a refusal');
};

describe('API keys', () => {
  it('mints a random bf_ key, stores only its hash, and maps it to its tenant and limits', async () => {
    const { deps, verifier, tenants } = await setup();
    const { key, record } = await createApiKey(deps, { tenantId: 'acme', name: 'ci' });
    expect(key).toMatch(/^bf_[0-9A-Za-z]{8}_[0-9A-Za-z]{32}$/);
    expect(record).toMatchObject({ prefix: key.slice(0, 11), tenantId: 'acme', hash: hashApiKey(key) });
    expect(JSON.stringify(await tenants.listKeys('acme'))).not.toContain(key.slice(12));
    expect(await authenticate(verifier, `Bearer ${key}`)).toEqual({
      tenantId: 'acme',
      limits: { ...DEFAULT_LIMITS, burst: 5 },
      keyPrefix: record.prefix,
    });
    expect(await authenticate(verifier, `bearer ${key}`)).toMatchObject({ tenantId: 'acme' });
    const other = await createApiKey(deps, { tenantId: 'acme' });
    expect(other.key).not.toBe(key);
  });

  it('refuses a revoked key, and rotation leaves only the new one working', async () => {
    const { deps, verifier } = await setup();
    const first = await createApiKey(deps, { tenantId: 'acme' });
    const rotated = await rotateApiKey(deps, { tenantId: 'acme', prefix: first.record.prefix });
    expect((await refusal(verifier, `Bearer ${first.key}`)).code).toBe('UNAUTHORIZED');
    expect(await authenticate(verifier, `Bearer ${rotated.key}`)).toMatchObject({ tenantId: 'acme' });
    await revokeApiKey(deps, { tenantId: 'acme', prefix: rotated.record.prefix });
    expect((await refusal(verifier, `Bearer ${rotated.key}`)).code).toBe('UNAUTHORIZED');
    const listed = await listApiKeys(deps, 'acme');
    expect(listed.every((k) => k.revokedAt !== undefined)).toBe(true);
    await expect(revokeApiKey(deps, { tenantId: 'acme', prefix: 'bf_nothere' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('reads a known key and its tenant in one call, and still sees a revoke or new limits at once', async () => {
    const { deps, tenants } = await setup();
    const calls: string[] = [];
    const counted = new Proxy(tenants, {
      get: (target, name, receiver) => {
        const value = Reflect.get(target, name, receiver);
        return typeof value === 'function'
          ? (...args: unknown[]) => {
              calls.push(String(name));
              return value.apply(target, args);
            }
          : value;
      },
    });
    const verifier = new StoredApiKeyVerifier(counted);
    const { key, record } = await createApiKey(deps, { tenantId: 'acme' });
    await authenticate(verifier, `Bearer ${key}`);
    expect(calls).toEqual(['getKeyByHash', 'getTenant']);
    calls.length = 0;
    await upsertTenant(deps, { tenantId: 'acme', limits: { burst: 9 } });
    expect((await authenticate(verifier, `Bearer ${key}`)).limits.burst).toBe(9);
    expect(calls).toEqual(['getKeyAndTenant']);
    await revokeApiKey(deps, { tenantId: 'acme', prefix: record.prefix });
    expect((await refusal(verifier, `Bearer ${key}`)).code).toBe('UNAUTHORIZED');
  });

  it('seeds an operator-chosen key idempotently', async () => {
    const { deps, verifier } = await setup();
    await ensureTenantKey(deps, { tenantId: 'local', key: 'local-key-0123456789' });
    await ensureTenantKey(deps, { tenantId: 'local', key: 'local-key-0123456789' });
    expect(await authenticate(verifier, 'Bearer local-key-0123456789')).toMatchObject({ tenantId: 'local' });
    expect(await listApiKeys(deps, 'local')).toHaveLength(1);
  });

  it('validates tenant ids and limits, naming the rule', async () => {
    const { deps } = await setup();
    await expect(upsertTenant(deps, { tenantId: 'Bad Id' })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    await expect(upsertTenant(deps, { tenantId: 'ok-id', limits: { burst: 0 } })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringContaining('burst'),
    });
  });

  it.each([
    [undefined, /Missing API key/],
    ['', /Missing API key/],
    ['Basic dXNlcjpwYXNz', /Malformed Authorization header/],
    ['Bearer', /Malformed Authorization header/],
    ['Bearer bf_00000000_00000000000000000000000000000000', /Invalid or revoked API key/],
  ])('refuses %j as UNAUTHORIZED', async (header, message) => {
    const { verifier } = await setup();
    const error = await refusal(verifier, header);
    expect(error.code).toBe('UNAUTHORIZED');
    expect(error.message).toMatch(message);
  });
});
