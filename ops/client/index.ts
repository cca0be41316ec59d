/**
 * The typed browserfleet client: `fetch` only, ESM, a user of the public HTTP API and
 * nothing else (its types come from the schemas that validate requests, imported as types).
 *
 *   const client = createClient({ baseUrl: 'http://127.0.0.1:3000', apiKey });
 *   const { task, body } = await client.tasks.run({ type: 'screenshot', url });
 *
 * Errors are `BrowserfleetApiError`s carrying the API's `code` (subclasses by status);
 * a 429 is retried after its `Retry-After`, and so are 5xx answers and network failures of
 * requests that are safe to repeat — a submit is, since it always carries an
 * Idempotency-Key (one is generated when the caller gives none).
 */
import type { z } from 'zod';
import type { sessionListQuerySchema, waitQuerySchema } from '../../functions/http/query.js';
import type { ErrorBody } from '../../shared/error-body.js';
// The one runtime import: a module of constants that imports nothing (the client bundles
// without the AWS SDK or any node-only module; test/unit/client-types.test.ts holds that line).
import { ERROR_CODES } from '../../shared/errors.js';
import type { CreateSessionInput, createSessionInputSchema } from '../../shared/session/session-input.js';
import type { SessionView, sessionListViewSchema } from '../../shared/session/sessions-api.js';
import type { listTasksQuerySchema } from '../../shared/task/list-tasks.js';
import type { batchRequestSchema } from '../../shared/task/submit-batch.js';
import type { createTaskInputSchema } from '../../shared/task/task-input.js';
import type { TaskBatchView, TaskListView, TaskView } from '../../shared/task/task-view.js';

// Every request and answer type here is inferred from the zod schemas the API validates
// requests with and describes its answers with (the ones its OpenAPI document is generated
// from); test/unit/client-types.test.ts fails if one drifts from its schema.
export type { ErrorBody, SessionView, TaskView };

type SessionList = z.output<typeof sessionListViewSchema>;
type ListTasksQuery = typeof listTasksQuerySchema;
/**
 * `GET /v1/tasks`'s filters and paging (`since`: ISO 8601 with a zone). `limit` is coerced
 * from the query string, so its input type is `unknown`: here it is what it coerces to.
 */
export type TaskListQuery = Omit<z.input<ListTasksQuery>, 'limit'> & {
  limit?: z.output<ListTasksQuery>['limit'];
};
/** `GET /v1/sessions`'s filters (its `limit` coerced from the query string, as above). */
export type SessionListQuery = z.output<typeof sessionListQuerySchema>;
/** `?wait=N`: seconds (at most 25) a request holds for the task to end. */
type WaitSeconds = z.output<typeof waitQuerySchema>['wait'];
/** One page of the tenant's tasks, newest first; `nextCursor` when older ones follow. */
export type TaskPage = TaskListView;
/** A batch item: a task body, with the Idempotency-Key it may be repeated under. */
export type BatchTaskRequest = z.input<typeof batchRequestSchema>['tasks'][number];
/**
 * One item's answer: `status` as POST /v1/tasks would have answered it alone; the task
 * (`replayed` when its idempotencyKey named a task an earlier request made), or the error.
 */
export type BatchItemResult = OneOf<TaskBatchView['results'][number]>;
type KeysOf<U> = U extends unknown ? keyof U : never;
/** A union whose members also name the others' keys as absent, so `r.task?.id` reads. */
type OneOf<U, All extends PropertyKey = KeysOf<U>> = U extends unknown
  ? U & { [K in Exclude<All, keyof U>]?: never }
  : never;
/**
 * A task as submitted (defaults may be left out). `cacheTTL` (seconds, 0–86,400) asks for the
 * result cache: a result of the same request this tenant made at most that long ago answers
 * at once, and this one is kept that long.
 */
export type TaskRequest = z.input<typeof createTaskInputSchema>;
/** With a `cacheTTL`: whether the task was answered from the cache, and from which task. */
export type TaskCache = NonNullable<TaskView['cache']>;
export type SessionRequest = z.input<typeof createSessionInputSchema>;
export type { CreateSessionInput };

/** A code the API answers with (`ErrorBody`'s, from the one error family's list). */
export type ApiErrorCode = ErrorBody['error']['code'];
/** Codes the client raises itself, where the API gave none. */
export const CLIENT_ERROR_CODES = {
  /** No answer: the connection failed or was reset (`status` 0). */
  NETWORK_ERROR: 'NETWORK_ERROR',
  /** An artifact's presigned URL did not answer 2xx. */
  DOWNLOAD_FAILED: 'DOWNLOAD_FAILED',
  /**
   * An answer that is not the API's error body (a proxy's 502), or a code this client does
   * not know (a newer API): the message keeps what was said.
   */
  UNEXPECTED_RESPONSE: 'UNEXPECTED_RESPONSE',
} as const;
export type ClientErrorCode = (typeof CLIENT_ERROR_CODES)[keyof typeof CLIENT_ERROR_CODES];
/** Every `code` a `BrowserfleetApiError` carries. */
export type BrowserfleetErrorCode = ApiErrorCode | ClientErrorCode;

const API_CODES: ReadonlySet<string> = new Set(Object.values(ERROR_CODES));
const isApiErrorCode = (code: unknown): code is ApiErrorCode =>
  typeof code === 'string' && API_CODES.has(code);

export interface ClientOptions {
  baseUrl: string;
  apiKey: string;
  /** Attempts for a retryable failure (429, 5xx, network), the first included. Default 4. */
  maxAttempts?: number;
  /** The longest `Retry-After` waited for; a longer one is thrown. Default 30 s. */
  maxRetryAfterMs?: number;
  fetch?: typeof fetch;
  /** How the client waits between attempts (tests give one that doesn't). */
  sleep?: (ms: number) => Promise<void>;
}

/** An answer of the API other than 2xx, or no answer at all (`status` 0). */
export class BrowserfleetApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: BrowserfleetErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(`${code}: ${message}`);
    this.name = new.target.name;
  }
}
export class ValidationError extends BrowserfleetApiError {}
export class UnauthorizedError extends BrowserfleetApiError {}
export class NotFoundError extends BrowserfleetApiError {}
export class ConflictError extends BrowserfleetApiError {}
export class RateLimitedError extends BrowserfleetApiError {}
export class ServerError extends BrowserfleetApiError {}
export class NetworkError extends BrowserfleetApiError {}

const errorClassFor = (status: number): typeof BrowserfleetApiError =>
  status === 0
    ? NetworkError
    : status === 400 || status === 413 || status === 415
      ? ValidationError
      : status === 401
        ? UnauthorizedError
        : status === 404
          ? NotFoundError
          : status === 409
            ? ConflictError
            : status === 429
              ? RateLimitedError
              : status >= 500
                ? ServerError
                : BrowserfleetApiError;

/** A task that ended: its view, and its first artifact's bytes when it has one. */
export interface RunResult {
  task: TaskView;
  body?: Uint8Array;
  contentType?: string;
}

const FINAL = new Set(['succeeded', 'failed', 'cancelled']);
/** The longest one request holds for a task (the API's `?wait` bound). */
const MAX_WAIT_SECONDS = 25;

export const createClient = (options: ClientOptions) => {
  const doFetch = options.fetch ?? fetch;
  const maxAttempts = options.maxAttempts ?? 4;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? 30_000;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const base = options.baseUrl.replace(/\/+$/, '');

  /** One API call; `repeatable` when sending it twice can't do the work twice. */
  const call = async <T>(
    method: string,
    path: string,
    init: { body?: unknown; headers?: Record<string, string>; repeatable: boolean },
  ): Promise<{ status: number; body: T }> => {
    for (let attempt = 1; ; attempt++) {
      let res: Response;
      try {
        res = await doFetch(`${base}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${options.apiKey}`,
            ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
            ...init.headers,
          },
          ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
        });
      } catch (error) {
        if (init.repeatable && attempt < maxAttempts) {
          await sleep(backoffMs(attempt));
          continue;
        }
        throw new NetworkError(
          0,
          CLIENT_ERROR_CODES.NETWORK_ERROR,
          `${method} ${path} failed: ${String(error)}`,
        );
      }
      const text = await res.text();
      const parsed = text === '' ? undefined : safeJson(text);
      if (res.ok) return { status: res.status, body: parsed as T };
      // An answer from something other than the API (a proxy's 502) may not be an ErrorBody.
      const error = (parsed as Partial<ErrorBody> | undefined)?.error;
      const retryAfterMs = Number(res.headers.get('retry-after') ?? Number.NaN) * 1000;
      const retryable = res.status === 429 || (res.status >= 500 && init.repeatable);
      if (retryable && attempt < maxAttempts) {
        const wait = Number.isFinite(retryAfterMs) ? retryAfterMs : backoffMs(attempt);
        if (wait <= maxRetryAfterMs) {
          await sleep(wait);
          continue;
        }
      }
      const ErrorClass = errorClassFor(res.status);
      const said = error?.message ?? (text.slice(0, 200) || res.statusText);
      throw isApiErrorCode(error?.code)
        ? new ErrorClass(res.status, error.code, said, error.details)
        : new ErrorClass(
            res.status,
            CLIENT_ERROR_CODES.UNEXPECTED_RESPONSE,
            `HTTP ${res.status}${error?.code === undefined ? '' : ` ${String(error.code)}`}: ${said}`,
            error?.details,
          );
    }
  };

  const submit = async (
    task: TaskRequest,
    submitOptions: { idempotencyKey?: string; waitSeconds?: WaitSeconds } = {},
  ): Promise<TaskView> => {
    const wait = submitOptions.waitSeconds ?? 0;
    const { body } = await call<TaskView>('POST', `/v1/tasks${wait > 0 ? `?wait=${wait}` : ''}`, {
      body: task,
      // Sent on every submit, so a retry (ours or the caller's) can't run the task twice.
      headers: { 'idempotency-key': submitOptions.idempotencyKey ?? crypto.randomUUID() },
      repeatable: true,
    });
    return body;
  };

  const get = async (id: string, getOptions: { waitSeconds?: WaitSeconds } = {}): Promise<TaskView> => {
    const wait = getOptions.waitSeconds ?? 0;
    const { body } = await call<TaskView>(
      'GET',
      `/v1/tasks/${encodeURIComponent(id)}${wait > 0 ? `?wait=${wait}` : ''}`,
      { repeatable: true },
    );
    return body;
  };

  /** Holds (long-polling) until the task ends or `timeoutMs` passes; answers it as it stands. */
  const waitFor = async (task: TaskView, timeoutMs = 300_000): Promise<TaskView> => {
    const deadline = Date.now() + timeoutMs;
    let current = task;
    while (!FINAL.has(current.status) && Date.now() < deadline) {
      const seconds = Math.max(1, Math.min(MAX_WAIT_SECONDS, Math.ceil((deadline - Date.now()) / 1000)));
      current = await get(current.id, { waitSeconds: seconds });
    }
    return current;
  };

  const download = async (url: string): Promise<{ body: Uint8Array; contentType: string }> => {
    const res = await doFetch(url);
    if (!res.ok) {
      throw new ServerError(
        res.status,
        CLIENT_ERROR_CODES.DOWNLOAD_FAILED,
        `The artifact answered ${res.status}.`,
      );
    }
    return {
      body: new Uint8Array(await res.arrayBuffer()),
      contentType: res.headers.get('content-type') ?? 'application/octet-stream',
    };
  };

  const query = (params: object): string => {
    const entries = Object.entries(params).filter(([, v]) => v !== undefined) as [string, string | number][];
    return entries.length === 0 ? '' : `?${new URLSearchParams(entries.map(([k, v]) => [k, String(v)]))}`;
  };

  const list = async (q: TaskListQuery = {}): Promise<TaskPage> =>
    (await call<TaskPage>('GET', `/v1/tasks${query(q)}`, { repeatable: true })).body;

  /** Every task the query matches, newest first, a page at a time (follows `nextCursor`). */
  async function* listAll(q: Omit<TaskListQuery, 'cursor'> = {}): AsyncGenerator<TaskView> {
    let cursor: string | undefined;
    do {
      const page = await list({ ...q, ...(cursor === undefined ? {} : { cursor }) });
      yield* page.tasks;
      cursor = page.nextCursor;
    } while (cursor !== undefined);
  }

  /**
   * Submits up to 100 tasks in one request; answers one result per item, in order. Each
   * item without an `idempotencyKey` is given one, so a retried batch (ours or the
   * caller's, with the same items) makes no task twice.
   */
  const batch = async (items: BatchTaskRequest[]): Promise<BatchItemResult[]> => {
    const tasks = items.map((item) => ({
      ...item,
      idempotencyKey: item.idempotencyKey ?? crypto.randomUUID(),
    }));
    return (
      await call<{ results: BatchItemResult[] }>('POST', '/v1/tasks/batch', {
        body: { tasks },
        repeatable: true,
      })
    ).body.results;
  };

  return {
    tasks: {
      submit,
      get,
      list,
      listAll,
      batch,
      waitFor,
      cancel: async (id: string): Promise<TaskView> =>
        (await call<TaskView>('DELETE', `/v1/tasks/${encodeURIComponent(id)}`, { repeatable: true })).body,
      /**
       * Submits, holds until the task ends, and downloads its first artifact. A task that
       * failed or was cancelled is answered as it ended (`task.status`, `task.error`).
       */
      run: async (
        task: TaskRequest,
        runOptions: { idempotencyKey?: string; timeoutMs?: number } = {},
      ): Promise<RunResult> => {
        const submitted = await submit(task, {
          waitSeconds: MAX_WAIT_SECONDS,
          ...(runOptions.idempotencyKey === undefined ? {} : { idempotencyKey: runOptions.idempotencyKey }),
        });
        const ended = await waitFor(submitted, runOptions.timeoutMs);
        const artifact = ended.result?.artifacts[0];
        if (ended.status !== 'succeeded' || artifact === undefined) return { task: ended };
        return { task: ended, ...(await download(artifact.url)) };
      },
    },
    sessions: {
      create: async (session: SessionRequest = {}): Promise<SessionView> =>
        (await call<SessionView>('POST', '/v1/sessions', { body: session, repeatable: false })).body,
      get: async (id: string): Promise<SessionView> =>
        (await call<SessionView>('GET', `/v1/sessions/${encodeURIComponent(id)}`, { repeatable: true })).body,
      list: async (q: SessionListQuery = {}): Promise<SessionView[]> =>
        (await call<SessionList>('GET', `/v1/sessions${query(q)}`, { repeatable: true })).body.sessions,
      close: async (id: string): Promise<SessionView> =>
        (await call<SessionView>('DELETE', `/v1/sessions/${encodeURIComponent(id)}`, { repeatable: true }))
          .body,
    },
  };
};

export type BrowserfleetClient = ReturnType<typeof createClient>;

/** Exponential backoff with full jitter, from 200 ms, capped at 5 s. */
const backoffMs = (attempt: number): number => Math.random() * Math.min(5_000, 200 * 2 ** (attempt - 1));

const safeJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};
