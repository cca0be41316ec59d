/**
 * The examples of the OpenAPI document: typed as what the API answers, so a field renamed in
 * a view fails to compile here, and checked against their own schemas by a test.
 */

import type { z } from 'zod';
import type { ErrorBody } from '../../shared/error-body.js';
import type { HealthReport, Pressure } from '../../shared/health/reports.js';
import type { createSessionInputSchema } from '../../shared/session/session-input.js';
import type { EndedSessionView, SessionView } from '../../shared/session/sessions-api.js';
import { type createTaskInputSchema, screenshotOptionsSchema } from '../../shared/task/task-input.js';
import type { TaskView } from '../../shared/task/task-view.js';
import type { LimitsView } from '../../shared/tenancy/tenant.js';

const TASK_ID = '01a23841-bb81-791b-bdb9-509357b8e4f6';
const SESSION_ID = '01a23842-0c3e-7a51-9d2f-6f1b0e4c9a10';
const AT = '2026-12-02T19:30:00.000Z';
const ENDED = '2026-12-02T19:30:01.412Z';

export const createTaskExamples = {
  screenshot: {
    summary: 'A full-page PNG screenshot',
    value: { type: 'screenshot', url: 'https://example.com/', options: { fullPage: true } },
  },
  pdf: {
    summary: 'An A4 PDF with backgrounds',
    value: {
      type: 'pdf',
      url: 'https://example.com/invoice',
      options: { format: 'a4', printBackground: true },
    },
  },
  scrape: {
    summary: 'The text of every heading',
    value: {
      type: 'scrape',
      url: 'https://example.com/',
      options: { elements: [{ name: 'headings', selector: 'h1, h2', all: true }] },
    },
  },
} satisfies Record<string, { summary: string; value: z.input<typeof createTaskInputSchema> }>;

const screenshotOptions = screenshotOptionsSchema.parse({ fullPage: true });

export const queuedTaskExample = {
  id: TASK_ID,
  type: 'screenshot',
  status: 'queued',
  url: 'https://example.com/',
  options: screenshotOptions,
  tier: 'lambda',
  createdAt: AT,
  updatedAt: AT,
  attempts: 0,
  maxAttempts: 3,
  history: [],
} satisfies TaskView;

/** A task's one attempt, on the Lambda tier, ended with `outcome`. */
const ranOnce = (outcome: 'succeeded' | 'failed', error?: { code: string; message: string }) => ({
  ...queuedTaskExample,
  status: outcome,
  updatedAt: ENDED,
  startedAt: '2026-12-02T19:30:00.120Z',
  endedAt: ENDED,
  attempts: 1,
  history: [
    {
      attempt: 1,
      worker: 'lambda-7f3a',
      startedAt: '2026-12-02T19:30:00.120Z',
      endedAt: ENDED,
      outcome,
      ...(error === undefined ? {} : { error }),
    },
  ],
});

export const succeededTaskExample = {
  ...ranOnce('succeeded'),
  result: {
    artifacts: [
      {
        name: 'screenshot.png',
        contentType: 'image/png',
        size: 48213,
        url: `https://artifacts.example.com/tasks/${TASK_ID}/1/screenshot.png?X-Amz-Signature=…`,
        urlExpiresIn: 3600,
      },
    ],
    finalUrl: 'https://example.com/',
    httpStatus: 200,
    timings: { queueWaitMs: 118, launchMs: 0, navigationMs: 612, captureMs: 240 },
    browserMs: 1180,
  },
} satisfies TaskView;

const SCRIPT_ERROR = { code: 'SCRIPT_ERROR', message: 'The script threw: boom' };

export const failedTaskExample = {
  ...ranOnce('failed', SCRIPT_ERROR),
  error: SCRIPT_ERROR,
} satisfies TaskView;

export const cancelledTaskExample = {
  ...queuedTaskExample,
  status: 'cancelled',
  updatedAt: ENDED,
  endedAt: ENDED,
} satisfies TaskView;

export const createSessionExample = {
  summary: 'A session of 30 minutes, ended after 2 idle minutes',
  value: { timeoutMs: 1_800_000, idleTimeoutMs: 120_000, viewport: { width: 1440, height: 900 } },
} satisfies { summary: string; value: z.input<typeof createSessionInputSchema> };

const ticket = 'eyJzaWQiOiIwMWEy…';
export const liveSessionExample = {
  id: SESSION_ID,
  status: 'live',
  createdAt: AT,
  liveAt: '2026-12-02T19:30:01.020Z',
  expiresAt: '2026-12-02T20:00:01.020Z',
  timeoutMs: 1_800_000,
  idleTimeoutMs: 120_000,
  viewport: { width: 1440, height: 900, deviceScaleFactor: 1 },
  websocketUrl: 'wss://ws.example.com/prod',
  cdpUrl: `wss://cdp.example.com/v1/sessions/${SESSION_ID}/cdp?ticket=${ticket}`,
  playwrightUrl: `wss://cdp.example.com/v1/sessions/${SESSION_ID}/playwright?ticket=${ticket}`,
  liveViewUrl: `https://api.example.com/v1/sessions/${SESSION_ID}/live?ticket=${ticket}`,
  ticketExpiresAt: '2026-12-02T19:40:01.000Z',
} satisfies SessionView;

export const closedSessionExample = {
  id: SESSION_ID,
  status: 'closed',
  createdAt: AT,
  liveAt: '2026-12-02T19:30:01.020Z',
  endedAt: '2026-12-02T19:42:10.500Z',
  expiresAt: '2026-12-02T20:00:01.020Z',
  timeoutMs: 1_800_000,
  idleTimeoutMs: 120_000,
  viewport: { width: 1440, height: 900, deviceScaleFactor: 1 },
  websocketUrl: 'wss://ws.example.com/prod',
  endReason: { code: 'CLOSED_BY_CLIENT', message: 'The client closed the session.' },
} satisfies SessionView;

/** What a `session.ended` event carries: the closed session without its URLs. */
export const endedSessionExample = (({ websocketUrl: _ws, ...ended }) => ended)(
  closedSessionExample,
) satisfies EndedSessionView;

export const limitsExample = {
  tenantId: 'acme',
  limits: { requestsPerSecond: 10, burst: 20, maxQueuedTasks: 100, maxRunningTasks: 10, maxLiveSessions: 5 },
  usage: { queuedTasks: 2, runningTasks: 1, liveSessions: 0 },
} satisfies LimitsView;

export const pressureExample = {
  accepting: true,
  running: 3,
  queued: { fleet: 4, lambda: 0 },
  inFlight: { fleet: 2, lambda: 1 },
  at: AT,
} satisfies Pressure;

export const healthExample = {
  status: 'ok',
  dependencies: {
    dynamodb: { status: 'up', latencyMs: 6 },
    sqs: { status: 'up', latencyMs: 4 },
    s3: { status: 'up', latencyMs: 5 },
  },
} satisfies HealthReport;

/** One refusal per status the API answers with, each with a code that status carries. */
export const ERROR_EXAMPLES = {
  400: {
    error: {
      code: 'VALIDATION_FAILED',
      message: 'options.quality: is only allowed with format "jpeg" or "webp"',
      details: {
        issues: [{ field: 'options.quality', message: 'is only allowed with format "jpeg" or "webp"' }],
      },
    },
  },
  401: { error: { code: 'UNAUTHORIZED', message: 'Missing API key: send Authorization: Bearer <key>.' } },
  403: { error: { code: 'FORBIDDEN_ORIGIN', message: 'Origin https://evil.example is not allowed.' } },
  404: { error: { code: 'NOT_FOUND', message: `Task ${TASK_ID} not found.` } },
  405: {
    error: { code: 'METHOD_NOT_ALLOWED', message: 'GET /mcp is not served: this MCP server is stateless.' },
  },
  409: { error: { code: 'TASK_ALREADY_ENDED', message: `Task ${TASK_ID} already ended (succeeded).` } },
  413: { error: { code: 'PAYLOAD_TOO_LARGE', message: 'Request body is larger than 262144 bytes.' } },
  415: { error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Content-Type must be application/json.' } },
  429: { error: { code: 'RATE_LIMITED', message: 'Rate limit of 10 requests/s exceeded; retry after 1 s.' } },
  500: { error: { code: 'INTERNAL', message: 'Internal error. The request can be retried.' } },
  503: { error: { code: 'DEPENDENCY_UNAVAILABLE', message: 'DynamoDB did not answer; retry shortly.' } },
} as const satisfies Record<number, ErrorBody>;
export type ErrorStatus = keyof typeof ERROR_EXAMPLES;
