/** Ports of authentication. */
import type { TenantLimits } from '../tenancy/tenant.js';
import type { TenantWebhooks } from '../webhooks/tenant-webhooks.js';

export interface AuthenticatedTenant {
  tenantId: string;
  limits: TenantLimits;
  /** The key's public prefix, for logs. */
  keyPrefix: string;
  /**
   * The tenant's webhook settings, from the same read as its limits: a submit needs them
   * and needn't read the tenant's row a second time. Absent: the tenant has none.
   */
  webhooks?: TenantWebhooks;
}

/** Port: finds the tenant a presented key belongs to. */
export interface ApiKeyVerifier {
  verify(key: string): Promise<AuthenticatedTenant | undefined>;
}
