/**
 * What a client may submit. Strict schemas: unknown fields are rejected by name, every
 * number and string is bounded, and defaults are filled in so a stored task is fully
 * specified. Option names follow Puppeteer's (`ScreenshotOptions`, `PDFOptions`,
 * `GoToOptions`, `Viewport`), the vocabulary browserless and Cloudflare users know.
 */

import { z } from 'zod';
import { RESULT_CACHE } from '../contracts.js';
import type { Tier } from '../core/fleet-queue.js';
import { httpUrl, pageOptions, selector } from '../core/page-options.js';
import { OUTPUT_CAPS } from '../output-caps.js';

/** Default and bounds of `maxAttempts` (a request's, and a new task's when it names none). */
export const MAX_ATTEMPTS = { default: 3, min: 1, max: 10 } as const;

export const SCREENSHOT_FORMATS = ['png', 'jpeg', 'webp'] as const;
export const PAPER_FORMATS = [
  'letter',
  'legal',
  'tabloid',
  'ledger',
  'a0',
  'a1',
  'a2',
  'a3',
  'a4',
  'a5',
  'a6',
] as const;
export const TASK_TYPES = [
  'screenshot',
  'pdf',
  'content',
  'markdown',
  'scrape',
  'links',
  'evaluate',
] as const;
export type TaskType = (typeof TASK_TYPES)[number];

const CONTENT_TYPES = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
} as const satisfies Record<(typeof SCREENSHOT_FORMATS)[number], string>;

export const screenshotContentType = (format: (typeof SCREENSHOT_FORMATS)[number]): string =>
  CONTENT_TYPES[format];

const clipSchema = z.strictObject({
  x: z.number().min(0).max(100_000),
  y: z.number().min(0).max(100_000),
  width: z.number().positive().max(10_000),
  height: z.number().positive().max(10_000),
});

export const screenshotOptionsSchema = z
  .strictObject({
    ...pageOptions,
    fullPage: z.boolean().default(false),
    format: z.enum(SCREENSHOT_FORMATS).default('png'),
    quality: z.int().min(0).max(100).optional(),
    omitBackground: z.boolean().default(false),
    /** A region of the page, in CSS pixels. */
    clip: clipSchema.optional(),
    /** Capture just the first element matching this selector. */
    selector: selector.optional(),
  })
  .refine((o) => o.quality === undefined || o.format !== 'png', {
    path: ['quality'],
    message: 'is only allowed with format "jpeg" or "webp"',
  })
  .refine((o) => [o.fullPage, o.clip !== undefined, o.selector !== undefined].filter(Boolean).length <= 1, {
    path: ['clip'],
    message: 'fullPage, clip and selector are mutually exclusive',
  });

const cssLength = z
  .union([
    z.number().min(0).max(10_000),
    z.string().regex(/^\d+(\.\d+)?(px|in|cm|mm)$/, 'must be like "1cm"'),
  ])
  .exactOptional();

export const pdfOptionsSchema = z.strictObject({
  ...pageOptions,
  format: z.enum(PAPER_FORMATS).default('a4'),
  landscape: z.boolean().default(false),
  margin: z.strictObject({ top: cssLength, right: cssLength, bottom: cssLength, left: cssLength }).optional(),
  printBackground: z.boolean().default(false),
  displayHeaderFooter: z.boolean().default(false),
  headerTemplate: z.string().max(16_384).optional(),
  footerTemplate: z.string().max(16_384).optional(),
  /** e.g. `1-5, 8, 11-13`. */
  pageRanges: z
    .string()
    .regex(/^\s*\d+(\s*-\s*\d+)?(\s*,\s*\d+(\s*-\s*\d+)?)*\s*$/, 'must be like "1-5, 8, 11-13"')
    .optional(),
  scale: z.number().min(0.1).max(2).default(1),
  preferCSSPageSize: z.boolean().default(false),
});

export const contentOptionsSchema = z.strictObject({ ...pageOptions });
export const markdownOptionsSchema = z.strictObject({ ...pageOptions });
export const linksOptionsSchema = z.strictObject({
  ...pageOptions,
  /** Only links a person could see. */
  visibleOnly: z.boolean().default(false),
});

export const scrapeElementSchema = z.strictObject({
  /** Key of this element's value in the result. */
  name: z.string().min(1).max(128),
  selector,
  /** What to read: its text, its outer HTML, or one attribute. */
  extract: z.enum(['text', 'html', 'attribute']).default('text'),
  attribute: z.string().min(1).max(128).optional(),
  /** Every match (an array) or the first (a value or null). */
  all: z.boolean().default(false),
});

export const scrapeOptionsSchema = z.strictObject({
  ...pageOptions,
  elements: z
    .array(
      scrapeElementSchema.refine((e) => (e.extract === 'attribute') === (e.attribute !== undefined), {
        path: ['attribute'],
        message: 'is required with extract "attribute", and only then',
      }),
    )
    .min(1)
    .max(50)
    .refine((els) => new Set(els.map((e) => e.name)).size === els.length, 'names must be unique'),
});

/** Size limits of `evaluate`: the script, its arguments and its JSON result. */
export const EVALUATE_LIMITS = {
  scriptBytes: 64 * 1024,
  argsBytes: 16 * 1024,
  /** Enforced in the page, with every other type's cap (see OUTPUT_CAPS). */
  resultBytes: OUTPUT_CAPS.evaluate,
} as const;

const jsonSize = (value: unknown): number => Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');

export const evaluateOptionsSchema = z.strictObject({
  ...pageOptions,
  /**
   * The source of a function, run in the page (never in the worker), e.g.
   * `async (selector) => document.querySelector(selector).textContent`.
   */
  script: z.string().min(1).max(EVALUATE_LIMITS.scriptBytes),
  /** JSON arguments passed to the function. */
  args: z
    .array(z.json())
    .max(16)
    .refine(
      (a) => jsonSize(a) <= EVALUATE_LIMITS.argsBytes,
      `must be at most ${EVALUATE_LIMITS.argsBytes} bytes of JSON`,
    )
    .default([]),
});

const common = {
  url: httpUrl,
  /** Executions that may fail (retryable errors, lost workers) before the task fails. */
  maxAttempts: z.int().min(MAX_ATTEMPTS.min).max(MAX_ATTEMPTS.max).default(MAX_ATTEMPTS.default),
  /** Where it runs: the Lambda tier, the Fargate fleet, or `auto` (see `chooseTier`). */
  tier: z.enum(['auto', 'lambda', 'fleet']).default('auto'),
  /**
   * The result cache (result-cache.ts): answer from a result of the same request, made for
   * this tenant at most this many seconds ago, and keep this task's result that long. 0: off.
   */
  cacheTTL: z
    .int('must be a whole number of seconds')
    .min(0, 'must be at least 0 (0 turns the cache off)')
    .max(RESULT_CACHE.maxTtlSeconds, `must be at most ${RESULT_CACHE.maxTtlSeconds} (one day)`)
    .default(0),
  /**
   * Where the task's end is POSTed, signed (Standard Webhooks): `task.succeeded`,
   * `task.failed` or `task.cancelled`. Checked by the egress guard like the page URL.
   */
  webhook: z.strictObject({ url: httpUrl }).optional(),
};

export const createTaskInputSchema = z.discriminatedUnion(
  'type',
  [
    z.strictObject({
      type: z.literal('screenshot'),
      ...common,
      options: screenshotOptionsSchema.prefault({}),
    }),
    z.strictObject({ type: z.literal('pdf'), ...common, options: pdfOptionsSchema.prefault({}) }),
    z.strictObject({ type: z.literal('content'), ...common, options: contentOptionsSchema.prefault({}) }),
    z.strictObject({ type: z.literal('markdown'), ...common, options: markdownOptionsSchema.prefault({}) }),
    z.strictObject({ type: z.literal('scrape'), ...common, options: scrapeOptionsSchema }),
    z.strictObject({ type: z.literal('links'), ...common, options: linksOptionsSchema.prefault({}) }),
    z.strictObject({ type: z.literal('evaluate'), ...common, options: evaluateOptionsSchema }),
  ],
  { error: `must be one of: ${TASK_TYPES.map((t) => `"${t}"`).join(', ')}` },
);

export type CreateTaskInput = z.output<typeof createTaskInputSchema>;
type Distribute<U> = U extends { type: unknown; options: unknown }
  ? { type: U['type']; options: U['options'] }
  : never;
/** A task's type and options, discriminated. */
export type TaskSpec = Distribute<CreateTaskInput>;
export type TaskOptions = CreateTaskInput['options'];
export type ScreenshotOptions = z.output<typeof screenshotOptionsSchema>;
export type PdfOptions = z.output<typeof pdfOptionsSchema>;
export type ScrapeOptions = z.output<typeof scrapeOptionsSchema>;
export type EvaluateOptions = z.output<typeof evaluateOptionsSchema>;
export type LinksOptions = z.output<typeof linksOptionsSchema>;
export type PageOptions = z.output<typeof contentOptionsSchema>;

/** Tasks at most this long go to Lambda under `tier: "auto"`: short work, billed by the ms. */
export const AUTO_LAMBDA_MAX_TIMEOUT_MS = 30_000;

/**
 * `tier: "auto"`: short tasks (deadline ≤ 30 s) run on Lambda, where a burst costs nothing
 * while idle; longer ones on the fleet, where a warm browser is cheaper per minute. An
 * explicit tier is honoured.
 */
export const chooseTier = (tier: 'auto' | Tier, options: { timeoutMs: number }): Tier =>
  tier !== 'auto' ? tier : options.timeoutMs <= AUTO_LAMBDA_MAX_TIMEOUT_MS ? 'lambda' : 'fleet';
