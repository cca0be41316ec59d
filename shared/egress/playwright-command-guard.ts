/**
 * Which Playwright protocol calls a live session's client may not make. A `playwrightUrl`
 * client talks to a Playwright server that runs in the worker process and drives the
 * session's browser over CDP, through the CDP router: every CDP command it sends is judged
 * by cdp-command-guard.ts, so whatever the browser would do (a context with its own proxy,
 * a `file:` navigation, a file upload by path) is refused there, once. What that guard can't
 * see are the calls the Playwright server answers itself, from the worker: those would leave
 * from the worker's own network (not the session's egress proxy) or touch its disk. They
 * are refused here, at the bridge, with a Playwright error; everything else goes through.
 *
 * Calls name an object by its `guid`; which interface it is (`Page`, `APIRequestContext`, …)
 * is said once, when the server creates it (`__create__`). `PlaywrightObjects` follows the
 * server's messages for that; a call to an object it doesn't know is refused (as the server
 * would: the object is gone), so nothing reaches the server under a type not judged.
 *
 * Allowed because Playwright's server already ignores them when it is a server (checked in
 * 1.63, 1.64 and 1.65): `recordVideo.dir` of a new context (`params.recordVideo.dir =
 * undefined`) and `harPath`/`resourcesDir` of a HAR recording (`!isServer && …`); both
 * write into the server's own temp dir, which the client reads back as artifacts.
 *
 * Pure: text in, verdict out (and the objects seen so far).
 */

const WORKER =
  "the Playwright server runs on the session's worker, shared with other sessions: it would act from the " +
  "worker's own network and disk, outside the session's browser and its egress proxy.";

/** Whole interfaces a session's client has no use for, each with why. */
const REFUSED_INTERFACES: Readonly<Record<string, string>> = {
  LocalUtils: `LocalUtils is not served here: ${WORKER}`,
  JsonPipe: `JsonPipe is not served here: ${WORKER}`,
  Android: `Android is not served here: ${WORKER}`,
  AndroidDevice: `AndroidDevice is not served here: ${WORKER}`,
  AndroidSocket: `AndroidSocket is not served here: ${WORKER}`,
  Electron: `Electron is not served here: ${WORKER}`,
  ElectronApplication: `ElectronApplication is not served here: ${WORKER}`,
  DebugController: `DebugController is not served here: ${WORKER}`,
  SocksSupport: `SocksSupport is not served here: ${WORKER}`,
};

const ONE_BROWSER =
  "this connection is to the session's own browser, and opens no other: launching or connecting " +
  `another one is refused (${WORKER})`;
const FETCH =
  'APIRequestContext requests (context.request, page.request, route.fetch()) are refused: ' +
  `${WORKER} Fetch from the page instead (page.evaluate(() => fetch(url))), or let a route continue.`;
const RECORDER = `Playwright's recorder and inspector are not served here: they open a browser of their own on the worker (${WORKER})`;

/** `Interface.method` calls refused whatever their params, each with why. */
const REFUSED_METHODS: Readonly<Record<string, string>> = {
  'APIRequestContext.fetch': FETCH,
  'Playwright.newRequest': FETCH,
  'BrowserType.launch': ONE_BROWSER,
  'BrowserType.launchPersistentContext': ONE_BROWSER,
  'BrowserType.connectOverCDP': ONE_BROWSER,
  'BrowserType.connectToWorker': ONE_BROWSER,
  'Browser.startServer': `Browser.startServer is refused: it would listen on the worker (${WORKER})`,
  'Artifact.saveAs':
    "Artifact.saveAs is refused: it writes to a path on the worker. Remote clients save with a stream (Playwright's " +
    'own download.saveAs() and video.saveAs() do).',
  'Artifact.pathAfterFinished':
    'Artifact.pathAfterFinished is refused: the path is on the worker. Save the artifact with saveAs() instead.',
  'BrowserContext.createTempFiles':
    'Uploading files this large is refused: they would be written to the worker and handed to the page by path. ' +
    'Files up to 50 MB go in the message (setInputFiles with buffers or small files).',
  'BrowserContext.showRecorder': RECORDER,
  'BrowserContext.enableRecorder': RECORDER,
  'BrowserContext.startRecording': RECORDER,
};

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const LOCAL_FILES = (method: string) =>
  `${method} with localPaths or localDirectory is refused: those are paths on the worker (${WORKER}) ` +
  'Pass the files themselves (setInputFiles with buffers, or files from the client, which sends their content).';

const localFiles =
  (method: string) =>
  (p: Record<string, unknown>): string | undefined =>
    'localPaths' in p || 'localDirectory' in p ? LOCAL_FILES(method) : undefined;

const clientCertificates =
  (method: string) =>
  (p: Record<string, unknown>): string | undefined =>
    Array.isArray(p.clientCertificates) && p.clientCertificates.length > 0
      ? `${method} with clientCertificates is refused: Playwright serves them through a proxy of its own in the ` +
        `worker, around the session's egress proxy (${WORKER})`
      : undefined;

/**
 * `newContextForReuse` hands its params to the server's newContext as they came, without
 * the dispatcher's own clearing of server paths (`newContext` drops `recordVideo.dir`), so
 * a video dir there would have the worker write files anywhere on its disk.
 */
const reuseContext = (p: Record<string, unknown>): string | undefined =>
  clientCertificates('newContextForReuse')(p) ??
  (p.recordVideo !== undefined || p.recordHar !== undefined
    ? `Browser.newContextForReuse with recordVideo or recordHar is refused: they name paths on the worker (${WORKER}) Record in a context of your own (browser.newContext).`
    : undefined);

/**
 * A trace's name becomes its files' names in the server's traces dir (`<dir>/<name>.trace`):
 * with a separator in it, they would be written anywhere on the worker.
 */
const traceName = (p: Record<string, unknown>): string | undefined =>
  p.name === undefined ||
  p.name === '' ||
  (typeof p.name === 'string' && /^[^/\\\0]+$/.test(p.name) && !/^\.\.?$/.test(p.name))
    ? undefined
    : `A trace name with a path separator in it is refused: it names files on the worker (${WORKER}) Name it plainly (tracing.start({ name: 'checkout' })).`;

/** `Interface.method` calls refused for some params only. */
const PARAM_RULES: Readonly<Record<string, (params: Record<string, unknown>) => string | undefined>> = {
  'Frame.setInputFiles': localFiles('setInputFiles'),
  'ElementHandle.setInputFiles': localFiles('setInputFiles'),
  'Frame.drop': localFiles('drop'),
  'Browser.newContext': clientCertificates('newContext'),
  'Browser.newContextForReuse': reuseContext,
  'Tracing.tracingStart': traceName,
  'Tracing.tracingStartChunk': traceName,
  // `entries` answers the trace's files by their paths on the worker, for a local client to
  // zip; a remote one asks for `archive` (the zip, as an artifact it streams).
  'Tracing.tracingStopChunk': (p) =>
    p.mode === 'entries'
      ? "Tracing.tracingStopChunk with mode 'entries' is refused: it answers paths on the worker. Use mode 'archive'."
      : undefined,
};

/** Why `Interface.method` with `params` is refused, or `undefined` if it may go. */
export const reasonToRefusePlaywright = (type: string, method: string, params: unknown): string | undefined =>
  REFUSED_INTERFACES[type] ??
  REFUSED_METHODS[`${type}.${method}`] ??
  PARAM_RULES[`${type}.${method}`]?.(isObject(params) ? params : {});

interface TrackedObject {
  type: string;
  children: Set<string>;
}

/** Bytes of a server message within which its `method` is said (after a short `guid`). */
const HEAD_BYTES = 512;
const LIFECYCLE = '"method":"__';

/**
 * The objects a Playwright server has told its client about, by guid, with their
 * interface. Fed every server→client message, in order, before the client sees it.
 */
export class PlaywrightObjects {
  private readonly objects = new Map<string, TrackedObject>([['', { type: 'Root', children: new Set() }]]);

  typeOf(guid: string): string | undefined {
    return this.objects.get(guid)?.type;
  }

  get size(): number {
    return this.objects.size;
  }

  /**
   * Reads one server→client message for the objects it creates, adopts or disposes. Only
   * messages whose head names a `__…__` method are parsed: the server writes `guid` then
   * `method` first, and a screenshot's answer (megabytes) starts with `{"id":`.
   */
  observe(message: string | Uint8Array): void {
    const head =
      typeof message === 'string'
        ? message.slice(0, HEAD_BYTES)
        : Buffer.from(
            message.buffer,
            message.byteOffset,
            Math.min(message.byteLength, HEAD_BYTES),
          ).toString();
    if (!head.includes(LIFECYCLE)) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(typeof message === 'string' ? message : Buffer.from(message).toString());
    } catch {
      return;
    }
    if (!isObject(parsed) || typeof parsed.guid !== 'string' || !isObject(parsed.params)) return;
    const { guid, method, params } = parsed;
    if (method === '__create__' && typeof params.type === 'string' && typeof params.guid === 'string') {
      this.objects.set(params.guid, { type: params.type, children: new Set() });
      this.objects.get(guid)?.children.add(params.guid);
    } else if (method === '__adopt__' && typeof params.guid === 'string') {
      for (const o of this.objects.values()) o.children.delete(params.guid);
      this.objects.get(guid)?.children.add(params.guid);
    } else if (method === '__dispose__') {
      this.dispose(guid);
    }
  }

  /** An object and, as on the client, everything under it. */
  private dispose(guid: string): void {
    const object = this.objects.get(guid);
    if (object === undefined || guid === '') return;
    this.objects.delete(guid);
    for (const child of object.children) this.dispose(child);
  }
}

export type PlaywrightVerdict =
  | { forward: true }
  /** `reply`: the Playwright error response to send the client instead (JSON text). */
  | { forward: false; call: string; reply: string };

/** Playwright's answer to a call it failed, in the shape its client parses (serializeError). */
const errorReply = (id: unknown, message: string, name = 'Error'): string =>
  JSON.stringify({ id, error: { error: { message, name, stack: '' } }, log: [] });

/**
 * Decides whether one client→server Playwright message (the text of a WebSocket frame) may
 * go to the server; if not, what to answer the client.
 */
export const checkPlaywrightCommand = (text: string, objects: PlaywrightObjects): PlaywrightVerdict => {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    // The server reads it with the same JSON.parse, fails the same way and closes (1007).
    return { forward: true };
  }
  // Not a call at all: the server drops it.
  if (!isObject(message)) return { forward: true };
  // A call this can't judge is not forwarded (the server would refuse it too; no client sends it).
  if (typeof message.method !== 'string' || typeof message.guid !== 'string') {
    return {
      forward: false,
      call: '?',
      reply: errorReply(
        message.id,
        'A Playwright call needs a string guid and method; this one was not forwarded.',
      ),
    };
  }
  // The two that only steer calls in flight.
  if (message.method === '__waitInfo__' || message.method === '__abort__') return { forward: true };
  const type = objects.typeOf(message.guid);
  if (type === undefined) {
    return {
      forward: false,
      call: `?.${message.method}`,
      reply: errorReply(message.id, 'Target page, context or browser has been closed', 'TargetClosedError'),
    };
  }
  const reason = reasonToRefusePlaywright(type, message.method, message.params);
  if (reason === undefined) return { forward: true };
  const call = `${type}.${message.method}`;
  return { forward: false, call, reply: errorReply(message.id, `${call}: ${reason}`) };
};
