/**
 * The typed client's types are the API's schemas: every request and answer type of
 * `ops/client` is compared here with `z.input` / `z.output` of the schema the API validates
 * with and the OpenAPI document is built from, and the error `code` with the one error
 * family's list. The `expectTypeOf` lines are checked by `tsc --noEmit` (test/ is in the
 * project): a type that drifts from its schema fails the typecheck. The runtime lines hold
 * what types can't: the document uses these very schemas, an unknown code is not passed
 * off as a known one, and the client bundles with no AWS SDK or node-only module.
 */
import { join } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { z } from 'zod';
import { OPERATIONS } from '../../functions/http/openapi-document.js';
import type { sessionListQuerySchema, waitQuerySchema } from '../../functions/http/query.js';
import {
  type ApiErrorCode,
  type BatchItemResult,
  type BatchTaskRequest,
  type BrowserfleetApiError,
  type BrowserfleetClient,
  CLIENT_ERROR_CODES,
  type ClientErrorCode,
  createClient,
  ServerError,
  type SessionRequest,
  type SessionView,
  type TaskListQuery,
  type TaskPage,
  type TaskRequest,
  type TaskView,
  ValidationError,
} from '../../ops/client/index.js';
import type { errorBodySchema } from '../../shared/error-body.js';
import { ERROR_CODES, type ErrorCode } from '../../shared/errors.js';
import type { createSessionInputSchema } from '../../shared/session/session-input.js';
import type { sessionListViewSchema, sessionViewSchema } from '../../shared/session/sessions-api.js';
import type { listTasksQuerySchema } from '../../shared/task/list-tasks.js';
import { batchRequestSchema } from '../../shared/task/submit-batch.js';
import { createTaskInputSchema } from '../../shared/task/task-input.js';
import { taskBatchViewSchema, taskListViewSchema, taskViewSchema } from '../../shared/task/task-view.js';

const ROOT = join(import.meta.dirname, '../..');

type Tasks = BrowserfleetClient['tasks'];
type Sessions = BrowserfleetClient['sessions'];
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

describe('the client types are the schemas', () => {
  it('requests are the input types of the schemas the API validates with', () => {
    expectTypeOf<TaskRequest>().toEqualTypeOf<z.input<typeof createTaskInputSchema>>();
    expectTypeOf<Tasks['submit']>().parameter(0).toEqualTypeOf<z.input<typeof createTaskInputSchema>>();
    expectTypeOf<Tasks['run']>().parameter(0).toEqualTypeOf<z.input<typeof createTaskInputSchema>>();
    expectTypeOf<Tasks['batch']>()
      .parameter(0)
      .toEqualTypeOf<z.input<typeof batchRequestSchema>['tasks'][number][]>();
    // A batch item is a task body and its key, nothing else.
    expectTypeOf<BatchTaskRequest['idempotencyKey']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<DistributiveOmit<BatchTaskRequest, 'idempotencyKey'>>().toEqualTypeOf<
      DistributiveOmit<z.input<typeof createTaskInputSchema>, never>
    >();
    expectTypeOf<SessionRequest>().toEqualTypeOf<z.input<typeof createSessionInputSchema>>();
    expectTypeOf<Sessions['create']>()
      .parameter(0)
      .toEqualTypeOf<z.input<typeof createSessionInputSchema> | undefined>();
    // Query strings: what a coerced field parses to, the rest as the schema takes them.
    expectTypeOf<TaskListQuery['limit']>().toEqualTypeOf<
      z.output<typeof listTasksQuerySchema>['limit'] | undefined
    >();
    expectTypeOf<Omit<TaskListQuery, 'limit'>>().toEqualTypeOf<
      Omit<z.input<typeof listTasksQuerySchema>, 'limit'>
    >();
    expectTypeOf<Sessions['list']>()
      .parameter(0)
      .toEqualTypeOf<z.output<typeof sessionListQuerySchema> | undefined>();
    expectTypeOf<NonNullable<Parameters<Tasks['get']>[1]>['waitSeconds']>().toEqualTypeOf<
      z.output<typeof waitQuerySchema>['wait']
    >();
  });

  it('answers are the output types of the schemas the API describes them with', () => {
    expectTypeOf<TaskView>().toEqualTypeOf<z.output<typeof taskViewSchema>>();
    expectTypeOf<Tasks['get']>().returns.resolves.toEqualTypeOf<z.output<typeof taskViewSchema>>();
    expectTypeOf<Tasks['cancel']>().returns.resolves.toEqualTypeOf<z.output<typeof taskViewSchema>>();
    expectTypeOf<TaskPage>().toEqualTypeOf<z.output<typeof taskListViewSchema>>();
    expectTypeOf<SessionView>().toEqualTypeOf<z.output<typeof sessionViewSchema>>();
    expectTypeOf<Sessions['list']>().returns.resolves.toEqualTypeOf<
      z.output<typeof sessionListViewSchema>['sessions']
    >();
    // The schema's union, each member naming the other's keys as absent: the same values.
    type Raw = z.output<typeof taskBatchViewSchema>['results'][number];
    expectTypeOf<Raw>().toExtend<BatchItemResult>();
    expectTypeOf<BatchItemResult>().toExtend<Raw>();
    expectTypeOf<NonNullable<BatchItemResult['task']>>().toEqualTypeOf<z.output<typeof taskViewSchema>>();
    expectTypeOf<NonNullable<BatchItemResult['error']>>().toEqualTypeOf<
      z.output<typeof errorBodySchema>['error']
    >();
  });

  it('an error code is one of the error family, or one the client raises itself', () => {
    expectTypeOf<ApiErrorCode>().toEqualTypeOf<ErrorCode>();
    expectTypeOf<BrowserfleetApiError['code']>().toEqualTypeOf<ErrorCode | ClientErrorCode>();
    // The client's own codes are not the API's: a code names one thing.
    expect(Object.values(CLIENT_ERROR_CODES).filter((c) => c in ERROR_CODES)).toEqual([]);
  });

  it("the OpenAPI document describes the batch with the client's schemas", () => {
    const batch = OPERATIONS['POST /v1/tasks/batch'];
    expect(batch.requestBody.content['application/json'].schema).toBe(batchRequestSchema);
    expect(batch.responses['200'].content['application/json'].schema).toBe(taskBatchViewSchema);
    expect(OPERATIONS['GET /v1/tasks/{id}'].responses['200'].content['application/json'].schema).toBe(
      taskViewSchema,
    );
    expect(OPERATIONS['GET /v1/tasks'].responses['200'].content['application/json'].schema).toBe(
      taskListViewSchema,
    );
    // Each batch item is a task body's own schema, plus its key.
    const items = batchRequestSchema.shape.tasks.element.options;
    expect(items.map((o) => Object.keys(o.shape).sort())).toEqual(
      createTaskInputSchema.options.map((o) => [...Object.keys(o.shape), 'idempotencyKey'].sort()),
    );
  });
});

describe('the client at run time', () => {
  const answering = (status: number, body: string) =>
    createClient({
      baseUrl: 'http://127.0.0.1:9',
      apiKey: 'bf_test',
      maxAttempts: 1,
      fetch: async () => new Response(body, { status, headers: { 'content-type': 'application/json' } }),
    });

  it('passes a known code on, and does not pass an unknown one off as known', async () => {
    const known = await answering(
      400,
      JSON.stringify({ error: { code: 'VALIDATION_FAILED', message: 'url: bad' } }),
    )
      .tasks.get('t')
      .catch((e: unknown) => e);
    expect(known).toBeInstanceOf(ValidationError);
    expect(known).toMatchObject({
      status: 400,
      code: 'VALIDATION_FAILED',
      message: 'VALIDATION_FAILED: url: bad',
    });

    const unknown = await answering(
      400,
      JSON.stringify({ error: { code: 'FROM_A_NEWER_API', message: 'no' } }),
    )
      .tasks.get('t')
      .catch((e: unknown) => e);
    expect(unknown).toMatchObject({ status: 400, code: 'UNEXPECTED_RESPONSE' });
    expect((unknown as Error).message).toMatch(/FROM_A_NEWER_API: no/);

    const proxy = await answering(502, '<html>Bad Gateway</html>')
      .tasks.get('t')
      .catch((e: unknown) => e);
    expect(proxy).toBeInstanceOf(ServerError);
    expect(proxy).toMatchObject({ status: 502, code: 'UNEXPECTED_RESPONSE' });
    expect((proxy as Error).message).toMatch(/Bad Gateway/);
  });

  it('bundles from its own files and the pure error list only: no SDK, no node module', async () => {
    const out = await build({
      entryPoints: [join(ROOT, 'ops/client/index.ts')],
      absWorkingDir: ROOT,
      bundle: true,
      // Neutral: a node built-in (or anything unresolved) is an error, not an external.
      platform: 'neutral',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    expect(Object.keys(out.metafile.inputs).sort()).toEqual(['ops/client/index.ts', 'shared/errors.ts']);
  });
});
