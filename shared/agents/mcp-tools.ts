/**
 * The MCP server's tools: each a name, a zod input schema, annotations and what it runs —
 * the same use cases as the HTTP and WebSocket APIs, never a second copy of them.
 *
 * - One-shot tools (`screenshot`, `pdf`, `markdown`, `content`, `scrape`, `links`) submit a
 *   task (durable, retried, billed in browserMs) and hold for it to end; `task_result`
 *   reads one later or pages through its text.
 * - Session tools (`session_*`) manage live sessions; `browser_*` tools run one command on
 *   a session's worker through its inbox, each naming its `sessionId`, so one MCP client
 *   drives many browsers and any instance of this server answers any call.
 *
 * Every text answer is bounded by `maxChars` and paged with a cursor; a small screenshot is
 * inline, a big one and every PDF a link (tool-output.ts).
 */
import { z } from 'zod';
import type { SchedulingClock } from '../clock.js';
import { RESULT_CACHE } from '../contracts.js';
import type { ArtifactReader } from '../core/artifact-store.js';
import { httpUrl } from '../core/page-options.js';
import { BrowserfleetError, ERROR_CODES } from '../errors.js';
import { SESSION_STATUSES, type Session } from '../session/session.js';
import { requireSession } from '../session/session-events.js';
import { COMMAND_PARAMS, type CommandMethod, createSessionInputSchema } from '../session/session-input.js';
import {
  closeSession,
  createSession,
  presentSession,
  type SessionApiDeps,
  type SessionView,
} from '../session/sessions-api.js';
import { type GetTaskDeps, presentTask } from '../task/get-task.js';
import { type SubmitTaskDeps, submitTask } from '../task/submit-task.js';
import { isFinal, type Task } from '../task/task.js';
import {
  contentOptionsSchema,
  linksOptionsSchema,
  markdownOptionsSchema,
  pdfOptionsSchema,
  scrapeOptionsSchema,
  screenshotOptionsSchema,
  type TaskType,
} from '../task/task-input.js';
import { waitForTask } from '../task/wait-for-task.js';
import {
  decodeCursor,
  errorAnswer,
  failureAnswer,
  INLINE_IMAGE_MAX_BYTES,
  maxCharsSchema,
  pagedText,
  pageOf,
  TEXT_ARTIFACT_MAX_BYTES,
  TEXT_BUDGET,
  type ToolAnswer,
  type ToolContent,
  textAnswer,
} from './tool-output.js';

/** What a session command answered on its worker. */
export type SessionCommandOutcome =
  | { ok: true; result: unknown }
  | { ok: false; error: { code: string; message: string } };

export interface McpDeps
  extends SubmitTaskDeps,
    GetTaskDeps,
    Pick<
      SessionApiDeps,
      'sessions' | 'sessionQueue' | 'ticketKeys' | 'cdpPublicUrl' | 'websocketPublicUrl' | 'inbox'
    > {
  clock: SchedulingClock;
  reader: ArtifactReader;
  /** Runs one command on the worker hosting the session, checked as the tenant's. */
  runCommand(input: {
    tenantId: string;
    sessionId: string;
    method: CommandMethod;
    params: Record<string, unknown>;
    timeoutMs?: number;
  }): Promise<SessionCommandOutcome>;
  /** The bytes behind a presigned URL, at most `maxBytes` (a session screenshot's). */
  download(url: string, maxBytes: number): Promise<Uint8Array>;
}

/** Who is calling: the authenticated tenant, its limits, and the API's base URL. */
export interface McpCaller {
  tenantId: string;
  maxQueuedTasks: number;
  maxLiveSessions: number;
  httpBaseUrl: string;
  signal?: AbortSignal;
}

export interface ToolAnnotations {
  readOnlyHint?: boolean;
  destructiveHint?: boolean;
  idempotentHint?: boolean;
  openWorldHint?: boolean;
}

export interface McpTool {
  name: string;
  title: string;
  description: string;
  input: z.ZodObject;
  annotations: ToolAnnotations;
  run(deps: McpDeps, caller: McpCaller, args: Record<string, unknown>): Promise<ToolAnswer>;
}

const tool = <S extends z.ZodObject>(definition: {
  name: string;
  title: string;
  description: string;
  input: S;
  annotations: ToolAnnotations;
  run(deps: McpDeps, caller: McpCaller, args: z.output<S>): Promise<ToolAnswer>;
}): McpTool => definition as unknown as McpTool;

/** How long a one-shot tool holds for its task: inside API Gateway's 30 s with room to answer. */
export const ONE_SHOT_WAIT_MS = 20_000;
/** How long `session_create` holds for the session to be live. */
export const SESSION_LIVE_WAIT_MS = 15_000;
/**
 * A session command's longest run through MCP: its inbox call waits this plus a margin, all
 * inside API Gateway's 30 s.
 */
export const MCP_COMMAND_TIMEOUT_MS = 15_000;

// ---- one-shot tools, through the task engine -------------------------------------------

const TASK_OPTIONS = {
  screenshot: screenshotOptionsSchema,
  pdf: pdfOptionsSchema,
  markdown: markdownOptionsSchema,
  content: contentOptionsSchema,
  scrape: scrapeOptionsSchema,
  links: linksOptionsSchema,
} as const;
type OneShotType = keyof typeof TASK_OPTIONS & TaskType;

const ONE_SHOT_DESCRIPTIONS: Record<OneShotType, string> = {
  screenshot: 'Screenshot of a URL (PNG, JPEG or WebP): inline when small, else a link.',
  pdf: 'PDF of a URL, answered as a link to the file.',
  markdown: "A URL's main content as Markdown (Readability), paged by maxChars.",
  content: "A URL's rendered HTML, paged by maxChars.",
  scrape: 'Values of the elements matching each CSS selector of a URL, as JSON.',
  links: 'Links of a URL (href and text), as JSON.',
};

const moreOfTask = (taskId: string) => (cursor: string) =>
  `more: call task_result with {"taskId":"${taskId}","cursor":"${cursor}"}`;

/** A finished task as tool content: an image, a link, or a page of its text. */
const presentTaskResult = async (
  deps: McpDeps,
  task: Task,
  offset: number,
  maxChars: number,
): Promise<ToolAnswer> => {
  const base = { taskId: task.id, status: task.status, type: task.type };
  if (!isFinal(task.status)) {
    return textAnswer(
      `Task ${task.id} is ${task.status}. Call task_result with {"taskId":"${task.id}","wait":20} to get it.`,
      base,
    );
  }
  if (task.status !== 'succeeded' || task.result === undefined) {
    return failureAnswer(
      task.error ?? { code: 'CANCELLED', message: `Task ${task.id} was ${task.status} before it ran.` },
    );
  }
  const view = await presentTask(deps, task);
  const artifact = task.result.artifacts[0];
  const artifactView = view.result?.artifacts[0];
  const facts = {
    ...base,
    ...(task.result.finalUrl === undefined ? {} : { finalUrl: task.result.finalUrl }),
    ...(task.result.httpStatus === undefined ? {} : { httpStatus: task.result.httpStatus }),
    ...(task.result.browserMs === undefined ? {} : { browserMs: task.result.browserMs }),
    ...(view.cache === undefined ? {} : { cache: view.cache }),
  };
  if (task.type === 'screenshot' || task.type === 'pdf') {
    if (artifact === undefined || artifactView === undefined)
      return textAnswer('The task stored no file.', facts);
    const link: ToolContent = {
      type: 'resource_link',
      uri: artifactView.url,
      name: artifact.name,
      mimeType: artifact.contentType,
      size: artifact.size,
      description: `${task.type} of ${task.url}; the link expires in ${artifactView.urlExpiresIn} s`,
    };
    if (task.type === 'screenshot' && artifact.size <= INLINE_IMAGE_MAX_BYTES) {
      const image = await deps.reader.read(artifact.key, INLINE_IMAGE_MAX_BYTES);
      return {
        content: [
          { type: 'image', data: Buffer.from(image.body).toString('base64'), mimeType: artifact.contentType },
          link,
        ],
        structuredContent: { ...facts, url: artifactView.url, size: artifact.size },
      };
    }
    return { content: [link], structuredContent: { ...facts, url: artifactView.url, size: artifact.size } };
  }
  const text = await taskText(deps, task);
  const page = pageOf(text, offset, maxChars);
  return {
    content: [pagedText(page, moreOfTask(task.id))],
    structuredContent: {
      ...facts,
      totalChars: page.total,
      ...(page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor }),
    },
  };
};

/** A text task's output: its inline data, else its artifact; JSON one value per line. */
const taskText = async (deps: McpDeps, task: Task): Promise<string> => {
  const result = task.result;
  let value: unknown = result?.data;
  if (value === undefined) {
    const artifact = result?.artifacts[0];
    if (artifact === undefined) return '';
    const read = await deps.reader.read(artifact.key, TEXT_ARTIFACT_MAX_BYTES);
    const text = new TextDecoder().decode(read.body);
    if (!/json/.test(artifact.contentType)) return text;
    try {
      value = JSON.parse(text);
    } catch {
      return text;
    }
  }
  return typeof value === 'string' ? value : JSON.stringify(value, null, 1);
};

const requireTask = async (deps: McpDeps, tenantId: string, taskId: string): Promise<Task> => {
  const found = await deps.store.get(taskId);
  if (found === undefined || found.tenantId !== tenantId) {
    throw new BrowserfleetError(ERROR_CODES.NOT_FOUND, `Task ${taskId} does not exist.`);
  }
  return found;
};

const oneShot = (type: OneShotType): McpTool => {
  const options = TASK_OPTIONS[type];
  return tool({
    name: type,
    title: `${type[0]?.toUpperCase()}${type.slice(1)} of a URL`,
    description: `${ONE_SHOT_DESCRIPTIONS[type]} Runs as a durable task (retried, billed in browser time); if it takes longer than ${ONE_SHOT_WAIT_MS / 1000} s the answer names the task for task_result.`,
    input: z.object({
      url: httpUrl.describe('The page, an absolute http(s) URL.'),
      options: (type === 'scrape' ? options : options.optional()).describe(
        `The ${type} task's options, as in POST /v1/tasks.`,
      ),
      cacheTTL: z
        .int()
        .min(0)
        .max(RESULT_CACHE.maxTtlSeconds)
        .optional()
        .describe(
          'Seconds: answer from a result of the same request made at most this long ago (no browser run), and keep this one that long. 0 or absent: off.',
        ),
      maxChars: maxCharsSchema,
    }),
    annotations: { readOnlyHint: true, openWorldHint: true },
    run: async (deps, caller, args) => {
      const { task } = await submitTask(deps, {
        tenantId: caller.tenantId,
        body: {
          type,
          url: args.url,
          ...(args.options === undefined ? {} : { options: args.options }),
          ...(args.cacheTTL === undefined ? {} : { cacheTTL: args.cacheTTL }),
        },
        maxQueuedTasks: caller.maxQueuedTasks,
      });
      const settled = await waitForTask(
        deps.store,
        task,
        ONE_SHOT_WAIT_MS,
        caller.signal,
        deps.clock,
        deps.durations,
      );
      return presentTaskResult(deps, settled, 0, args.maxChars);
    },
  });
};

const taskResult = tool({
  name: 'task_result',
  title: 'Result of a task',
  description:
    'A task one of the one-shot tools started: its result once it has ended, or a further page of its text with the cursor a page ended with.',
  input: z.object({
    taskId: z.string().min(1).max(64),
    cursor: z.string().max(200).optional().describe('nextCursor of the previous page.'),
    maxChars: maxCharsSchema,
    wait: z.int().min(0).max(20).default(0).describe('Seconds to hold for the task to end.'),
  }),
  annotations: { readOnlyHint: true, idempotentHint: true },
  run: async (deps, caller, args) => {
    const offset = decodeCursor(args.cursor);
    const found = await requireTask(deps, caller.tenantId, args.taskId);
    const task =
      args.wait > 0
        ? await waitForTask(deps.store, found, args.wait * 1000, caller.signal, deps.clock, deps.durations)
        : found;
    return presentTaskResult(deps, task, offset, args.maxChars);
  },
});

// ---- live sessions ------------------------------------------------------------------------

const sessionId = z.string().min(1).max(64).describe('The session, as session_create answered it.');

const sessionFacts = (view: SessionView) => ({
  sessionId: view.id,
  status: view.status,
  ...(view.liveViewUrl === undefined ? {} : { liveViewUrl: view.liveViewUrl }),
  ...(view.cdpUrl === undefined ? {} : { cdpUrl: view.cdpUrl }),
  ...(view.playwrightUrl === undefined ? {} : { playwrightUrl: view.playwrightUrl }),
  ...(view.expiresAt === undefined ? {} : { expiresAt: view.expiresAt }),
  idleTimeoutMs: view.idleTimeoutMs,
  ...(view.endReason === undefined ? {} : { endReason: view.endReason }),
});

const describeSession = (view: SessionView): string =>
  [
    `Session ${view.id} is ${view.status}.`,
    ...(view.liveViewUrl === undefined
      ? []
      : [`Live view (a person can watch or take over): ${view.liveViewUrl}`]),
    ...(view.expiresAt === undefined
      ? []
      : [`Ends at ${view.expiresAt}, or after ${view.idleTimeoutMs / 1000} s without a command.`]),
    ...(view.endReason === undefined ? [] : [`Ended: ${view.endReason.code}: ${view.endReason.message}`]),
  ].join('\n');

/** Holds until the session has left pending/starting, or `ms` passed. */
const waitUntilLive = async (deps: McpDeps, session: Session, ms: number, signal?: AbortSignal) => {
  const deadline = deps.clock.now() + ms;
  let current = session;
  let interval = 25;
  while (
    (current.status === 'pending' || current.status === 'starting') &&
    deps.clock.now() < deadline &&
    signal?.aborted !== true
  ) {
    await deps.clock.sleep(Math.min(interval, Math.max(0, deadline - deps.clock.now())), signal);
    current = (await deps.sessions.get(session.tenantId, session.id)) ?? current;
    interval = Math.min(200, Math.ceil(interval * 1.5));
  }
  return current;
};

const sessionCreate = tool({
  name: 'session_create',
  title: 'Start a live browser session',
  description:
    'Starts an isolated browser of its own and answers its sessionId (pass it to every browser_* tool) and a live-view URL a person can watch. It ends on session_close, at its timeout, or after idleTimeoutMs without a command.',
  input: createSessionInputSchema,
  annotations: { openWorldHint: true },
  run: async (deps, caller, args) => {
    const created = await createSession(deps, {
      tenantId: caller.tenantId,
      maxLiveSessions: caller.maxLiveSessions,
      options: args,
    });
    const session = await waitUntilLive(deps, created, SESSION_LIVE_WAIT_MS, caller.signal);
    const view = await presentSession(deps, session, caller.httpBaseUrl);
    if (session.status === 'failed' && session.endReason !== undefined) {
      return { ...failureAnswer(session.endReason), structuredContent: sessionFacts(view) };
    }
    return textAnswer(describeSession(view), sessionFacts(view));
  },
});

const sessionList = tool({
  name: 'session_list',
  title: 'List live sessions',
  description: "The caller's sessions, newest first.",
  input: z.object({
    status: z.enum(SESSION_STATUSES).optional(),
    limit: z.int().min(1).max(100).default(20),
  }),
  annotations: { readOnlyHint: true, idempotentHint: true },
  run: async (deps, caller, args) => {
    const sessions = await deps.sessions.list(caller.tenantId, {
      limit: args.limit,
      ...(args.status === undefined ? {} : { status: args.status }),
    });
    const lines = sessions.map((s) => `${s.id} ${s.status} created ${s.createdAt}`);
    return textAnswer(lines.length === 0 ? 'No sessions.' : lines.join('\n'), {
      sessions: sessions.map((s) => ({ sessionId: s.id, status: s.status, createdAt: s.createdAt })),
    });
  },
});

const sessionClose = tool({
  name: 'session_close',
  title: 'Close a live session',
  description: 'Closes the session and its browser now.',
  input: z.object({ sessionId }),
  annotations: { destructiveHint: true, idempotentHint: true },
  run: async (deps, caller, args) => {
    const closed = await closeSession(deps, { tenantId: caller.tenantId, sessionId: args.sessionId });
    const view = await presentSession(deps, closed, caller.httpBaseUrl);
    return textAnswer(describeSession(view), sessionFacts(view));
  },
});

const sessionLiveView = tool({
  name: 'session_live_view',
  title: "A session's live view",
  description:
    'A fresh live-view URL (a page with the screencast and takeover controls, valid 10 minutes) and CDP URL of a session.',
  input: z.object({ sessionId }),
  annotations: { readOnlyHint: true },
  run: async (deps, caller, args) => {
    const session = await requireSession(deps.sessions, caller.tenantId, args.sessionId);
    const view = await presentSession(deps, session, caller.httpBaseUrl);
    return textAnswer(describeSession(view), sessionFacts(view));
  },
});

/**
 * A command's params schema as one flat object of optional fields: MCP tools take an object,
 * and a command's alternatives (`{ selector }` or `{ x, y }`) are checked again, exactly, by
 * the command's own schema before anything reaches the worker.
 */
const flatParams = (schema: z.ZodType): Readonly<Record<string, z.ZodType>> => {
  if (schema instanceof z.ZodObject) return schema.shape;
  if (!(schema instanceof z.ZodUnion || schema instanceof z.ZodDiscriminatedUnion)) {
    throw new Error('A command schema that is neither an object nor a union of objects.');
  }
  // Each field as the options have it, once per distinct JSON Schema (`action: "list"`,
  // `action: "open"`, … become one field that takes any of them).
  const variants = new Map<string, Map<string, z.ZodType>>();
  for (const option of schema.options as z.ZodType[]) {
    for (const [key, field] of Object.entries(flatParams(option))) {
      const bare = field instanceof z.ZodOptional ? (field.unwrap() as z.ZodType) : field;
      const seen = variants.get(key) ?? new Map<string, z.ZodType>();
      seen.set(JSON.stringify(z.toJSONSchema(bare, { io: 'input', unrepresentable: 'any' })), bare);
      variants.set(key, seen);
    }
  }
  const shape: Record<string, z.ZodType> = {};
  for (const [key, seen] of variants) {
    const fields = [...seen.values()];
    shape[key] = (fields.length === 1 ? (fields[0] as z.ZodType) : z.union(fields)).optional();
  }
  return shape;
};

/** What a command answered, as tool content; a session screenshot inline when small. */
type Present = (deps: McpDeps, result: unknown, args: Record<string, unknown>) => Promise<ToolAnswer>;

/**
 * A command's JSON answer, compact (the worker bounded it so: evaluate at 96 KB, console and
 * network at their maxChars), and never past the text ceiling whatever a command answers.
 */
const asJson: Present = async (_deps, result) => {
  const text = JSON.stringify(result ?? {});
  if (text.length <= TEXT_BUDGET.maxChars) return textAnswer(text, { result: result ?? {} });
  return textAnswer(
    `${text.slice(0, TEXT_BUDGET.maxChars)}\n[cut at ${TEXT_BUDGET.maxChars} of ${text.length} characters]`,
    {
      truncated: true,
    },
  );
};

const screenshotResult: Present = async (deps, result) => {
  const shot = result as { contentType: string; size: number; url: string };
  const link: ToolContent = {
    type: 'resource_link',
    uri: shot.url,
    name: `screenshot.${shot.contentType.split('/')[1] ?? 'bin'}`,
    mimeType: shot.contentType,
    size: shot.size,
  };
  if (shot.size > INLINE_IMAGE_MAX_BYTES) return { content: [link], structuredContent: shot };
  const body = await deps.download(shot.url, INLINE_IMAGE_MAX_BYTES);
  return {
    content: [
      { type: 'image', data: Buffer.from(body).toString('base64'), mimeType: shot.contentType },
      link,
    ],
    structuredContent: shot,
  };
};

/** A snapshot's page of text, saying how to get the next page of the same snapshot. */
const snapshotResult: Present = async (_deps, result, args) => {
  const snapshot = result as {
    url: string;
    title: string;
    text: string;
    totalChars: number;
    nextCursor?: string;
    truncated?: boolean;
  };
  const more =
    snapshot.nextCursor === undefined
      ? ''
      : `\n[${snapshot.totalChars} characters in all; more: call browser_snapshot with {"sessionId":"${String(args.sessionId)}","cursor":"${snapshot.nextCursor}"}]`;
  const { text, ...facts } = snapshot;
  return {
    content: [{ type: 'text', text: `Page: ${snapshot.title} (${snapshot.url})\n${text}${more}` }],
    structuredContent: facts,
  };
};

/** The session's finished downloads, each a link to its stored copy (or why there is none). */
const downloadsResult: Present = async (_deps, result) => {
  const { downloads, omitted } = result as {
    downloads: { name: string; size: number; contentType: string; url?: string; tooLarge?: boolean }[];
    omitted?: number;
  };
  const content: ToolContent[] = downloads.map((d) =>
    d.url === undefined
      ? {
          type: 'text',
          text: `${d.name} (${d.size} bytes): ${d.tooLarge === true ? 'too large to store' : 'not available'}`,
        }
      : { type: 'resource_link', uri: d.url, name: d.name, mimeType: d.contentType, size: d.size },
  );
  if (content.length === 0) content.push({ type: 'text', text: 'No finished downloads.' });
  return { content, structuredContent: { downloads, ...(omitted === undefined ? {} : { omitted }) } };
};

/** Each session tool's title, as a client lists it. */
const BROWSER_TITLES: Partial<Record<CommandMethod, string>> = {
  navigate: 'Navigate',
  back: 'Go back',
  forward: 'Go forward',
  reload: 'Reload',
  click: 'Click',
  type: 'Type text',
  press: 'Press a key',
  scroll: 'Scroll',
  evaluate: 'Run JavaScript in the page',
  screenshot: 'Screenshot of the page',
  snapshot: 'Accessibility snapshot',
  hover: 'Hover',
  select: 'Select options',
  fill: 'Fill a field',
  wait: 'Wait for an element, a text or a navigation',
  console: 'Console messages',
  network: 'Network requests',
  tabs: 'Tabs',
  downloads: 'Downloads',
};

const browserTool = (
  name: string,
  method: CommandMethod,
  description: string,
  options: { annotations?: ToolAnnotations; present?: Present } = {},
): McpTool =>
  tool({
    name,
    title: BROWSER_TITLES[method] ?? name,
    description,
    input: z.object({
      sessionId,
      ...flatParams(COMMAND_PARAMS[method]),
      timeoutMs: z
        .int()
        .min(100)
        .max(MCP_COMMAND_TIMEOUT_MS)
        .optional()
        .describe(`Give up after this many ms (at most ${MCP_COMMAND_TIMEOUT_MS}).`),
    }),
    annotations: options.annotations ?? { openWorldHint: true },
    run: async (deps, caller, args) => {
      const { sessionId: id, timeoutMs, ...params } = args;
      const outcome = await deps.runCommand({
        tenantId: caller.tenantId,
        sessionId: id,
        method,
        params: Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined)),
        timeoutMs: timeoutMs ?? MCP_COMMAND_TIMEOUT_MS,
      });
      if (!outcome.ok) return failureAnswer(outcome.error);
      return (options.present ?? asJson)(deps, outcome.result, args);
    },
  });

const BROWSER_TOOLS: McpTool[] = [
  browserTool(
    'browser_navigate',
    'navigate',
    'Go to a URL in the session. Answers where it landed and the status.',
  ),
  browserTool('browser_back', 'back', 'Go back in the session history.'),
  browserTool('browser_forward', 'forward', 'Go forward in the session history.'),
  browserTool('browser_reload', 'reload', 'Reload the page.'),
  browserTool(
    'browser_click',
    'click',
    'Click an element (by CSS selector, or by the ref a browser_snapshot gave it) or a point (x, y).',
  ),
  browserTool('browser_type', 'type', 'Type text, into an element (selector or ref) or where the focus is.'),
  browserTool('browser_press', 'press', 'Press a key (e.g. "Enter", "ArrowDown", "Control+A").'),
  browserTool('browser_scroll', 'scroll', 'Scroll by deltaX/deltaY CSS pixels, at a point when given.'),
  browserTool(
    'browser_evaluate',
    'evaluate',
    'Run a JavaScript expression or function in the page (never on the server); answers its JSON value (at most 96 KB).',
  ),
  browserTool('browser_screenshot', 'screenshot', 'Screenshot of the page: inline when small, else a link.', {
    annotations: { readOnlyHint: true },
    present: screenshotResult,
  }),
  browserTool(
    'browser_snapshot',
    'snapshot',
    "The page's accessibility tree as text lines, each element with a ref (e.g. [ref=e12]) that browser_click, browser_type, browser_fill, browser_select and browser_hover take. Filter by roles or scope to a selector; long trees come in pages of maxChars.",
    { annotations: { readOnlyHint: true }, present: snapshotResult },
  ),
  browserTool('browser_hover', 'hover', 'Move the mouse over an element (selector or ref).'),
  browserTool(
    'browser_select',
    'select',
    'Choose options of a <select> element (selector or ref) by value or label; answers what is selected.',
  ),
  browserTool(
    'browser_fill',
    'fill',
    "Replace a field's value (an input, a textarea or a contenteditable; selector or ref).",
  ),
  browserTool(
    'browser_wait',
    'wait',
    'Wait, within timeoutMs, for exactly one of: an element (selector, with state attached, visible or hidden), a text to appear, or the next navigation.',
    { annotations: { readOnlyHint: true } },
  ),
  browserTool(
    'browser_console',
    'console',
    "Console messages and page errors of the session's tabs after a cursor (nextCursor of the previous read), oldest first, bounded by limit and maxChars.",
    { annotations: { readOnlyHint: true } },
  ),
  browserTool(
    'browser_network',
    'network',
    "The session's requests after a cursor, oldest first: method, URL, status, failure, and whether the egress guard blocked it.",
    { annotations: { readOnlyHint: true } },
  ),
  browserTool(
    'browser_tabs',
    'tabs',
    'List, open (optionally at a URL), select or close tabs (by index); the active tab is the one every other browser_* tool acts on.',
  ),
  browserTool(
    'browser_downloads',
    'downloads',
    "The session's finished downloads, each a link to its stored copy.",
    { annotations: { readOnlyHint: true }, present: downloadsResult },
  ),
];

export const MCP_TOOLS: readonly McpTool[] = [
  ...(['screenshot', 'pdf', 'markdown', 'content', 'scrape', 'links'] as const).map(oneShot),
  taskResult,
  sessionCreate,
  sessionList,
  sessionClose,
  sessionLiveView,
  ...BROWSER_TOOLS,
];

/**
 * Runs a tool on arguments its input schema has parsed: the platform's refusals and
 * failures are the model's to read (`isError`); anything else is thrown, a fault.
 */
export const runTool = async (
  deps: McpDeps,
  caller: McpCaller,
  definition: McpTool,
  args: Record<string, unknown>,
): Promise<ToolAnswer> => {
  try {
    return await definition.run(deps, caller, args);
  } catch (error) {
    return errorAnswer(error);
  }
};
