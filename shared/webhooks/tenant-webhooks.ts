/**
 * A tenant's webhook settings: default endpoints (each with the event types it takes) and
 * its signing secrets. Stored on the tenant row; managed with the admin CLI. Pure.
 */
import { z } from 'zod';
import { httpUrl } from '../core/page-options.js';
import type { SigningSecret } from './signing-secrets.js';
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from './webhook-event.js';

export interface TenantEndpoint {
  /** `ep_…`, to remove it by. */
  id: string;
  url: string;
  events: WebhookEventType[];
  createdAt: string;
}

export interface TenantWebhooks {
  endpoints: TenantEndpoint[];
  secrets: SigningSecret[];
}

/** Endpoints a tenant may have. */
export const MAX_TENANT_ENDPOINTS = 10;

/** A webhook URL: http or https, bounded like a page URL (the egress guard checks it too). */
export const webhookUrlSchema = httpUrl;

export const endpointInputSchema = z.strictObject({
  url: webhookUrlSchema,
  events: z
    .array(z.enum(WEBHOOK_EVENT_TYPES))
    .min(1)
    .max(WEBHOOK_EVENT_TYPES.length)
    .default([...WEBHOOK_EVENT_TYPES]),
});

/** The tenant's endpoints that take `type`. */
export const tenantTargets = (tenant: TenantWebhooks | undefined, type: WebhookEventType): string[] =>
  (tenant?.endpoints ?? []).filter((e) => e.events.includes(type)).map((e) => e.url);

/** Whether the tenant has an endpoint for any task event (so its tasks carry a webhook). */
export const takesTaskEvents = (tenant: TenantWebhooks | undefined): boolean =>
  (tenant?.endpoints ?? []).some((e) => e.events.some((t) => t.startsWith('task.')));
