/**
 * API-key authentication. A key is presented as `Authorization: Bearer <key>`; its SHA-256
 * is looked up, and a live key maps to its tenant and the tenant's limits. An unknown,
 * revoked or orphaned key is refused with the same answer, so a caller learns nothing.
 */
import { BrowserfleetError, ERROR_CODES } from '../errors.js';
import { DEFAULT_LIMITS, hashApiKey, type TenantStore } from '../tenancy/tenant.js';
import type { ApiKeyVerifier, AuthenticatedTenant } from './ports.js';

/** Keys a verifier remembers the tenant of; past this, it forgets them all and starts over. */
const MAX_REMEMBERED_KEYS = 10_000;

/**
 * Keys and tenants from the state table. Both rows are read on every request, so a
 * revoked key is refused and a tenant's new limits apply at once; once a key was seen, the
 * tenant it names (which never changes) is remembered, and the two rows come in one request.
 */
export class StoredApiKeyVerifier implements ApiKeyVerifier {
  private readonly tenantOfKey = new Map<string, string>();

  constructor(private readonly tenants: TenantStore) {}

  async verify(key: string): Promise<AuthenticatedTenant | undefined> {
    const hash = hashApiKey(key);
    const known = this.tenantOfKey.get(hash);
    const read = known === undefined ? undefined : await this.tenants.getKeyAndTenant(hash, known);
    const record = read === undefined ? await this.tenants.getKeyByHash(hash) : read.key;
    if (record === undefined || record.revokedAt !== undefined) return undefined;
    const tenant =
      read !== undefined && record.tenantId === known
        ? read.tenant
        : await this.tenants.getTenant(record.tenantId);
    if (tenant === undefined) return undefined;
    if (known === undefined) {
      if (this.tenantOfKey.size >= MAX_REMEMBERED_KEYS) this.tenantOfKey.clear();
      this.tenantOfKey.set(hash, record.tenantId);
    }
    return {
      tenantId: tenant.tenantId,
      limits: { ...DEFAULT_LIMITS, ...tenant.limits },
      keyPrefix: record.prefix,
      ...(tenant.webhooks === undefined ? {} : { webhooks: tenant.webhooks }),
    };
  }
}

/** Reads the bearer key from an Authorization header value, or explains what is wrong. */
export const authenticate = async (
  verifier: ApiKeyVerifier,
  authorization: string | undefined,
): Promise<AuthenticatedTenant> => {
  if (authorization === undefined || authorization.trim() === '') {
    throw new BrowserfleetError(
      ERROR_CODES.UNAUTHORIZED,
      'Missing API key: send it as "Authorization: Bearer <key>".',
    );
  }
  const match = /^Bearer\s+(\S{1,512})\s*$/i.exec(authorization);
  if (match?.[1] === undefined) {
    throw new BrowserfleetError(
      ERROR_CODES.UNAUTHORIZED,
      'Malformed Authorization header: expected "Bearer <key>".',
    );
  }
  const tenant = await verifier.verify(match[1]);
  if (tenant === undefined) {
    throw new BrowserfleetError(ERROR_CODES.UNAUTHORIZED, 'Invalid or revoked API key.');
  }
  return tenant;
};
