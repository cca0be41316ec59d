import { z } from 'zod';
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
