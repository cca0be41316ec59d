/**
 * `POST /v1/tasks/batch`: up to 100 task bodies, each submitted exactly as `POST /v1/tasks`
 * submits one (`submitTask`: the same validation, egress check, queued-task quota and
 * idempotency), each with an outcome of its own. One bad item fails only itself.
 */
import { z } from 'zod';
import { BrowserfleetError, ERROR_CODES } from '../errors.js';
import type { RateBucketStore } from '../tenancy/ports.js';
import { consumeRequest, rateLimitedError } from '../tenancy/rate-limit.js';
import type { TenantLimits } from '../tenancy/tenant.js';
import type { BucketDecision } from '../tenancy/token-bucket.js';
import { parseOrThrow } from '../validation.js';
import type { TenantWebhooks } from '../webhooks/tenant-webhooks.js';
import {
  IDEMPOTENCY_KEY,
  IDEMPOTENCY_KEY_RULE,
  isIdempotencyKey,
  type SubmitTaskDeps,
  submitTask,
} from './submit-task.js';
import type { Task } from './task.js';
import { createTaskInputSchema } from './task-input.js';

export const BATCH_LIMITS = { maxItems: 100 } as const;

export const batchBodySchema = z.strictObject({
  tasks: z
    .array(z.unknown(), { error: 'must be an array of task bodies' })
    .min(1, 'must hold at least one task')
    .max(BATCH_LIMITS.maxItems, `must hold at most ${BATCH_LIMITS.maxItems} tasks`),
});

/** The `Idempotency-Key` header's value, and a batch item's `idempotencyKey`: one rule for both. */
export const idempotencyKeySchema = z
  .string()
  .regex(IDEMPOTENCY_KEY, IDEMPOTENCY_KEY_RULE)
  .optional()
  .meta({
    description:
      'Any printable ASCII, at most 255 characters. A repeat with the same key and body answers the ' +
      'original task (with `Idempotent-Replayed: true`) instead of running it twice.',
  });

type TaskBodySchemas = typeof createTaskInputSchema.options;
/** Each task body's schema, with the item's own `idempotencyKey` beside its fields. */
type WithIdempotencyKey<T extends readonly unknown[]> = {
  [K in keyof T]: T[K] extends z.ZodObject<infer Shape, infer Config>
    ? z.ZodObject<Shape & { idempotencyKey: typeof idempotencyKeySchema }, Config>
    : never;
};

/**
 * A batch as its items are held to, one by one (`splitItem`, then `submitTask`'s
 * `createTaskInputSchema`): a task body with its own optional `idempotencyKey`. The
 * request is parsed with `batchBodySchema`, so one bad item fails only itself; this schema
 * describes it for the OpenAPI document and the typed client.
 */
export const batchRequestSchema = batchBodySchema
  .extend({
    tasks: z
      .array(
        z.discriminatedUnion(
          'type',
          // `.map` forgets the tuple: the type says what each element is.
          createTaskInputSchema.options.map((option) =>
            option.extend({ idempotencyKey: idempotencyKeySchema }),
          ) as unknown as WithIdempotencyKey<TaskBodySchemas>,
        ),
      )
      .min(1)
      .max(BATCH_LIMITS.maxItems),
  })
  .meta({ id: 'CreateTaskBatch' });

export type BatchItemOutcome =
  | { index: number; ok: true; task: Task; replayed: boolean }
  /** `error` is what `POST /v1/tasks` would have failed with for this body. */
  | { index: number; ok: false; error: unknown };

export interface BatchOutcome {
  items: BatchItemOutcome[];
  /** The bucket as the batch left it (its last admission or refusal), for the rate headers. */
  bucket?: BucketDecision;
}

export interface SubmitBatchDeps extends SubmitTaskDeps {
  /** The tenants' rate buckets: each item after the first takes a request's token. */
  buckets: RateBucketStore;
}

export interface SubmitBatchInput {
  /**
   * The tenant as the request's authentication read it. Its webhook settings (absent: it
   * has none) serve every item, instead of a read of the tenant per item.
   */
  tenant: { tenantId: string; limits: TenantLimits; webhooks?: TenantWebhooks | undefined };
  body: unknown;
  /** An item bigger than this, as JSON, is refused as `POST /v1/tasks` would refuse its body. */
  maxItemBytes: number;
  /** Fires shortly before the function's deadline: items not yet begun are not submitted. */
  signal?: AbortSignal;
}

const itemError = (field: string, message: string) =>
  new BrowserfleetError(ERROR_CODES.VALIDATION_FAILED, `${field}: ${message}`, {
    details: { issues: [{ field, message }] },
  });

/** A batch item as a task body and its own Idempotency-Key (`idempotencyKey`, optional). */
const splitItem = (item: unknown, maxItemBytes: number): { body: unknown; key: string | undefined } => {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) {
    throw itemError('(task)', 'must be a JSON object');
  }
  if (Buffer.byteLength(JSON.stringify(item), 'utf8') > maxItemBytes) {
    throw new BrowserfleetError(
      ERROR_CODES.PAYLOAD_TOO_LARGE,
      `Task body is larger than ${maxItemBytes} bytes.`,
    );
  }
  const { idempotencyKey, ...body } = item as Record<string, unknown>;
  if (
    idempotencyKey !== undefined &&
    (typeof idempotencyKey !== 'string' || !isIdempotencyKey(idempotencyKey))
  ) {
    throw itemError('idempotencyKey', IDEMPOTENCY_KEY_RULE);
  }
  return { body, key: idempotencyKey };
};

/**
 * Submits each item in order. The rate limit counts items, not requests: the request's own
 * admission paid for the first, each further one takes a token of its own, and once the
 * tenant's bucket refuses one, it and every item after it answer `RATE_LIMITED` (without
 * taking more). Sequential on purpose: the order of admissions is the order of the items,
 * and a tenant's batch can't make more concurrent writes than a single client could.
 */
export const submitBatch = async (deps: SubmitBatchDeps, input: SubmitBatchInput): Promise<BatchOutcome> => {
  const { tasks: items } = parseOrThrow(batchBodySchema, input.body);
  const { tenant } = input;
  const outcomes: BatchItemOutcome[] = [];
  let refusal: BrowserfleetError | undefined;
  let bucket: BucketDecision | undefined;
  for (const [index, item] of items.entries()) {
    if (refusal === undefined && input.signal?.aborted === true) {
      refusal = new BrowserfleetError(
        ERROR_CODES.DEPENDENCY_UNAVAILABLE,
        'Not submitted: the batch ran out of time before this task; send it again (with its idempotencyKey).',
      );
    }
    if (refusal === undefined && index > 0) {
      bucket = await consumeRequest(deps, tenant);
      if (!bucket.admitted) refusal = rateLimitedError(tenant, bucket);
    }
    if (refusal !== undefined) {
      outcomes.push({ index, ok: false, error: refusal });
      continue;
    }
    try {
      const { body, key } = splitItem(item, input.maxItemBytes);
      const { task, replayed } = await submitTask(deps, {
        tenantId: tenant.tenantId,
        body,
        idempotencyKey: key,
        maxQueuedTasks: tenant.limits.maxQueuedTasks,
        tenant: { webhooks: tenant.webhooks },
      });
      outcomes.push({ index, ok: true, task, replayed });
    } catch (error) {
      outcomes.push({ index, ok: false, error });
    }
  }
  return { items: outcomes, ...(bucket === undefined ? {} : { bucket }) };
};
