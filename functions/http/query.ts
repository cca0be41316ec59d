import { z } from 'zod';
import { SESSION_STATUSES } from '../../shared/session/session.js';
import { MAX_WAIT_SECONDS } from '../../shared/task/wait-for-task.js';
import { parseOrThrow } from '../../shared/validation.js';
import type { HttpEvent } from './http-route.js';

/** `?wait=N` of the task routes (the OpenAPI document describes it from here). */
export const waitQuerySchema = z.strictObject({
  /** Seconds to hold the request for the task to end. */
  wait: z.coerce
    .number()
    .int()
    .min(0)
    .max(MAX_WAIT_SECONDS)
    .optional()
    .meta({ description: `Seconds (at most ${MAX_WAIT_SECONDS}) to hold the answer until the task ends.` }),
});

/** `?wait=N` in milliseconds (0 when absent). Other query parameters are refused by name. */
export const waitMsFrom = (event: HttpEvent): number =>
  (parseOrThrow(waitQuerySchema, event.queryStringParameters ?? {}).wait ?? 0) * 1000;

/** `?limit=&status=` of `GET /v1/sessions`. */
export const sessionListQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).optional(),
  status: z.enum(SESSION_STATUSES).optional(),
});

/** Parses `?limit=&status=` of `GET /v1/sessions`. */
export const sessionListQueryFrom = (event: HttpEvent) =>
  parseOrThrow(sessionListQuerySchema, event.queryStringParameters ?? {});

/** `?ticket=` of the live-view page: the signed ticket of its `liveViewUrl`. */
export const liveViewQuerySchema = z.strictObject({ ticket: z.string().min(1).max(2048) });

/** The API's own base URL as the client called it (for links in answers). */
export const publicBaseUrl = (event: HttpEvent): string => {
  const host = event.headers.host ?? event.requestContext.domainName;
  const proto = event.headers['x-forwarded-proto'] ?? (/^(127\.|localhost)/.test(host) ? 'http' : 'https');
  return `${proto}://${host}`;
};
