/**
 * How a page is loaded and set up, the vocabulary tasks and live sessions share: URLs,
 * wait conditions, selectors, viewports and devices, headers, cookies, locale and time
 * zone. Option names follow Puppeteer's (`GoToOptions`, `Viewport`, `KnownDevices`).
 */
import { z } from 'zod';

/** Longest task URL accepted; browsers cope with more, but nothing sane needs it. */
export const MAX_URL_LENGTH = 2048;
/** The longest any task may run, on either tier. */
export const MAX_TIMEOUT_MS = 120_000;

export const WAIT_UNTIL = ['load', 'domcontentloaded', 'networkidle0', 'networkidle2'] as const;
export const RESOURCE_TYPES = ['image', 'media', 'font', 'stylesheet'] as const;
export const HTTP_STATUS_CLASSES = ['4xx', '5xx'] as const;
/** Device presets (names as in Puppeteer's `KnownDevices`; a test keeps them in sync). */
export const DEVICES = [
  'iPhone 15 Pro',
  'iPhone 15 Pro landscape',
  'iPhone SE',
  'iPad Pro 11',
  'iPad Pro 11 landscape',
  'iPad Mini',
  'Pixel 5',
  'Pixel 5 landscape',
  'Galaxy S9+',
  'Galaxy Tab S4',
] as const;

export const httpUrl = z
  .string()
  .max(MAX_URL_LENGTH, `must be at most ${MAX_URL_LENGTH} characters`)
  .pipe(z.url({ protocol: /^https?$/, error: 'must be an absolute http: or https: URL' }));

const isTimeZone = (tz: string): boolean => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};

/**
 * Whether brackets, parentheses and quotes of a selector balance. The full grammar is the
 * page's (CSS plus Puppeteer's `::-p-…`, `>>>` and `aria/` forms, which no Node parser
 * knows), but a selector that fails this fails in every page: a 400 now beats a failed task.
 */
export const selectorIsBalanced = (text: string): boolean => {
  const open: string[] = [];
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '\\') {
      i++;
      continue;
    }
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === '[' || c === '(') open.push(c === '[' ? ']' : ')');
    else if ((c === ']' || c === ')') && open.pop() !== c) return false;
  }
  return quote === undefined && open.length === 0;
};

/** A CSS (or Puppeteer) selector as text; the page decides whether it matches. */
export const selector = z
  .string()
  .min(1)
  .max(1024)
  .refine(selectorIsBalanced, 'must be a selector whose brackets, parentheses and quotes are closed');
/** An HTTP header name (RFC 9110 token). */
const headerName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/, 'must be a valid header name');
/**
 * An HTTP field value (RFC 9110 §5.5): visible characters, spaces and tabs. CR or LF would
 * split the request; Chromium refuses them, and would fail the task at run time instead.
 */
const fieldValue = (max: number) =>
  z
    .string()
    .max(max)
    .regex(
      /^[\t\x20-\x7e\x80-\xff]*$/,
      'must hold no control characters (CR, LF, NUL, …) and only Latin-1 text',
    );
/** A cookie name (RFC 6265 token). */
const cookieName = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, "must be a cookie name (letters, digits and !#$%&'*+-.^_`|~)");
/** A cookie value: no control characters, no `;` (which would end the cookie). */
const cookieValue = z
  .string()
  .max(4096)
  .regex(/^[\x20-\x3a\x3c-\x7e\x80-\u{10ffff}]*$/u, 'must hold no control characters and no ";"');

export const viewportSchema = z.strictObject({
  width: z.int().min(1).max(3840).default(1280),
  height: z.int().min(1).max(2160).default(720),
  /** Capped so a full-page capture can't ask for a gigapixel bitmap. */
  deviceScaleFactor: z.number().min(0.1).max(4).default(1),
  isMobile: z.boolean().default(false),
  hasTouch: z.boolean().default(false),
  isLandscape: z.boolean().default(false),
});

const cookieSchema = z.strictObject({
  name: cookieName,
  value: cookieValue,
  /** Defaults to the task URL's host. */
  domain: z
    .string()
    .max(253)
    .regex(
      /^\.?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/,
      'must be a host name',
    )
    .optional(),
  path: z
    .string()
    .max(1024)
    .regex(/^\/[\x21-\x3a\x3c-\x7e]*$/, 'must start with "/" and hold no spaces, controls or ";"')
    .optional(),
  secure: z.boolean().exactOptional(),
  httpOnly: z.boolean().exactOptional(),
  sameSite: z.enum(['Strict', 'Lax', 'None']).exactOptional(),
  /** Epoch seconds. */
  expires: z.number().exactOptional(),
});

/** How the page is loaded and set up, shared by every task type. */
export const pageOptions = {
  viewport: viewportSchema.prefault({}),
  /** A device preset (viewport and user agent); overrides `viewport`. */
  device: z.enum(DEVICES).optional(),
  userAgent: fieldValue(512).min(1).exactOptional(),
  extraHTTPHeaders: z
    .record(headerName, fieldValue(4096))
    .refine((h) => Object.keys(h).length <= 32, 'must have at most 32 headers')
    .optional(),
  cookies: z.array(cookieSchema).max(50).optional(),
  /** HTTP basic auth for the page. */
  authenticate: z.strictObject({ username: z.string().max(256), password: z.string().max(256) }).optional(),
  waitUntil: z.enum(WAIT_UNTIL).default('load'),
  /** After navigation, wait for this selector to be in the page (within the task deadline). */
  waitForSelector: z
    .strictObject({ selector, visible: z.boolean().default(false), hidden: z.boolean().default(false) })
    .optional(),
  /** After everything else, wait this long (for animations, lazy content). */
  waitForTimeout: z.int().min(0).max(10_000).optional(),
  /** Requests of these types are not made (faster, cheaper captures). */
  rejectResourceTypes: z.array(z.enum(RESOURCE_TYPES)).max(RESOURCE_TYPES.length).optional(),
  javaScriptEnabled: z.boolean().default(true),
  emulateMediaType: z.enum(['screen', 'print']).optional(),
  /** BCP 47 language tag, e.g. `de-DE`: Accept-Language and `navigator.language`. */
  locale: z
    .string()
    .regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'must be a BCP 47 language tag like "en-US"')
    .exactOptional(),
  /** IANA time zone, e.g. `Europe/Berlin`. */
  timezoneId: z
    .string()
    .max(64)
    .refine(isTimeZone, 'must be an IANA time zone like "Europe/Berlin"')
    .exactOptional(),
  /**
   * Page statuses that fail the task (`HTTP_STATUS_FAILED`, not retried) instead of
   * capturing the error page: codes such as `404`, or whole classes, `"4xx"` and `"5xx"`.
   */
  failOnHttpStatus: z
    .array(z.union([z.int().min(400).max(599), z.enum(HTTP_STATUS_CLASSES)]))
    .min(1)
    .max(50)
    .optional(),
  /** The task's deadline, from claim to artifact. */
  timeoutMs: z.int().min(1_000).max(MAX_TIMEOUT_MS).default(30_000),
};

/** Whether `failOnHttpStatus` makes this page status a failure. */
export const failsOnHttpStatus = (
  status: number | undefined,
  rules: readonly (number | (typeof HTTP_STATUS_CLASSES)[number])[] | undefined,
): boolean =>
  status !== undefined &&
  (rules ?? []).some((rule) => (typeof rule === 'number' ? rule === status : rule[0] === String(status)[0]));
