/**
 * What a client may submit. Strict schemas: unknown fields are rejected by name, every
 * number is bounded, and defaults are filled in so a stored task is fully specified.
 * Option names follow Puppeteer's `ScreenshotOptions`, `Viewport` and `GoToOptions`.
 */
import { z } from 'zod';
import { MAX_ATTEMPTS } from './task.js';

/** Longest task URL accepted; browsers cope with more, but nothing sane needs it. */
export const MAX_URL_LENGTH = 2048;

export const WAIT_UNTIL = ['load', 'domcontentloaded', 'networkidle0', 'networkidle2'] as const;
export const SCREENSHOT_FORMATS = ['png', 'jpeg', 'webp'] as const;

const CONTENT_TYPES = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
} as const satisfies Record<(typeof SCREENSHOT_FORMATS)[number], string>;

export const screenshotContentType = (format: (typeof SCREENSHOT_FORMATS)[number]): string =>
  CONTENT_TYPES[format];

const httpUrl = z
  .string()
  .max(MAX_URL_LENGTH, `must be at most ${MAX_URL_LENGTH} characters`)
  .pipe(z.url({ protocol: /^https?$/, error: 'must be an absolute http: or https: URL' }));

export const viewportSchema = z.strictObject({
  width: z.int().min(1).max(3840).default(1280),
  height: z.int().min(1).max(2160).default(720),
  /** Capped so a full-page capture can't ask for a gigapixel bitmap. */
  deviceScaleFactor: z.number().min(0.1).max(4).default(1),
});

export const screenshotOptionsSchema = z
  .strictObject({
    viewport: viewportSchema.prefault({}),
    fullPage: z.boolean().default(false),
    format: z.enum(SCREENSHOT_FORMATS).default('png'),
    quality: z.int().min(0).max(100).optional(),
    waitUntil: z.enum(WAIT_UNTIL).default('load'),
    /** The task's deadline, from claim to artifact. */
    timeoutMs: z.int().min(1_000).max(120_000).default(30_000),
  })
  .refine((o) => o.quality === undefined || o.format !== 'png', {
    path: ['quality'],
    message: 'is only allowed with format "jpeg" or "webp"',
  });

export type ScreenshotOptions = z.output<typeof screenshotOptionsSchema>;

export const createTaskInputSchema = z.discriminatedUnion(
  'type',
  [
    z.strictObject({
      type: z.literal('screenshot'),
      url: httpUrl,
      options: screenshotOptionsSchema.prefault({}),
      /** Executions that may fail (retryable errors, lost workers) before the task fails. */
      maxAttempts: z.int().min(MAX_ATTEMPTS.min).max(MAX_ATTEMPTS.max).default(MAX_ATTEMPTS.default),
    }),
  ],
  { error: 'must be one of: "screenshot"' },
);

export type CreateTaskInput = z.output<typeof createTaskInputSchema>;
export type TaskType = CreateTaskInput['type'];
