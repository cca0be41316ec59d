import { DEFAULT_LIMITS, type TenantLimits, type TenantStore } from './tenant.js';

/** How long a worker trusts a tenant's limits before reading them again. */
const TTL_MS = 30_000;

/** A worker's view of tenants' limits: read on first use, refreshed every 30 s. */
export const cachedTenantLimits = (tenants: TenantStore, now: () => number = Date.now) => {
  const cache = new Map<string, { limits: TenantLimits; at: number }>();
  return async (tenantId: string): Promise<TenantLimits> => {
    const hit = cache.get(tenantId);
    if (hit !== undefined && now() - hit.at < TTL_MS) return hit.limits;
    const tenant = await tenants.getTenant(tenantId);
    const limits = { ...DEFAULT_LIMITS, ...tenant?.limits };
    cache.set(tenantId, { limits, at: now() });
    return limits;
  };
};
