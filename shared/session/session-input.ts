/**
 * What clients send about sessions: the create body (HTTP) and the WebSocket protocol's
 * messages. Strict zod schemas; every bound named. The protocol is documented in the README
 * ("Live sessions") and its shapes follow Puppeteer's names (`waitUntil`, `clickCount`, …).
 */
import { z } from 'zod';
import { SESSIONS } from '../contracts.js';
import { MAX_URL_LENGTH, pageOptions, selector, WAIT_UNTIL } from '../core/page-options.js';
import { OUTPUT_CAPS } from '../output-caps.js';

export const createSessionInputSchema = z.strictObject({
  /** Absolute lifetime once live. */
  timeoutMs: z.int().min(1_000).max(SESSIONS.maxTimeoutMs).default(SESSIONS.defaultTimeoutMs),
  /** Ended after this long with no command and no attached client (CDP or WebSocket). */
  idleTimeoutMs: z
    .int()
    .min(SESSIONS.minIdleTimeoutMs)
    .max(SESSIONS.maxTimeoutMs)
    .default(SESSIONS.defaultIdleTimeoutMs),
  viewport: z
    .strictObject({
      width: z.int().min(100).max(3840).default(1280),
      height: z.int().min(100).max(2160).default(720),
      deviceScaleFactor: z.number().min(0.5).max(3).default(1),
    })
    .prefault({}),
  userAgent: pageOptions.userAgent,
  locale: pageOptions.locale,
  timezoneId: pageOptions.timezoneId,
});
export type CreateSessionInput = z.output<typeof createSessionInputSchema>;

const url = z
  .url({ protocol: /^https?$/, error: 'must be an absolute http(s) URL' })
  .max(MAX_URL_LENGTH, `must be at most ${MAX_URL_LENGTH} characters`);
/** Command timeouts: a command that takes longer answers `TIMEOUT`, the session lives on. */
export const COMMAND_TIMEOUT_MS = { default: 30_000, max: 60_000 } as const;
/** The JSON result of `evaluate` must fit in one API Gateway message with room to spare. */
export const MAX_EVALUATE_RESULT_BYTES = OUTPUT_CAPS.sessionEvaluate;

/** What a `snapshot` reads and answers, at most: a hostile page of a million nodes stops there. */
export const SNAPSHOT_LIMITS = {
  /** Lines (elements and texts) in one snapshot; past it the answer says `truncated`. */
  maxNodes: 5_000,
  /** Elements looked at, shown or not (hidden subtrees are skipped whole). */
  maxVisited: 50_000,
  /** One page of the text, in characters (`maxChars`' ceiling). */
  maxChars: 100_000,
  /** One page of the text in UTF-8 bytes: it travels in one API Gateway WebSocket message. */
  maxBytes: OUTPUT_CAPS.sessionEvaluate,
} as const;

/** An element ref from a `snapshot` of the page (`e12`): stable while its element lives. */
export const ref = z.string().regex(/^e\d{1,9}$/, 'must be a ref from a snapshot, like e12');

/**
 * Params that name one element, by `selector` or by a snapshot's `ref` (exactly one), plus
 * the method's own fields.
 */
const onElement = <S extends z.core.$ZodShape>(shape: S) =>
  z.strictObject({ selector: selector.optional(), ref: ref.optional(), ...shape }).refine(
    (p) => {
      const target = p as { selector?: string; ref?: string };
      return (target.selector === undefined) !== (target.ref === undefined);
    },
    {
      error: 'give exactly one of selector and ref',
    },
  );
/** How many tabs a session may have open; a page's own popups past it are closed. */
export const MAX_SESSION_TABS = 10;
const tabIndex = z
  .int({ error: `must be a tab's index, 0–${MAX_SESSION_TABS - 1}, as tabs { action: 'list' } gives it` })
  .min(0)
  .max(MAX_SESSION_TABS - 1);

/** A page of a session log (`console`, `network`): entries after `cursor`, bounded twice. */
const logPageParams = z.strictObject({
  /** The `nextCursor` of the previous read; absent or 0 reads from the oldest entry kept. */
  cursor: z.int().min(0).optional(),
  limit: z.int().min(1).max(500).default(100),
  /**
   * The entries' size in all, as UTF-8 bytes of their JSON; past it the page ends early. At
   * most 100,000, so the answer fits one API Gateway WebSocket message (128 KB).
   */
  maxChars: z.int().min(100).max(100_000).default(8_000),
});

/** Each command's params. Coordinates are CSS pixels of the viewport. */
export const COMMAND_PARAMS = {
  navigate: z.strictObject({ url, waitUntil: z.enum(WAIT_UNTIL).default('load') }),
  click: z.union(
    [
      z.strictObject({ selector, clickCount: z.int().min(1).max(3).default(1) }),
      z.strictObject({ ref, clickCount: z.int().min(1).max(3).default(1) }),
      z.strictObject({
        x: z.number().min(0).max(10_000),
        y: z.number().min(0).max(10_000),
        clickCount: z.int().min(1).max(3).default(1),
      }),
    ],
    {
      error:
        'must be { selector }, { ref } or { x, y } (0–10000 CSS pixels), with an optional clickCount of 1–3',
    },
  ),
  /** Types into the focused element, or into the one `selector` or `ref` names (focused first). */
  type: z
    .strictObject({ text: z.string().max(10_000), selector: selector.optional(), ref: ref.optional() })
    .refine((p) => p.selector === undefined || p.ref === undefined, {
      error: 'give at most one of selector and ref',
    }),
  press: z.strictObject({ key: z.string().min(1).max(64) }),
  scroll: z.strictObject({
    deltaX: z.number().min(-100_000).max(100_000).default(0),
    deltaY: z.number().min(-100_000).max(100_000).default(0),
    x: z.number().min(0).max(10_000).optional(),
    y: z.number().min(0).max(10_000).optional(),
  }),
  screenshot: z.strictObject({
    format: z.enum(['png', 'jpeg', 'webp']).default('png'),
    quality: z.int().min(0).max(100).optional(),
    fullPage: z.boolean().default(false),
  }),
  /** A function body or expression, run in the page (never in Node), with JSON arguments. */
  evaluate: z.strictObject({
    expression: z.string().min(1).max(100_000),
    args: z.array(z.json()).max(16).default([]),
  }),
  setViewport: z.strictObject({
    width: z.int().min(100).max(3840),
    height: z.int().min(100).max(2160),
    deviceScaleFactor: z.number().min(0.5).max(3).default(1),
  }),
  back: z.strictObject({}),
  forward: z.strictObject({}),
  reload: z.strictObject({ waitUntil: z.enum(WAIT_UNTIL).default('load') }),
  /**
   * The page's accessibility tree as text lines (`- button "Submit" [ref=e12]`), each
   * element with a ref the element commands take; long trees come in pages (`cursor`).
   */
  snapshot: z.strictObject({
    selector: selector.optional(),
    roles: z
      .array(z.string().regex(/^[a-z]{1,32}$/, 'must be an ARIA role name'))
      .min(1)
      .max(50)
      .optional(),
    maxChars: z.int().min(200).max(SNAPSHOT_LIMITS.maxChars).default(8_000),
    cursor: z.string().min(1).max(200).optional(),
  }),
  hover: onElement({}),
  select: onElement({ values: z.array(z.string().max(1_000)).max(100) }),
  /** Replaces the field's value (an input, a textarea or a contenteditable element). */
  fill: onElement({ value: z.string().max(10_000) }),
  /** Waits, within the command's timeout, for exactly one of: an element's state, a text, a navigation. */
  wait: z
    .strictObject({
      selector: selector.optional(),
      state: z.enum(['attached', 'visible', 'hidden']).optional(),
      text: z.string().min(1).max(1_000).optional(),
      navigation: z.literal(true).optional(),
      waitUntil: z.enum(WAIT_UNTIL).optional(),
    })
    .superRefine((p, ctx) => {
      const given = [p.selector, p.text, p.navigation].filter((v) => v !== undefined).length;
      if (given !== 1) {
        ctx.addIssue({
          code: 'custom',
          message:
            'must be exactly one of { selector, state? }, { text } or { navigation: true, waitUntil? }',
        });
      }
      if (p.state !== undefined && p.selector === undefined) {
        ctx.addIssue({ code: 'custom', path: ['state'], message: 'goes with selector only' });
      }
      if (p.waitUntil !== undefined && p.navigation === undefined) {
        ctx.addIssue({ code: 'custom', path: ['waitUntil'], message: 'goes with navigation only' });
      }
    }),
  /** Console messages and page errors after `cursor`, oldest first (see session-log.ts). */
  console: logPageParams,
  /** The session's requests (every tab) after `cursor`, oldest first, as each settles. */
  network: logPageParams,
  tabs: z.discriminatedUnion(
    'action',
    [
      z.strictObject({ action: z.literal('list') }),
      /** A new tab, made the active one; with a URL, navigated as `navigate` does. */
      z.strictObject({ action: z.literal('open'), url: url.optional() }),
      z.strictObject({ action: z.literal('select'), index: tabIndex }),
      /** Closing the last tab opens a blank one: a session always has a page. */
      z.strictObject({ action: z.literal('close'), index: tabIndex }),
    ],
    { error: "must be { action: 'list' | 'open' (url?) | 'select' (index) | 'close' (index) }" },
  ),
  /** The finished files in the session's downloads dir, each stored once and answered as a URL. */
  downloads: z.strictObject({}),
} as const;
export type CommandMethod = keyof typeof COMMAND_PARAMS;
/** A command's params once parsed (defaults filled in), by method. */
export type CommandParams<M extends CommandMethod> = z.output<(typeof COMMAND_PARAMS)[M]>;
export const COMMAND_METHODS = Object.keys(COMMAND_PARAMS) as CommandMethod[];

const commandId = z.string().min(1).max(64);

/**
 * A `command` message. Its params are checked against the method's own schema here, at the
 * edge, so a bad one is refused (`params.<field>: <rule>`) before anything is delivered to
 * the worker; they travel as the client sent them, and the worker parses them again (with
 * the same table) when the command's turn comes.
 */
export const commandMessageSchema = z
  .strictObject({
    action: z.literal('command'),
    id: commandId,
    method: z.enum(COMMAND_METHODS as [CommandMethod, ...CommandMethod[]]),
    params: z.record(z.string(), z.unknown()).default({}),
    timeoutMs: z.int().min(100).max(COMMAND_TIMEOUT_MS.max).default(COMMAND_TIMEOUT_MS.default),
  })
  .superRefine((message, ctx) => {
    const parsed = COMMAND_PARAMS[message.method].safeParse(message.params);
    if (parsed.success) return;
    for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, path: ['params', ...issue.path] });
  });
export type CommandMessage = z.output<typeof commandMessageSchema>;

/** Screencast frames: JPEG, capped in size so each fits one API Gateway message. */
export const screencastMessageSchema = z.strictObject({
  action: z.literal('screencast'),
  enabled: z.boolean(),
  quality: z.int().min(10).max(90).default(60),
  maxFps: z.int().min(1).max(15).default(5),
  maxWidth: z.int().min(160).max(1920).default(1024),
  maxHeight: z.int().min(120).max(1080).default(768),
});
export type ScreencastMessage = z.output<typeof screencastMessageSchema>;

export const attachMessageSchema = z.strictObject({
  action: z.literal('attach'),
  sessionId: z.string().min(1).max(64),
});
export const detachMessageSchema = z.strictObject({ action: z.literal('detach') });

/** What the worker's inbox accepts: a client's message, and who to answer. */
export type InboxMessage =
  | { kind: 'command'; connectionId: string; command: CommandMessage }
  | { kind: 'screencast'; connectionId: string; screencast: ScreencastMessage }
  | { kind: 'attach'; connectionId: string }
  | { kind: 'detach'; connectionId: string }
  | { kind: 'close' };
