/**
 * Which CDP commands a live session's client may not send to its browser. A CDP client
 * has the whole browser, and a few commands would take its traffic off the egress proxy
 * the browser was launched with (to the metadata endpoint, private addresses, other
 * sessions' loopback DevTools ports). The CDP router answers those itself, with a CDP
 * error, and pipes everything else through unread. Pure: text in, verdict out.
 *
 * What Chromium does with each (checked against its headless shell, 153):
 * - `Target.createBrowserContext` with `proxyServer` (`direct://`, `''`, any other proxy)
 *   gives a context whose pages skip the guard. Without it, the context inherits
 *   `--proxy-server` and `--proxy-bypass-list`, so a plain context stays allowed.
 * - `Target.exposeDevToolsProtocol` gives a page's JavaScript a CDP channel to the browser
 *   target that never passes the router, so a page could then send the command above.
 * - `Target.setRemoteLocations` makes the browser itself connect to `host:port` to discover
 *   targets (full Chromium; the headless shell answers "Not supported").
 * - `Target.sendMessageToTarget` carries a command as a string, so that command is judged
 *   by the same rules.
 *
 * And a few that would read the worker's own disk (other sessions' profiles live there):
 * - `Page.navigate` and `Target.createTarget` to a `file:` (or `chrome:`, …) URL: a page
 *   script can't go there, CDP can. Only `http:`, `https:`, `about:`, `data:` and `blob:`.
 * - `Network.loadNetworkResource` of anything but `http:`/`https:` (it reads `file:` URLs).
 * - `DOM.setFileInputFiles` and `Input.dispatchDragEvent` with `files`: they hand the page
 *   files by their path on the worker.
 *
 * And one it rewrites: `Browser.setDownloadBehavior` (and the older `Page.` one) would have
 * downloads written to any path on the worker (another session's profile, say). Unless it
 * denies downloads, its `downloadPath` becomes the session's own downloads dir, which goes
 * with the session. Playwright's `connectOverCDP` sends it, so it can't simply be refused.
 */

/**
 * The methods above, by name, or a backslash. A message matching neither can't be one of
 * them: a JSON string can spell a name differently only through an escape (`\u0042`, which
 * Chromium decodes too). A message with neither is forwarded unparsed.
 */
const NEEDS_A_LOOK =
  /\\|createBrowserContext|exposeDevToolsProtocol|setRemoteLocations|sendMessageToTarget|navigate|createTarget|loadNetworkResource|setFileInputFiles|dispatchDragEvent|setDownloadBehavior/;

/** What a CDP client may open: the web, and documents that carry their own content. */
const OPENABLE_URL = /^(https?|about|data|blob):/i;
/** What `Network.loadNetworkResource` may fetch. */
const FETCHABLE_URL = /^https?:/i;

/** Chromium trims leading spaces and control characters (code points ≤ 0x20) before it reads a URL's scheme. */
const schemeOf = (url: unknown): string => {
  if (typeof url !== 'string') return '';
  let start = 0;
  while (start < url.length && url.charCodeAt(start) <= 0x20) start++;
  return url.slice(start);
};

const DISK =
  "the session's browser runs on a worker shared with other sessions, so its disk is not the client's to read.";

/** CDP's "server error" code, which Chromium also answers a command it refuses with. */
export const CDP_REFUSED_CODE = -32000;
/** JSON-RPC's "parse error" code. */
const PARSE_ERROR_CODE = -32700;

export type CdpVerdict =
  /** `text`: what to forward instead of the client's message (a rewritten one). */
  | { forward: true; text?: string }
  /** `reply`: the CDP error response to send the client instead (JSON text). */
  | { forward: false; method: string | undefined; reply: string };

interface Refusal {
  command: Record<string, unknown>;
  code: number;
  message: string;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Why a command is refused, or `undefined` if it may go to the browser. */
const reasonToRefuse = (method: string, params: unknown): string | undefined => {
  const p = isObject(params) ? params : {};
  switch (method) {
    case 'Target.createBrowserContext':
      // Present at all, whatever the value: to Chromium, `''` means no proxy.
      return 'proxyServer' in p || 'proxyBypassList' in p
        ? 'Target.createBrowserContext with proxyServer or proxyBypassList is refused by the egress guard: ' +
            "a session's pages reach the network only through its egress proxy. " +
            'Create the context without them; it uses that proxy.'
        : undefined;
    case 'Target.exposeDevToolsProtocol':
      return (
        'Target.exposeDevToolsProtocol is refused by the egress guard: page scripts could send CDP ' +
        'commands through it that the CDP router never sees. Send commands over this connection instead.'
      );
    case 'Target.setRemoteLocations':
      return (
        'Target.setRemoteLocations is refused by the egress guard: the browser would connect to those ' +
        'locations around the egress proxy.'
      );
    case 'Page.navigate':
    case 'Target.createTarget':
      // No URL or an empty one is about:blank to Chromium; anything else must be openable.
      return schemeOf(p.url) !== '' && !OPENABLE_URL.test(schemeOf(p.url))
        ? `${method} to a URL that is not http:, https:, about:, data: or blob: is refused: ${DISK}`
        : undefined;
    case 'Network.loadNetworkResource':
      return FETCHABLE_URL.test(schemeOf(p.url))
        ? undefined
        : `Network.loadNetworkResource of a URL that is not http: or https: is refused: ${DISK}`;
    case 'DOM.setFileInputFiles':
      return `DOM.setFileInputFiles is refused: ${DISK} Upload by fetching the file in the page, or with a data: URL.`;
    case 'Input.dispatchDragEvent':
      return isObject(p.data) && 'files' in p.data
        ? `Input.dispatchDragEvent with files is refused: ${DISK}`
        : undefined;
    case 'Target.sendMessageToTarget': {
      // Judged like a command of its own, with no rewriting inside the string.
      const inner = typeof p.message === 'string' ? judge(p.message) : undefined;
      return inner !== undefined && 'message' in inner ? inner.message : undefined;
    }
    default:
      return undefined;
  }
};

const DOWNLOAD_METHODS: ReadonlySet<string> = new Set([
  'Browser.setDownloadBehavior',
  'Page.setDownloadBehavior',
]);

/** `downloadDir`: the session's own; without one, download settings are refused. */
const judge = (text: string, downloadDir?: string): Refusal | { rewrite: string } | undefined => {
  if (!NEEDS_A_LOOK.test(text)) return undefined;
  let command: unknown;
  try {
    command = JSON.parse(text);
  } catch {
    // Chromium's parser takes more than JSON.parse does (comments, for one), so what this
    // can't read is not forwarded. No client sends it: CDP is JSON.
    return {
      command: {},
      code: PARSE_ERROR_CODE,
      message: 'The egress guard could not parse this message as JSON, so did not forward it.',
    };
  }
  // Not an object, or no string method: Chromium answers it with an error of its own.
  if (!isObject(command) || typeof command.method !== 'string') return undefined;
  if (DOWNLOAD_METHODS.has(command.method)) {
    const params = isObject(command.params) ? command.params : {};
    if (params.behavior === 'deny') return undefined;
    if (downloadDir === undefined) {
      return {
        command,
        code: CDP_REFUSED_CODE,
        message: `${command.method} is refused here (send it on the connection itself): ${DISK}`,
      };
    }
    return { rewrite: JSON.stringify({ ...command, params: { ...params, downloadPath: downloadDir } }) };
  }
  const reason = reasonToRefuse(command.method, command.params);
  return reason === undefined ? undefined : { command, code: CDP_REFUSED_CODE, message: reason };
};

/**
 * Decides whether one client→browser CDP message (the text of a WebSocket text frame) may
 * be forwarded to the browser, and as what; if not, what to answer the client.
 */
export const checkCdpCommand = (text: string, options: { downloadDir?: string } = {}): CdpVerdict => {
  const refusal = judge(text, options.downloadDir);
  if (refusal === undefined) return { forward: true };
  if ('rewrite' in refusal) return { forward: true, text: refusal.rewrite };
  const { command, code, message } = refusal;
  return {
    forward: false,
    method: typeof command.method === 'string' ? command.method : undefined,
    // `sessionId` too: a client matches a flat session's answers by it (Puppeteer does).
    reply: JSON.stringify({ id: command.id, sessionId: command.sessionId, error: { code, message } }),
  };
};
