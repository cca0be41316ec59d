import type { ApiKeyRecord, Tenant, TenantStore } from '../tenancy/tenant.js';

/** In-memory twin of the DynamoDB tenant store, for unit tests. */
export class MemoryTenantStore implements TenantStore {
  private readonly tenants = new Map<string, Tenant>();
  private readonly keys = new Map<string, ApiKeyRecord>();

  async getTenant(tenantId: string): Promise<Tenant | undefined> {
    const t = this.tenants.get(tenantId);
    return t === undefined ? undefined : structuredClone(t);
  }
  async putTenant(tenant: Tenant): Promise<void> {
    this.tenants.set(tenant.tenantId, structuredClone(tenant));
  }
  async getKeyByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    const k = this.keys.get(hash);
    return k === undefined ? undefined : { ...k };
  }
  async getKeyAndTenant(hash: string, tenantId: string) {
    return { key: await this.getKeyByHash(hash), tenant: await this.getTenant(tenantId) };
  }
  async putKey(record: ApiKeyRecord): Promise<void> {
    if (!this.keys.has(record.hash)) this.keys.set(record.hash, { ...record });
  }
  async listKeys(tenantId: string): Promise<ApiKeyRecord[]> {
    return [...this.keys.values()].filter((k) => k.tenantId === tenantId).map((k) => ({ ...k }));
  }
  async revokeKey(tenantId: string, prefix: string, at: string): Promise<boolean> {
    const k = [...this.keys.values()].find((r) => r.tenantId === tenantId && r.prefix === prefix);
    if (k === undefined) return false;
    k.revokedAt ??= at;
    return true;
  }
}
