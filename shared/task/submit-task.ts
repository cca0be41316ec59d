import { createHash } from 'node:crypto';
import type { Clock } from '../clock.js';
import { type TaskDispatcher, withRowCopy } from '../core/fleet-queue.js';
import type { Destination } from '../egress/egress-policy.js';
import { BrowserfleetError, ERROR_CODES, isBrowserfleetError } from '../errors.js';
import { parseOrThrow } from '../validation.js';
import { checkWebhookUrl } from '../webhooks/manage-webhooks.js';
import { hasLiveSecret } from '../webhooks/signing-secrets.js';
import { type TenantWebhooks, takesTaskEvents } from '../webhooks/tenant-webhooks.js';
import type { IdempotencyStore, ResultCache, TaskStore } from './ports.js';
import { answersUntil, canonicalJson, hitResultOf, resultCacheKey } from './result-cache.js';
import { newCachedTask, newTask, type Task } from './task.js';
import { type CreateTaskInput, chooseTier, createTaskInputSchema, type TaskSpec } from './task-input.js';

export interface SubmitTaskDeps {
  store: TaskStore;
  queue: TaskDispatcher;
  idempotency: IdempotencyStore;
  /** Where results of tasks with a `cacheTTL` are found (result-cache.ts). */
  resultCache: Pick<ResultCache, 'get'>;
  clock: Clock;
  newId: () => string;
  idempotencyTtlSeconds: number;
  /** The egress guard's first check, of the task URL itself (the browser checks again). */
  checkDestination: (url: string) => Promise<Destination>;
  /**
   * The tenant's webhook settings: with an endpoint for task events, every task of the
   * tenant carries a webhook (its end is owed to those endpoints). Unset: none.
   */
  tenantWebhooks: (tenantId: string) => Promise<TenantWebhooks | undefined>;
}

export interface SubmitTaskInput {
  tenantId: string;
  body: unknown;
  /** The `Idempotency-Key` header, if the client sent one. */
  idempotencyKey?: string | undefined;
  /** The tenant's queued-task quota; unlimited when absent. */
  maxQueuedTasks?: number;
  /**
   * The tenant as the request's authentication read it: its webhook settings are taken
   * from here instead of read again through `deps.tenantWebhooks`.
   */
  tenant?: { webhooks?: TenantWebhooks | undefined };
}

export interface Submitted {
  task: Task;
  /** True when an earlier request with the same key and body created the task. */
  replayed: boolean;
}

/** Printable ASCII, as Stripe and the IETF Idempotency-Key draft use in practice. */
export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** The rule every Idempotency-Key (header or batch item field) follows. */
export const IDEMPOTENCY_KEY_RULE = 'must be 1 to 255 printable ASCII characters';
export const isIdempotencyKey = (key: string): boolean => IDEMPOTENCY_KEY.test(key);

/**
 * A task's own webhook is signed with its tenant's secret: without a live one every
 * delivery would fail, so the task is refused now rather than accepted with an event that
 * can never arrive. (A tenant endpoint brings a secret with it: `addEndpoint`.)
 */
const requireSigningSecret = (webhooks: TenantWebhooks | undefined, tenantId: string, now: number): void => {
  if (hasLiveSecret(webhooks?.secrets ?? [], now)) return;
  const message =
    `is signed with the tenant's webhook signing secret, and tenant ${tenantId} has no live one: ` +
    `an operator creates it with \`browserfleet admin webhook rotate-secret ${tenantId}\``;
  throw new BrowserfleetError(ERROR_CODES.VALIDATION_FAILED, `webhook: ${message}`, {
    details: { issues: [{ field: 'webhook', message }] },
  });
};

/**
 * Same meaning, same hash: keys sorted, defaults already filled in by the schema. A
 * `cacheTTL` of 0 (the default) is left out, so a key recorded before the result cache
 * existed still matches its request.
 */
const requestHash = (input: CreateTaskInput): string => {
  const { cacheTTL, ...rest } = input;
  return createHash('sha256')
    .update(canonicalJson(cacheTTL === 0 ? rest : input))
    .digest('hex');
};

/**
 * Accepts a task: validates the body, writes the row (`queued`) and only then enqueues it.
 * The row is the truth; a message lost between the two is re-sent by the sweeper.
 * With an Idempotency-Key, a repeat of the same request answers the original task (no
 * second execution) and the same key on a different request is refused.
 * With a `cacheTTL`, a fresh result of the same request (same tenant, same normalized
 * request) answers at once: the new task is written already `succeeded`, and nothing is
 * enqueued.
 */
export const submitTask = async (deps: SubmitTaskDeps, input: SubmitTaskInput): Promise<Submitted> => {
  const key = input.idempotencyKey;
  if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
    throw new BrowserfleetError(
      ERROR_CODES.VALIDATION_FAILED,
      'Idempotency-Key: must be 1 to 255 printable ASCII characters',
      {
        details: {
          issues: [{ field: 'Idempotency-Key', message: 'must be 1 to 255 printable ASCII characters' }],
        },
      },
    );
  }
  const parsed = parseOrThrow(createTaskInputSchema, input.body);
  const destination = await deps.checkDestination(parsed.url);
  // A host that doesn't resolve now may later; the browser's own check has the last word.
  if (!destination.allowed && destination.reason !== 'unresolvable') {
    throw new BrowserfleetError(
      ERROR_CODES.DESTINATION_BLOCKED,
      `url: blocked by the egress guard: ${destination.message}.`,
      {
        details: { issues: [{ field: 'url', message: destination.message }], reason: destination.reason },
      },
    );
  }
  // Read only on a path that needs them, and at most once: the authenticated tenant usually has them.
  const tenantWebhooks = async () =>
    input.tenant === undefined ? await deps.tenantWebhooks(input.tenantId) : input.tenant.webhooks;
  if (parsed.webhook !== undefined) {
    // A webhook URL is a destination too: the delivery checks it again when it sends.
    await checkWebhookUrl(deps.checkDestination, parsed.webhook.url, 'webhook.url');
    requireSigningSecret(await tenantWebhooks(), input.tenantId, deps.clock.now());
  }
  const webhook = parsed.webhook ?? (takesTaskEvents(await tenantWebhooks()) ? {} : undefined);
  const now = deps.clock.now();
  const quota = input.maxQueuedTasks === undefined ? undefined : { maxQueued: input.maxQueuedTasks };
  const spec = { type: parsed.type, options: parsed.options } as TaskSpec;
  const cache =
    parsed.cacheTTL > 0
      ? { ttlSeconds: parsed.cacheTTL, key: resultCacheKey({ ...spec, url: parsed.url }) }
      : undefined;
  const entry = cache === undefined ? undefined : await deps.resultCache.get(input.tenantId, cache.key);
  const until =
    entry === undefined || cache === undefined ? undefined : answersUntil(entry, cache.ttlSeconds, now);
  const build = (id: string): Task => {
    const fields = {
      id,
      tenantId: input.tenantId,
      spec,
      url: parsed.url,
      tier: chooseTier(parsed.tier, parsed.options),
      maxAttempts: parsed.maxAttempts,
      webhook,
      now,
    };
    if (cache === undefined) return newTask(fields);
    if (entry === undefined || until === undefined) return newTask({ ...fields, cache });
    return newCachedTask({
      ...fields,
      cache,
      hit: { sourceTaskId: entry.sourceTaskId, expiresAt: new Date(until).toISOString() },
      result: hitResultOf(entry),
    });
  };
  /** A hit is born ended: only a task that is to run goes to a queue. */
  const dispatch = async (task: Task): Promise<void> => {
    // With the row just written: the worker's claim needs no read of it.
    if (task.status === 'queued')
      await deps.queue.send(withRowCopy({ taskId: task.id, tier: task.tier }, task));
  };

  if (key === undefined) {
    const task = build(deps.newId());
    await deps.store.create(task, quota);
    await dispatch(task);
    return { task, replayed: false };
  }

  const hash = requestHash(parsed);
  const nowSeconds = Math.floor(now / 1000);
  const taskId = deps.newId();
  const claim = await deps.idempotency.claim(
    {
      tenantId: input.tenantId,
      key,
      requestHash: hash,
      taskId,
      expiresAt: nowSeconds + deps.idempotencyTtlSeconds,
    },
    nowSeconds,
  );
  if (claim.claimed) {
    const task = build(taskId);
    try {
      await deps.store.create(task, quota);
    } catch (error) {
      // A concurrent repeat of this request saw the key, found no task yet and wrote it
      // (below): the task exists and is enqueued, which is all this request had to do.
      const raced =
        isBrowserfleetError(error) && error.code === ERROR_CODES.CONFLICT
          ? await deps.store.get(task.id)
          : undefined;
      if (raced === undefined) throw error;
      return { task: raced, replayed: false };
    }
    await dispatch(task);
    return { task, replayed: false };
  }
  if (claim.existing.requestHash !== hash) {
    throw new BrowserfleetError(
      ERROR_CODES.IDEMPOTENCY_KEY_REUSED,
      `Idempotency-Key "${key}" was already used for a different request; use a new key for a new request.`,
    );
  }
  const existing = await deps.store.get(claim.existing.taskId);
  if (existing !== undefined) return { task: existing, replayed: true };
  // The first request died (or was refused a quota) between recording the key and writing
  // the task: do its job now, under the same quota.
  const task = build(claim.existing.taskId);
  try {
    await deps.store.create(task, quota);
  } catch (error) {
    const raced = await deps.store.get(task.id);
    if (raced !== undefined) return { task: raced, replayed: true };
    throw error;
  }
  await dispatch(task);
  return { task, replayed: true };
};
