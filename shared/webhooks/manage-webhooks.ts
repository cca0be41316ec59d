/**
 * Operator use cases for a tenant's webhooks (the admin CLI): default endpoints, and the
 * signing secrets that rotate with an overlap. Endpoint URLs are checked by the egress guard
 * as a page URL is, so a private or metadata address is refused here, not only at send.
 */
import type { Clock } from '../clock.js';
import type { Destination } from '../egress/egress-policy.js';
import { BrowserfleetError, ERROR_CODES } from '../errors.js';
import type { Tenant, TenantStore } from '../tenancy/tenant.js';
import { parseOrThrow } from '../validation.js';
import {
  DEFAULT_ROTATION_OVERLAP_MS,
  hasLiveSecret,
  rotateSecrets,
  type SigningSecret,
  type SigningSecretView,
  viewOfSecret,
} from './signing-secrets.js';
import {
  endpointInputSchema,
  MAX_TENANT_ENDPOINTS,
  type TenantEndpoint,
  type TenantWebhooks,
} from './tenant-webhooks.js';

export interface WebhookAdminDeps {
  tenants: TenantStore;
  clock: Clock;
  random: (n: number) => Uint8Array;
  checkDestination: (url: string) => Promise<Destination>;
}

const tenantOf = async (deps: Pick<WebhookAdminDeps, 'tenants'>, tenantId: string): Promise<Tenant> => {
  const tenant = await deps.tenants.getTenant(tenantId);
  if (tenant === undefined)
    throw new BrowserfleetError(ERROR_CODES.NOT_FOUND, `Tenant ${tenantId} not found.`);
  return tenant;
};

const webhooksOf = (tenant: Tenant): TenantWebhooks => tenant.webhooks ?? { endpoints: [], secrets: [] };

/** Refuses a URL the egress guard refuses (a host that doesn't resolve now may later). */
export const checkWebhookUrl = async (
  checkDestination: (url: string) => Promise<Destination>,
  url: string,
  field: string,
): Promise<void> => {
  const destination = await checkDestination(url);
  if (!destination.allowed && destination.reason !== 'unresolvable') {
    throw new BrowserfleetError(
      ERROR_CODES.DESTINATION_BLOCKED,
      `${field}: blocked by the egress guard: ${destination.message}.`,
      { details: { issues: [{ field, message: destination.message }], reason: destination.reason } },
    );
  }
};

/**
 * Adds a default endpoint. A tenant without a live signing secret gets one in the same
 * write (an endpoint whose deliveries nothing signs would only record failures): it is in
 * the answer, to show once. With a secret, the secrets are left as they are.
 */
export const addEndpoint = async (
  deps: WebhookAdminDeps,
  input: { tenantId: string; url: string; events?: string[] },
): Promise<{ endpoint: TenantEndpoint; secret?: SigningSecret }> => {
  const parsed = parseOrThrow(endpointInputSchema, {
    url: input.url,
    ...(input.events === undefined ? {} : { events: input.events }),
  });
  await checkWebhookUrl(deps.checkDestination, parsed.url, 'url');
  const tenant = await tenantOf(deps, input.tenantId);
  const webhooks = webhooksOf(tenant);
  if (webhooks.endpoints.length >= MAX_TENANT_ENDPOINTS) {
    throw new BrowserfleetError(
      ERROR_CODES.VALIDATION_FAILED,
      `endpoints: a tenant has at most ${MAX_TENANT_ENDPOINTS}; remove one first`,
    );
  }
  const now = deps.clock.now();
  const endpoint: TenantEndpoint = {
    id: `ep_${Buffer.from(deps.random(9)).toString('base64url')}`,
    url: parsed.url,
    events: parsed.events,
    createdAt: new Date(now).toISOString(),
  };
  // No overlap to give: nothing live signs. Retired secrets are dropped, as a rotation does.
  const first = hasLiveSecret(webhooks.secrets, now)
    ? undefined
    : rotateSecrets(webhooks.secrets, { now, overlapMs: 0, random: deps.random });
  await deps.tenants.putTenant({
    ...tenant,
    webhooks: {
      ...webhooks,
      endpoints: [...webhooks.endpoints, endpoint],
      secrets: first === undefined ? webhooks.secrets : first.secrets,
    },
  });
  return first === undefined ? { endpoint } : { endpoint, secret: first.added };
};

export const listEndpoints = async (
  deps: Pick<WebhookAdminDeps, 'tenants'>,
  tenantId: string,
): Promise<TenantEndpoint[]> => webhooksOf(await tenantOf(deps, tenantId)).endpoints;

/** The endpoints, and when each signing secret was made and retires (not their values). */
export const listWebhooks = async (
  deps: Pick<WebhookAdminDeps, 'tenants'>,
  tenantId: string,
): Promise<{ endpoints: TenantEndpoint[]; secrets: SigningSecretView[] }> => {
  const webhooks = webhooksOf(await tenantOf(deps, tenantId));
  return { endpoints: webhooks.endpoints, secrets: webhooks.secrets.map(viewOfSecret) };
};

export const removeEndpoint = async (
  deps: Pick<WebhookAdminDeps, 'tenants'>,
  input: { tenantId: string; endpointId: string },
): Promise<void> => {
  const tenant = await tenantOf(deps, input.tenantId);
  const webhooks = webhooksOf(tenant);
  const endpoints = webhooks.endpoints.filter((e) => e.id !== input.endpointId);
  if (endpoints.length === webhooks.endpoints.length) {
    throw new BrowserfleetError(
      ERROR_CODES.NOT_FOUND,
      `Tenant ${input.tenantId} has no webhook endpoint ${input.endpointId}.`,
    );
  }
  await deps.tenants.putTenant({ ...tenant, webhooks: { ...webhooks, endpoints } });
};

/**
 * A new signing secret; the ones before it keep signing for `overlapMs` more. The new
 * secret is in the answer: show it once.
 */
export const rotateSigningSecret = async (
  deps: Omit<WebhookAdminDeps, 'checkDestination'>,
  input: { tenantId: string; overlapMs?: number },
): Promise<{ secret: SigningSecret; signing: { createdAt: string; retiresAt?: string }[] }> => {
  const tenant = await tenantOf(deps, input.tenantId);
  const webhooks = webhooksOf(tenant);
  const rotated = rotateSecrets(webhooks.secrets, {
    now: deps.clock.now(),
    overlapMs: input.overlapMs ?? DEFAULT_ROTATION_OVERLAP_MS,
    random: deps.random,
  });
  await deps.tenants.putTenant({ ...tenant, webhooks: { ...webhooks, secrets: rotated.secrets } });
  return {
    secret: rotated.added,
    signing: rotated.secrets.map(({ secret: _secret, ...s }) => s),
  };
};
