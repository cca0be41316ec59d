/**
 * Delivers one webhook event — a task's end, or a session's — to the task's own URL and
 * the tenant's endpoints that take the event's type, signed with every live secret of the
 * tenant (Standard Webhooks), and records each attempt on the row. Targets that answered 2xx are not sent to again, so a
 * redelivered message only retries the ones that failed. Which attempt this is the message
 * says; a failed attempt comes back as a fresh copy after a backoff, and after the last one
 * the message goes to the dead-letter queue.
 */
import type { Clock } from '../clock.js';
import type { SessionStore } from '../session/ports.js';
import { presentEndedSession } from '../session/sessions-api.js';
import type { TaskStore } from '../task/ports.js';
import type { BackoffPolicy } from '../task/retry-policy.js';
import type { Task } from '../task/task.js';
import type { TaskView } from '../task/task-view.js';
import type { WebhookSender } from './ports.js';
import { type SigningSecret, signWebhook } from './signing-secrets.js';
import { type TenantWebhooks, tenantTargets } from './tenant-webhooks.js';
import { updateEndedRow, type VersionedRows } from './update-ended-row.js';
import {
  recordDeliveries,
  type WebhookDelivery,
  type WebhookMessage,
  type WebhookOutbox,
  type WebhookRecord,
} from './webhook-event.js';
import type { WebhookPayload } from './webhook-payloads.js';

export interface DeliverWebhookDeps {
  store: TaskStore;
  /** Where a `session.ended` event's session is. */
  sessions: Pick<SessionStore, 'get' | 'save'>;
  /** The tenant's endpoints and secrets (undefined: it has none). */
  tenantWebhooks: (tenantId: string) => Promise<TenantWebhooks | undefined>;
  sender: WebhookSender;
  /** The task as a client sees it, with fresh artifact URLs: a task event's `data`. */
  present: (task: Task) => Promise<TaskView>;
  clock: Clock;
  backoff: BackoffPolicy;
  random: () => number;
  /** Attempts before the message goes to the dead-letter queue. */
  maxAttempts: number;
}

export type DeliverOutcome =
  | { kind: 'delivered'; targets: number }
  /** Nothing (left) to send: the row is gone, has no webhook, or every target has it. */
  | { kind: 'nothing'; reason: 'missing' | 'no-targets' }
  | { kind: 'retry'; delaySeconds: number; failed: number }
  /** The last attempt failed too: the message goes to the dead-letter queue. */
  | { kind: 'exhausted'; failed: number };

/** SQS delays a message by at most 15 minutes. */
const MAX_DELAY_SECONDS = 900;

/**
 * The delay before attempt `attempt + 1`, in whole seconds (an SQS message delay): exponential,
 * with equal jitter (half fixed, half random), so a receiver that is down gets at least
 * half the window to come back, and failures that came together spread out. At least 1 s.
 */
export const webhookRetryDelaySeconds = (
  attempt: number,
  policy: BackoffPolicy,
  random: () => number,
): number => {
  const exponent = Math.min(Math.max(attempt, 1) - 1, 30);
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** exponent);
  const ms = ceiling / 2 + random() * (ceiling / 2);
  return Math.min(MAX_DELAY_SECONDS, Math.max(1, Math.ceil(ms / 1000)));
};

const USER_AGENT = 'browserfleet-webhooks/1';

/** What a task row and a session row share of their webhook bookkeeping. */
interface EndedRow {
  id: string;
  version: number;
  tenantId: string;
  webhook?: WebhookRecord;
  outbox?: WebhookOutbox;
}

/** The row an event is about, its `data`, and the store its bookkeeping is written to. */
interface Subject {
  row: EndedRow;
  /** The event's `data` (see WEBHOOK_PAYLOADS). */
  data: () => Promise<WebhookPayload['data']>;
  rows: VersionedRows<EndedRow>;
}

const loadSubject = async (
  deps: DeliverWebhookDeps,
  message: WebhookMessage,
): Promise<Subject | undefined> => {
  if ('taskId' in message) {
    const task = await deps.store.get(message.taskId);
    return task === undefined
      ? undefined
      : { row: task, data: () => deps.present(task), rows: deps.store as VersionedRows<EndedRow> };
  }
  const session = await deps.sessions.get(message.tenantId, message.sessionId);
  return session === undefined
    ? undefined
    : {
        row: session,
        data: async () => presentEndedSession(session),
        rows: deps.sessions as VersionedRows<EndedRow>,
      };
};

export const deliverWebhook = async (
  deps: DeliverWebhookDeps,
  input: { message: WebhookMessage },
): Promise<DeliverOutcome> => {
  const { message } = input;
  const attempt = message.attempt ?? 1;
  const subject = await loadSubject(deps, message);
  const found = subject?.row;
  if (subject === undefined || found?.webhook === undefined) return { kind: 'nothing', reason: 'missing' };
  const tenant = await deps.tenantWebhooks(found.tenantId);
  const delivered = new Set(found.webhook.delivered ?? []);
  const targets = [
    ...new Set([
      ...(found.webhook.url === undefined ? [] : [found.webhook.url]),
      ...tenantTargets(tenant, message.type),
    ]),
  ].filter((url) => !delivered.has(url));

  const now = deps.clock.now();
  const attempts: WebhookDelivery[] = await sendAll(
    deps,
    subject,
    targets,
    tenant?.secrets ?? [],
    input,
    now,
  );
  const succeeded = attempts.filter((a) => a.status !== undefined && a.status >= 200 && a.status < 300);
  // The message is in the queue's hands now: the outbox entry has done its job.
  await updateEndedRow(subject.rows, found, (t) => {
    if (t.webhook === undefined) return undefined;
    const clearOutbox = t.outbox?.eventId === message.eventId;
    if (attempts.length === 0 && !clearOutbox) return undefined;
    const { outbox: _outbox, ...rest } = t;
    return {
      ...(clearOutbox ? rest : t),
      webhook: {
        ...t.webhook,
        deliveries: recordDeliveries(t.webhook, attempts),
        ...(succeeded.length === 0 && t.webhook.delivered === undefined
          ? {}
          : { delivered: [...new Set([...(t.webhook.delivered ?? []), ...succeeded.map((a) => a.url)])] }),
      },
    };
  });
  if (targets.length === 0) return { kind: 'nothing', reason: 'no-targets' };
  const failed = attempts.length - succeeded.length;
  if (failed === 0) return { kind: 'delivered', targets: succeeded.length };
  if (attempt >= deps.maxAttempts) return { kind: 'exhausted', failed };
  return {
    kind: 'retry',
    failed,
    delaySeconds: webhookRetryDelaySeconds(attempt, deps.backoff, deps.random),
  };
};

const sendAll = async (
  deps: DeliverWebhookDeps,
  subject: Subject,
  targets: readonly string[],
  secrets: readonly SigningSecret[],
  input: { message: WebhookMessage },
  now: number,
): Promise<WebhookDelivery[]> => {
  if (targets.length === 0) return [];
  const at = new Date(now).toISOString();
  let headers: Record<string, string>;
  let body: string;
  try {
    const payload = { type: input.message.type, timestamp: at, data: await subject.data() };
    body = JSON.stringify(payload);
    headers = {
      ...signWebhook(secrets, { id: input.message.eventId, now, body }),
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
    };
  } catch (error) {
    const reason =
      secrets.length === 0 || (error as Error).message === 'no live signing secret'
        ? 'the tenant has no live signing secret (npm run admin -- webhook rotate-secret <tenant>)'
        : `the event could not be built: ${(error as Error).message}`;
    return targets.map((url) => ({ at, url, ms: 0, error: reason }));
  }
  return Promise.all(
    targets.map(async (url): Promise<WebhookDelivery> => {
      const answer = await deps.sender.send({ url, headers, body });
      return 'status' in answer
        ? {
            at,
            url,
            status: answer.status,
            ms: answer.ms,
            ...(answer.status >= 200 && answer.status < 300 ? {} : { error: `answered ${answer.status}` }),
          }
        : { at, url, ms: answer.ms, error: answer.error };
    }),
  );
};
