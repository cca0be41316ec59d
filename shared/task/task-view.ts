/**
 * The JSON a client sees for a task: no lease internals, artifact keys swapped for URLs.
 * The zod schema is the one description of it: `TaskView` is inferred from it, the HTTP
 * API's OpenAPI document is generated from it, and the typed client reads its types from it.
 */

import { z } from 'zod';
import { errorBodySchema } from '../error-body.js';
import { TASK_STATUSES, type Task, type TaskResult } from './task.js';
import {
  contentOptionsSchema,
  evaluateOptionsSchema,
  linksOptionsSchema,
  markdownOptionsSchema,
  pdfOptionsSchema,
  scrapeOptionsSchema,
  screenshotOptionsSchema,
  TASK_TYPES,
} from './task-input.js';

const isoTime = z.string().meta({ description: 'ISO-8601 time', example: '2026-12-02T19:30:00.000Z' });

export const artifactViewSchema = z
  .object({
    name: z.string(),
    contentType: z.string(),
    size: z.int().min(0),
    /** A presigned, expiring URL. */
    url: z.string(),
    /** Seconds the URL stays valid after the response is made. */
    urlExpiresIn: z.int().min(0),
  })
  .meta({ id: 'Artifact', description: 'A file the task produced, behind an expiring URL.' });
export type ArtifactView = z.output<typeof artifactViewSchema>;

export const taskErrorSchema = z
  .object({ code: z.string(), message: z.string() })
  .meta({ id: 'TaskError', description: 'Why an attempt or the task failed (an error code and a message).' });

export const attemptRecordSchema = z
  .object({
    attempt: z.int().min(1),
    worker: z.string(),
    startedAt: isoTime,
    endedAt: isoTime,
    outcome: z.enum(['succeeded', 'failed', 'retried', 'lease-expired', 'handed-back', 'cancelled']),
    error: taskErrorSchema.optional(),
  })
  .meta({ id: 'Attempt', description: 'One execution of the task and how it ended.' });

const taskWarningSchema = z.object({
  code: z.literal('MISSING_GLYPHS'),
  message: z.string(),
  /** `U+XXXX`, in page order, at most 32. */
  codePoints: z.array(z.string()),
  count: z.int().min(0),
});

/** Keyed by the stored result's fields: one added there fails to compile until it is described here. */
const taskResultViewShape = {
  artifacts: z.array(artifactViewSchema),
  finalUrl: z.string().optional(),
  httpStatus: z.int().optional(),
  /** JSON results (scrape, links, evaluate, markdown, content) when small enough to inline. */
  data: z.unknown().optional(),
  timings: z
    .object({
      queueWaitMs: z.number(),
      launchMs: z.number(),
      navigationMs: z.number(),
      captureMs: z.number(),
    })
    .optional(),
  /** Billable browser time: the task's browser context, open to closed. */
  browserMs: z.number().optional(),
  blockedRequests: z.array(z.object({ url: z.string(), reason: z.string() })).optional(),
  blockedRequestsTotal: z.int().optional(),
  warnings: z.array(taskWarningSchema).optional(),
} satisfies Record<keyof TaskResult, z.ZodType>;

export const taskResultViewSchema = z
  .object(taskResultViewShape)
  .meta({ id: 'TaskResult', description: 'What a task that succeeded produced.' });

/** A task's options as stored: the request's, with every default filled in. */
const taskOptionsViewSchema = z.union([
  screenshotOptionsSchema,
  pdfOptionsSchema,
  contentOptionsSchema,
  markdownOptionsSchema,
  scrapeOptionsSchema,
  linksOptionsSchema,
  evaluateOptionsSchema,
]);

const webhookViewSchema = z
  .object({
    url: z.string().optional(),
    deliveries: z.array(
      z.object({
        /** When the attempt started. */
        at: isoTime,
        url: z.string(),
        /** The receiver's HTTP status; absent when no answer came (refused, timed out, blocked). */
        status: z.int().optional(),
        ms: z.number(),
        error: z.string().optional(),
      }),
    ),
  })
  .meta({
    id: 'WebhookRecord',
    description: 'Where the task’s end is told, and the latest delivery attempts.',
  });

export const taskViewSchema = z
  .object({
    id: z.string(),
    type: z.enum(TASK_TYPES),
    status: z.enum(TASK_STATUSES),
    url: z.string(),
    options: taskOptionsViewSchema,
    tier: z.enum(['lambda', 'fleet']),
    createdAt: isoTime,
    updatedAt: isoTime,
    startedAt: isoTime.optional(),
    endedAt: isoTime.optional(),
    attempts: z.int().min(0),
    maxAttempts: z.int().min(1),
    /** Present while a cancel request waits for the running owner to stop. */
    cancelRequested: z.literal(true).optional(),
    /** Every execution so far and how it ended. */
    history: z.array(attemptRecordSchema),
    result: taskResultViewSchema.optional(),
    error: taskErrorSchema.optional(),
    /** The `cacheTTL` asked for (seconds), when it is not 0. */
    cacheTTL: z.int().min(1).max(86_400).optional(),
    /**
     * With a `cacheTTL`: whether the result came from the result cache (no browser ran; its
     * artifacts are the source task's), from which task, and until when that entry answers.
     */
    cache: z
      .union([
        z.object({ hit: z.literal(false) }),
        z.object({ hit: z.literal(true), sourceTaskId: z.string(), expiresAt: isoTime }),
      ])
      .optional(),
    /** The task's webhook: its own URL (if any) and the latest delivery attempts. */
    webhook: webhookViewSchema.optional(),
  })
  .meta({ id: 'Task', description: 'A task as its tenant sees it.' });

export type TaskView = z.output<typeof taskViewSchema>;

export const toTaskView = (
  task: Task,
  artifactUrls: ReadonlyMap<string, string> = new Map(),
  urlExpiresIn = 0,
): TaskView => ({
  id: task.id,
  type: task.type,
  status: task.status,
  url: task.url,
  options: task.options,
  tier: task.tier,
  createdAt: task.createdAt,
  updatedAt: task.updatedAt,
  ...(task.startedAt === undefined ? {} : { startedAt: task.startedAt }),
  ...(task.endedAt === undefined ? {} : { endedAt: task.endedAt }),
  attempts: task.attempts,
  maxAttempts: task.maxAttempts,
  ...(task.cancelRequested === true && task.status === 'running' ? { cancelRequested: true as const } : {}),
  history: task.history,
  ...(task.result === undefined
    ? {}
    : {
        result: {
          ...task.result,
          artifacts: task.result.artifacts.map((a) => ({
            name: a.name,
            contentType: a.contentType,
            size: a.size,
            url: artifactUrls.get(a.key) ?? '',
            urlExpiresIn,
          })),
        },
      }),
  ...(task.error === undefined ? {} : { error: task.error }),
  ...(task.cacheTTL === undefined
    ? {}
    : {
        cacheTTL: task.cacheTTL,
        cache: task.cacheHit === undefined ? { hit: false } : { hit: true, ...task.cacheHit },
      }),
  ...(task.webhook === undefined
    ? {}
    : {
        webhook: {
          ...(task.webhook.url === undefined ? {} : { url: task.webhook.url }),
          deliveries: task.webhook.deliveries,
        },
      }),
});

/** What `GET /v1/tasks` answers: a page of the tenant's tasks, newest first. */
export const taskListViewSchema = z
  .object({
    tasks: z.array(taskViewSchema),
    /** Pass as `cursor` for the next (older) page; absent on the last page. */
    nextCursor: z.string().optional().meta({ description: 'Pass as `cursor` for the next (older) page.' }),
  })
  .meta({ id: 'TaskList', description: "A page of the tenant's tasks, newest first." });
export type TaskListView = z.output<typeof taskListViewSchema>;

/** What `POST /v1/tasks/batch` answers: one result per item, in order. */
export const taskBatchViewSchema = z
  .object({
    results: z.array(
      z.union([
        z.object({
          index: z.int().min(0),
          /** As `POST /v1/tasks` would have answered this item: 202, or 200 if it had ended. */
          status: z.int(),
          /** The item's `idempotencyKey` named an earlier task: that one is answered. */
          replayed: z.boolean().optional(),
          task: taskViewSchema,
        }),
        z.object({ index: z.int().min(0), status: z.int(), error: errorBodySchema.shape.error }),
      ]),
    ),
  })
  .meta({ id: 'TaskBatch', description: 'One result per item: the task, or why it was refused.' });
export type TaskBatchView = z.output<typeof taskBatchViewSchema>;
