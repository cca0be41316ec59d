/**
 * What a webhook delivery's body is, per event type: `{ type, timestamp, data }`, `data`
 * the task's view for task events and the ended session's for `session.ended`. The one
 * description of it: the deliverer types its `data` with it, the OpenAPI document's
 * `webhooks` come from it, and the tests hold real deliveries to it.
 */
import { z } from 'zod';
import { endedSessionSchema } from '../session/sessions-api.js';
import { taskViewSchema } from '../task/task-view.js';
import type { WebhookEventType } from './webhook-event.js';

const eventOf = <T extends WebhookEventType, D extends z.ZodType>(type: T, data: D, description: string) =>
  z
    .object({
      type: z.literal(type),
      timestamp: z.string().meta({ description: 'ISO-8601 time the attempt was made' }),
      data,
    })
    .meta({ id: `WebhookEvent_${type.replace('.', '_')}`, description });

export const WEBHOOK_PAYLOADS = {
  'task.succeeded': eventOf('task.succeeded', taskViewSchema, 'A task succeeded: `data` is the task.'),
  'task.failed': eventOf(
    'task.failed',
    taskViewSchema,
    'A task failed: `data` is the task, with its `error`.',
  ),
  'task.cancelled': eventOf('task.cancelled', taskViewSchema, 'A task was cancelled: `data` is the task.'),
  'session.ended': eventOf(
    'session.ended',
    endedSessionSchema,
    'A live session ended (closed, timed out, crashed, lost): `data` is the session, with its `endReason`.',
  ),
} as const satisfies Record<WebhookEventType, z.ZodType>;

export type WebhookPayload = z.output<(typeof WEBHOOK_PAYLOADS)[WebhookEventType]>;
