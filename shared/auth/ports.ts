/** Ports of authentication. */
import type { TenantLimits } from '../tenancy/tenant.js';

export interface AuthenticatedTenant {
  tenantId: string;
  limits: TenantLimits;
  /** The key's public prefix, for logs. */
  keyPrefix: string;
}

/** Port: finds the tenant a presented key belongs to. */
export interface ApiKeyVerifier {
  verify(key: string): Promise<AuthenticatedTenant | undefined>;
}
