/** Operator use cases for tenants and their API keys (the admin CLI and the local seed). */
import type { Clock } from '../clock.js';
import { BrowserfleetError, ERROR_CODES } from '../errors.js';
import { parseOrThrow } from '../validation.js';
import { type SigningSecretView, viewOfSecret } from '../webhooks/signing-secrets.js';
import type { TenantEndpoint } from '../webhooks/tenant-webhooks.js';
import {
  type ApiKeyRecord,
  mintApiKey,
  recordForKey,
  type Tenant,
  type TenantLimits,
  type TenantStore,
  tenantIdSchema,
  tenantLimitsSchema,
} from './tenant.js';

export interface TenantAdminDeps {
  tenants: TenantStore;
  clock: Clock;
  random: (n: number) => Uint8Array;
}

const requireTenant = async (deps: Pick<TenantAdminDeps, 'tenants'>, tenantId: string): Promise<Tenant> => {
  const tenant = await deps.tenants.getTenant(tenantId);
  if (tenant === undefined)
    throw new BrowserfleetError(ERROR_CODES.NOT_FOUND, `Tenant ${tenantId} not found.`);
  return tenant;
};

/** A tenant as the operator sees it: its signing secrets by prefix and times, not their values. */
export type TenantView = Omit<Tenant, 'webhooks'> & {
  webhooks?: { endpoints: TenantEndpoint[]; secrets: SigningSecretView[] };
};

/** The tenant without its secrets' values (what the admin CLI prints). */
export const viewOfTenant = ({ webhooks, ...tenant }: Tenant): TenantView => ({
  ...tenant,
  ...(webhooks === undefined
    ? {}
    : { webhooks: { endpoints: webhooks.endpoints, secrets: webhooks.secrets.map(viewOfSecret) } }),
});

/** One tenant (NOT_FOUND when there is none), without its secrets' values. */
export const showTenant = async (
  deps: Pick<TenantAdminDeps, 'tenants'>,
  tenantId: string,
): Promise<TenantView> => viewOfTenant(await requireTenant(deps, tenantId));

/** Creates a tenant, or updates its name and limits if it exists. Limits are validated. */
export const upsertTenant = async (
  deps: TenantAdminDeps,
  input: { tenantId: string; name?: string; limits?: Partial<TenantLimits> },
): Promise<Tenant> => {
  const tenantId = parseOrThrow(tenantIdSchema, input.tenantId);
  const existing = await deps.tenants.getTenant(tenantId);
  const limits = parseOrThrow(tenantLimitsSchema, { ...existing?.limits, ...input.limits });
  const tenant: Tenant = {
    ...existing,
    tenantId,
    name: input.name ?? existing?.name ?? tenantId,
    limits,
    createdAt: existing?.createdAt ?? new Date(deps.clock.now()).toISOString(),
  };
  await deps.tenants.putTenant(tenant);
  return tenant;
};

/** Mints a key for a tenant. The key is in the answer and nowhere else: show it once. */
export const createApiKey = async (
  deps: TenantAdminDeps,
  input: { tenantId: string; name?: string },
): Promise<{ key: string; record: ApiKeyRecord }> => {
  await requireTenant(deps, input.tenantId);
  const minted = mintApiKey(
    { tenantId: input.tenantId, name: input.name ?? 'default', now: deps.clock.now() },
    deps.random,
  );
  await deps.tenants.putKey(minted.record);
  return minted;
};

export const listApiKeys = async (deps: TenantAdminDeps, tenantId: string): Promise<ApiKeyRecord[]> => {
  await requireTenant(deps, tenantId);
  return deps.tenants.listKeys(tenantId);
};

export const revokeApiKey = async (deps: TenantAdminDeps, input: { tenantId: string; prefix: string }) => {
  const found = await deps.tenants.revokeKey(
    input.tenantId,
    input.prefix,
    new Date(deps.clock.now()).toISOString(),
  );
  if (!found) {
    throw new BrowserfleetError(
      ERROR_CODES.NOT_FOUND,
      `Tenant ${input.tenantId} has no key ${input.prefix}.`,
    );
  }
};

/** Rotation: a new key for the same tenant, then the old one revoked. */
export const rotateApiKey = async (
  deps: TenantAdminDeps,
  input: { tenantId: string; prefix: string },
): Promise<{ key: string; record: ApiKeyRecord }> => {
  const old = (await listApiKeys(deps, input.tenantId)).find((k) => k.prefix === input.prefix);
  if (old === undefined) {
    throw new BrowserfleetError(
      ERROR_CODES.NOT_FOUND,
      `Tenant ${input.tenantId} has no key ${input.prefix}.`,
    );
  }
  const fresh = await createApiKey(deps, { tenantId: input.tenantId, name: old.name });
  await revokeApiKey(deps, input);
  return fresh;
};

/** Makes sure `key` authenticates as `tenantId` (the local cloud's LOCAL_API_KEY). Idempotent. */
export const ensureTenantKey = async (
  deps: TenantAdminDeps,
  input: { tenantId: string; key: string; limits?: Partial<TenantLimits> },
): Promise<void> => {
  if ((await deps.tenants.getTenant(input.tenantId)) === undefined) {
    await upsertTenant(deps, { tenantId: input.tenantId, ...(input.limits ? { limits: input.limits } : {}) });
  }
  await deps.tenants.putKey(
    recordForKey(input.key, { tenantId: input.tenantId, name: 'seeded', now: deps.clock.now() }),
  );
};
