import { z } from 'zod';
import { SESSION_STATUSES } from '../../shared/session/session.js';
import { MAX_WAIT_SECONDS } from '../../shared/task/wait-for-task.js';
import { parseOrThrow } from '../../shared/validation.js';
import type { HttpEvent } from './http-route.js';

const waitSchema = z.strictObject({
  /** Seconds to hold the request for the task to end. */
  wait: z.coerce.number().int().min(0).max(MAX_WAIT_SECONDS).optional(),
});

/** `?wait=N` in milliseconds (0 when absent). Other query parameters are refused by name. */
export const waitMsFrom = (event: HttpEvent): number =>
  (parseOrThrow(waitSchema, event.queryStringParameters ?? {}).wait ?? 0) * 1000;

const listSchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).optional(),
  status: z.enum(SESSION_STATUSES).optional(),
});

/** `?limit=&status=` of `GET /v1/sessions`. */
export const sessionListQueryFrom = (event: HttpEvent) =>
  parseOrThrow(listSchema, event.queryStringParameters ?? {});

/** The API's own base URL as the client called it (for links in answers). */
export const publicBaseUrl = (event: HttpEvent): string => {
  const host = event.headers.host ?? event.requestContext.domainName;
  const proto = event.headers['x-forwarded-proto'] ?? (/^(127\.|localhost)/.test(host) ? 'http' : 'https');
  return `${proto}://${host}`;
};
