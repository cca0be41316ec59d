/**
 * The HTTP API's OpenAPI 3.1 document, generated (zod-openapi, on zod 4's JSON Schema) from
 * the schemas that validate requests and describe answers — never written by hand. One
 * operation per entry of `HTTP_ROUTES`, keyed by its route key: a route added to the
 * contracts without an operation here fails to compile.
 */
import { z } from 'zod';
import {
  createDocument,
  type ZodOpenApiOperationObject,
  type ZodOpenApiPathsObject,
  type ZodOpenApiResponsesObject,
} from 'zod-openapi';
import { HTTP_ROUTES, type HttpRouteKey } from '../../shared/contracts.js';
import { errorBodySchema } from '../../shared/error-body.js';
import { ERROR_CODES, type ErrorCode } from '../../shared/errors.js';
import { healthReportSchema, pressureSchema } from '../../shared/health/reports.js';
import { createSessionInputSchema } from '../../shared/session/session-input.js';
import { sessionListViewSchema, sessionViewSchema } from '../../shared/session/sessions-api.js';
import { listTasksQuerySchema } from '../../shared/task/list-tasks.js';
import { batchRequestSchema, idempotencyKeySchema } from '../../shared/task/submit-batch.js';
import { createTaskInputSchema } from '../../shared/task/task-input.js';
import { taskBatchViewSchema, taskListViewSchema, taskViewSchema } from '../../shared/task/task-view.js';
import { limitsViewSchema } from '../../shared/tenancy/tenant.js';
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from '../../shared/webhooks/webhook-event.js';
import { WEBHOOK_PAYLOADS } from '../../shared/webhooks/webhook-payloads.js';
import { httpStatusOf } from './error-mapping.js';
import {
  cancelledTaskExample,
  closedSessionExample,
  createSessionExample,
  createTaskExamples,
  ERROR_EXAMPLES,
  type ErrorStatus,
  endedSessionExample,
  failedTaskExample,
  healthExample,
  limitsExample,
  liveSessionExample,
  pressureExample,
  queuedTaskExample,
  succeededTaskExample,
} from './openapi-examples.js';
import { liveViewQuerySchema, sessionListQuerySchema, waitQuerySchema } from './query.js';

/** The security scheme's name in the document. */
export const API_KEY_SCHEME = 'apiKey';

const CODES = Object.values(ERROR_CODES) as ErrorCode[];

/**
 * The codes a status carries. Codes mapped to 500 reach a client as `INTERNAL` only (their
 * details go to the log), so a 500 lists that one.
 */
const codesOf = (status: ErrorStatus): ErrorCode[] =>
  status === 500 ? ['INTERNAL'] : CODES.filter((code) => httpStatusOf(code) === status);

const errorResponses = (...statuses: ErrorStatus[]): ZodOpenApiResponsesObject =>
  Object.fromEntries(
    statuses.map((status) => [
      String(status),
      {
        description: `Refused: ${codesOf(status).join(', ')}.${status === 429 ? ' Retry after the `Retry-After` header (seconds).' : ''}`,
        content: { 'application/json': { schema: errorBodySchema, example: ERROR_EXAMPLES[status] } },
      },
    ]),
  );

const json = (description: string, schema: z.ZodType, examples: Record<string, unknown>) => ({
  description,
  content: {
    'application/json': {
      schema,
      examples: Object.fromEntries(Object.entries(examples).map(([name, value]) => [name, { value }])),
    },
  },
});

const idPath = (what: 'task' | 'session') =>
  z.object({
    id: z
      .string()
      .min(1)
      .max(64)
      .meta({ description: `The ${what}'s id.` }),
  });

const idempotencyHeader = z.object({ 'idempotency-key': idempotencyKeySchema });

const jsonRpcRequest = z
  .looseObject({
    jsonrpc: z.literal('2.0'),
    id: z.union([z.string(), z.number()]).optional(),
    method: z.string(),
    params: z.record(z.string(), z.unknown()).optional(),
  })
  .meta({ id: 'JsonRpcRequest', description: 'A JSON-RPC 2.0 request of the Model Context Protocol.' });

const mcpNotServed = (method: string): ZodOpenApiOperationObject => ({
  operationId: `mcp${method}`,
  summary: `${method} /mcp (not served)`,
  description: 'The MCP server is stateless (Streamable HTTP without sessions): only POST is served.',
  tags: ['MCP'],
  responses: errorResponses(405),
});

const TASK_TAG = 'Tasks';
const SESSION_TAG = 'Sessions';
const PLATFORM_TAG = 'Platform';
const WEBHOOK_TAG = 'Webhooks';

/** Every route's operation. Errors every route can answer (401, 429, 500) are added by `buildOpenApiDocument`. */
export const OPERATIONS = {
  'POST /v1/tasks': {
    operationId: 'createTask',
    summary: 'Submit a task',
    description:
      'Validates the task, checks its URL against the egress policy and queues it. Answers `202` with the ' +
      'task, or `200` once it ended when `?wait=N` holds the answer that long. A task with its own ' +
      "`webhook` needs the tenant's webhook signing secret: without a live one it is refused with " +
      '`400 VALIDATION_FAILED` on field `webhook` (an operator creates the secret with ' +
      '`browserfleet admin webhook rotate-secret <tenant>`).',
    tags: [TASK_TAG],
    requestParams: { query: waitQuerySchema, header: idempotencyHeader },
    requestBody: {
      required: true,
      content: {
        'application/json': {
          schema: createTaskInputSchema.meta({ id: 'CreateTask' }),
          examples: createTaskExamples,
        },
      },
    },
    responses: {
      '200': json('The task ended within `?wait`.', taskViewSchema, { succeeded: succeededTaskExample }),
      '202': json('Accepted: the task is queued or running.', taskViewSchema, { queued: queuedTaskExample }),
      ...errorResponses(400, 409, 413, 415),
    },
  },
  'GET /v1/tasks': {
    operationId: 'listTasks',
    summary: 'List tasks',
    description:
      "The tenant's own tasks, newest first, a page at a time (`nextCursor` when older ones follow).",
    tags: [TASK_TAG],
    requestParams: { query: listTasksQuerySchema },
    responses: {
      '200': json('A page of tasks.', taskListViewSchema, { page: { tasks: [succeededTaskExample] } }),
      ...errorResponses(400),
    },
  },
  'POST /v1/tasks/batch': {
    operationId: 'createTaskBatch',
    summary: 'Submit up to 100 tasks',
    description:
      'Each item is submitted as `POST /v1/tasks` would submit it, with its own `idempotencyKey`; ' +
      'the answer has one result per item, in order. Partial success is normal: a refused item ' +
      'carries the error `POST /v1/tasks` would have answered.',
    tags: [TASK_TAG],
    requestBody: {
      required: true,
      content: {
        'application/json': {
          schema: batchRequestSchema,
          examples: {
            batch: {
              value: {
                tasks: [
                  { ...createTaskExamples.screenshot.value, idempotencyKey: 'home-1' },
                  createTaskExamples.pdf.value,
                ],
              },
            },
          },
        },
      },
    },
    responses: {
      '200': json('One result per item.', taskBatchViewSchema, {
        mixed: {
          results: [
            { index: 0, status: 202, task: queuedTaskExample },
            { index: 1, status: 400, error: ERROR_EXAMPLES[400].error },
          ],
        },
      }),
      ...errorResponses(400, 413, 415),
    },
  },
  'GET /v1/tasks/{id}': {
    operationId: 'getTask',
    summary: 'Get a task',
    description: 'The task as it stands, or once it ends within `?wait=N` seconds (a long-poll).',
    tags: [TASK_TAG],
    requestParams: { path: idPath('task'), query: waitQuerySchema },
    responses: {
      '200': json('The task.', taskViewSchema, {
        succeeded: succeededTaskExample,
        queued: queuedTaskExample,
      }),
      ...errorResponses(400, 404),
    },
  },
  'DELETE /v1/tasks/{id}': {
    operationId: 'cancelTask',
    summary: 'Cancel a task',
    description:
      'A queued task ends `cancelled` at once (`200`); a running one is asked to stop (`202`, `cancelRequested`).',
    tags: [TASK_TAG],
    requestParams: { path: idPath('task') },
    responses: {
      '200': json('Cancelled.', taskViewSchema, { cancelled: cancelledTaskExample }),
      '202': json('A cancel was requested of the running task.', taskViewSchema, {}),
      ...errorResponses(404, 409),
    },
  },
  'POST /v1/sessions': {
    operationId: 'createSession',
    summary: 'Create a live session',
    description: 'A browser to drive over the WebSocket API, CDP (`cdpUrl`) or Playwright (`playwrightUrl`).',
    tags: [SESSION_TAG],
    requestBody: {
      required: true,
      content: {
        'application/json': {
          schema: createSessionInputSchema.meta({ id: 'CreateSession' }),
          examples: { session: createSessionExample },
        },
      },
    },
    responses: {
      '201': json('Created: the session is pending until a worker starts its browser.', sessionViewSchema, {
        live: liveSessionExample,
      }),
      ...errorResponses(400, 413, 415),
    },
  },
  'GET /v1/sessions': {
    operationId: 'listSessions',
    summary: 'List sessions',
    description: "The tenant's own sessions, newest first.",
    tags: [SESSION_TAG],
    requestParams: { query: sessionListQuerySchema },
    responses: {
      '200': json('The sessions.', sessionListViewSchema, { sessions: { sessions: [liveSessionExample] } }),
      ...errorResponses(400),
    },
  },
  'GET /v1/sessions/{id}': {
    operationId: 'getSession',
    summary: 'Get a session',
    description:
      'The session, with fresh tickets in `cdpUrl`, `playwrightUrl` and `liveViewUrl` while it is open.',
    tags: [SESSION_TAG],
    requestParams: { path: idPath('session') },
    responses: {
      '200': json('The session.', sessionViewSchema, { live: liveSessionExample }),
      ...errorResponses(404),
    },
  },
  'DELETE /v1/sessions/{id}': {
    operationId: 'closeSession',
    summary: 'Close a session',
    tags: [SESSION_TAG],
    requestParams: { path: idPath('session') },
    responses: {
      '200': json('Closed (or already ended).', sessionViewSchema, { closed: closedSessionExample }),
      ...errorResponses(404),
    },
  },
  'GET /v1/sessions/{id}/live': {
    operationId: 'liveView',
    summary: 'The live-view page',
    description:
      "A web page with the session's screencast and takeover controls, reached with `liveViewUrl`'s ticket.",
    tags: [SESSION_TAG],
    requestParams: { path: idPath('session'), query: liveViewQuerySchema },
    responses: {
      '200': { description: 'The page.', content: { 'text/html': { schema: z.string() } } },
      ...errorResponses(400, 401),
    },
  },
  'GET /v1/limits': {
    operationId: 'getLimits',
    summary: "The tenant's limits and usage",
    tags: [PLATFORM_TAG],
    responses: { '200': json('Limits and usage.', limitsViewSchema, { limits: limitsExample }) },
  },
  'GET /v1/pressure': {
    operationId: 'getPressure',
    summary: 'How loaded the platform is',
    description: 'For load balancers, autoscalers and people: no key needed, no tenant data.',
    tags: [PLATFORM_TAG],
    responses: { '200': json('The current reading.', pressureSchema, { pressure: pressureExample }) },
  },
  'GET /health': {
    operationId: 'getHealth',
    summary: 'Health check',
    tags: [PLATFORM_TAG],
    responses: {
      '200': json('Every dependency answers.', healthReportSchema, { ok: healthExample }),
      '503': json('A dependency does not answer.', healthReportSchema, {}),
    },
  },
  'POST /mcp': {
    operationId: 'mcp',
    summary: 'MCP server (Streamable HTTP)',
    description: 'Tools that submit tasks and drive sessions, for agents. JSON-RPC 2.0 over POST.',
    tags: ['MCP'],
    requestBody: {
      required: true,
      content: {
        'application/json': {
          schema: jsonRpcRequest,
          examples: { listTools: { value: { jsonrpc: '2.0', id: 1, method: 'tools/list' } } },
        },
      },
    },
    responses: {
      '200': {
        description: 'The JSON-RPC response.',
        content: { 'application/json': { schema: z.looseObject({ jsonrpc: z.literal('2.0') }) } },
      },
      '202': { description: 'A notification was accepted (no response body).' },
      ...errorResponses(400, 403, 413, 415),
    },
  },
  'GET /mcp': mcpNotServed('Get'),
  'DELETE /mcp': mcpNotServed('Delete'),
  'GET /openapi.json': {
    operationId: 'getOpenApi',
    summary: 'This document',
    tags: [PLATFORM_TAG],
    responses: {
      '200': {
        description: 'The OpenAPI 3.1 document of this API.',
        content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } },
      },
    },
  },
  'GET /docs': {
    operationId: 'getDocs',
    summary: 'The API reference page',
    tags: [PLATFORM_TAG],
    responses: { '200': { description: 'The page.', content: { 'text/html': { schema: z.string() } } } },
  },
  'GET /docs/api-reference.js': {
    operationId: 'getDocsScript',
    summary: "The reference page's renderer (Scalar), served here",
    tags: [PLATFORM_TAG],
    responses: {
      '200': { description: 'The script.', content: { 'text/javascript': { schema: z.string() } } },
    },
  },
} satisfies Record<HttpRouteKey, ZodOpenApiOperationObject>;

/** `GET /v1/tasks/{id}` → `['get', '/v1/tasks/{id}']`. */
/** The Standard Webhooks headers every delivery carries. */
const WEBHOOK_HEADERS = [
  {
    name: 'webhook-id',
    description:
      '`msg_task_<task id>` or `msg_session_<session id>`: the same on every attempt and copy; dedupe on it.',
  },
  {
    name: 'webhook-timestamp',
    description: 'Unix seconds of the attempt (verification refuses 5 minutes off).',
  },
  {
    name: 'webhook-signature',
    description:
      '`v1,<base64>`, one per live secret of the tenant, space-separated: verify with a Standard Webhooks library.',
  },
].map((h) => ({ ...h, in: 'header' as const, required: true, schema: { type: 'string' as const } }));

const WEBHOOK_EXAMPLES: Record<WebhookEventType, unknown> = {
  'task.succeeded': succeededTaskExample,
  'task.failed': failedTaskExample,
  'task.cancelled': cancelledTaskExample,
  'session.ended': endedSessionExample,
};

/**
 * OpenAPI 3.1's `webhooks`: one POST per event type the platform sends to the task's own
 * URL and the tenant's endpoints; a 2xx is a delivery, anything else is retried.
 */
const buildWebhooks = (): ZodOpenApiPathsObject =>
  Object.fromEntries(
    WEBHOOK_EVENT_TYPES.map((type) => [
      type,
      {
        post: {
          operationId: `webhook_${type.replace('.', '_')}`,
          summary: `The ${type} event`,
          tags: [WEBHOOK_TAG],
          security: [],
          parameters: WEBHOOK_HEADERS,
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: WEBHOOK_PAYLOADS[type],
                example: { type, timestamp: '2026-12-02T19:42:11.000Z', data: WEBHOOK_EXAMPLES[type] },
              },
            },
          },
          responses: {
            '200': { description: 'Any 2xx: delivered; it is not sent to this URL again.' },
            default: { description: 'Anything else, or no answer in time: retried with backoff.' },
          },
        },
      },
    ]),
  );

export const splitRouteKey = (routeKey: string): [method: string, path: string] => {
  const [method = '', path = ''] = routeKey.split(' ');
  return [method.toLowerCase(), path];
};

/** The document; `serverUrl` is where the API is reached (the caller's own base URL). */
export const buildOpenApiDocument = (serverUrl?: string) => {
  const paths: ZodOpenApiPathsObject = {};
  for (const route of HTTP_ROUTES) {
    const [method, path] = splitRouteKey(route.routeKey);
    const operation: ZodOpenApiOperationObject = OPERATIONS[route.routeKey];
    paths[path] = {
      ...paths[path],
      [method]: {
        ...operation,
        // Open routes say so; the others take the document's default, the API key.
        ...(route.auth ? {} : { security: [] }),
        responses: {
          ...operation.responses,
          // 503: a dependency (DynamoDB, a session's worker) throttled or did not answer.
          ...errorResponses(...(route.auth ? ([401, 429, 500, 503] as const) : ([500] as const))),
        },
      },
    };
  }
  return nameJsonValues(
    createDocument({
      openapi: '3.1.0',
      info: {
        title: 'browserfleet API',
        version: '1',
        description:
          'Browser tasks (screenshot, PDF, content, markdown, scrape, links, evaluate) and live browser ' +
          'sessions, on your own AWS account or one machine. Every refusal answers ' +
          '`{ "error": { "code", "message" } }`; authenticated answers carry `RateLimit-*` headers.',
      },
      ...(serverUrl === undefined ? {} : { servers: [{ url: serverUrl }] }),
      tags: [
        { name: TASK_TAG, description: 'One-shot browser work, queued and run by a worker.' },
        { name: SESSION_TAG, description: 'Long-lived browsers driven over WebSocket, CDP or Playwright.' },
        { name: PLATFORM_TAG, description: 'Limits, load, health and this description.' },
        { name: 'MCP', description: 'The Model Context Protocol transport.' },
        { name: WEBHOOK_TAG, description: 'Events POSTed to your endpoints, signed per Standard Webhooks.' },
      ],
      security: [{ [API_KEY_SCHEME]: [] }],
      components: {
        securitySchemes: {
          [API_KEY_SCHEME]: {
            type: 'http',
            scheme: 'bearer',
            description:
              'An API key (`bf_…`) from `npm run admin -- key create <tenant>`: `Authorization: Bearer <key>`.',
          },
        },
      },
      paths,
      webhooks: buildWebhooks(),
    }),
  );
};

/**
 * zod's recursive `z.json()` (evaluate's `args`) becomes an anonymous component
 * (`__schema0`, one per direction): named here for readers of the document.
 */
const nameJsonValues = <D extends { components?: { schemas?: Record<string, unknown> } }>(document: D): D => {
  const anonymous = Object.keys(document.components?.schemas ?? {}).filter((name) =>
    /^__schema\d+$/.test(name),
  );
  let text = JSON.stringify(document);
  anonymous.forEach((name, i) => {
    text = text.replaceAll(`${name}"`, `JsonValue${i === 0 ? '' : i + 1}"`);
  });
  return JSON.parse(text) as D;
};

export type OpenApiDocument = ReturnType<typeof buildOpenApiDocument>;
