/**
 * How much output one piece of browser work may produce, in UTF-8 bytes, per kind. Each
 * cap is enforced in the page, before anything crosses CDP into the worker, and answered
 * `RESULT_TOO_LARGE` (not retried: the same page gives the same answer). A worker runs
 * several tasks and sessions side by side, and a result costs the worker a few times its
 * size on its way in (the pipe's buffers, the decoded string, the parsed value, the
 * artifact's bytes), so each cap is a share of one worker's memory, not of a page's.
 */
const KB = 1024;
const MB = 1024 * KB;

export const OUTPUT_CAPS = {
  /**
   * `content`: the page's HTML. 10 MB is several times the largest ordinary pages
   * (long documentation pages run 1–3 MB of HTML) and, at ~4× in transit, keeps two task
   * slots well inside a worker's headroom.
   */
  content: 10 * MB,
  /** `markdown`: Markdown is a fraction of its page's HTML; half the HTML cap is plenty. */
  markdown: 5 * MB,
  /**
   * `scrape`: every element's value together, counted while collecting, so a query that
   * matches a whole nested page (`*` with `html` and `all` is quadratic in its depth) stops
   * at the cap instead of building gigabytes first.
   */
  scrape: 5 * MB,
  /** `links`: at ~100 bytes a link, some 50,000 links, far more than a page shows anyone. */
  links: 5 * MB,
  /**
   * `evaluate` tasks: a function's JSON answer is data, not a page; a caller after a page's
   * bulk has `content` or `scrape`.
   */
  evaluate: 256 * KB,
  /**
   * `pdf`: read from Chromium in chunks, given up past the cap. Reports with images run
   * to tens of MB; 64 MB matches the largest screenshot a CDP message may carry.
   */
  pdf: 64 * MB,
  /**
   * A live session's `evaluate`: its answer travels in one API Gateway WebSocket message
   * (128 KB at most), with room for the envelope.
   */
  sessionEvaluate: 96 * KB,
  /**
   * A file a live session's page downloaded, read whole from disk and stored as an
   * artifact (`downloads`): 32 MB holds the documents, exports and archives a page offers,
   * and costs a worker, at a few times its size in transit, a share several sessions
   * survive at once. A bigger file is listed as too large, not stored.
   */
  sessionDownload: 32 * MB,
} as const;

/**
 * The largest CDP message Chromium may send a worker, whatever the page does (a console
 * line, an exception's message, a screenshot's base64). Answers past it fail their command
 * (`RESULT_TOO_LARGE` for a screenshot); events past it are dropped. 64 MB holds a PNG
 * of ~48 MB: measured, a 3840×2160 PNG of pure noise is 32 MB as base64, of an article
 * 0.2 MB (0.4 MB full page); and it caps what one message costs a worker (~3× in transit)
 * at a share of its memory that a few at once survive.
 */
export const MAX_CDP_MESSAGE_BYTES = 64 * MB;

export type OutputKind = keyof typeof OUTPUT_CAPS;

/** A byte count as a person reads it: `256 KB`, `10 MB`. */
export const formatBytes = (bytes: number): string =>
  bytes >= MB && bytes % MB === 0
    ? `${bytes / MB} MB`
    : bytes >= KB && bytes % KB === 0
      ? `${bytes / KB} KB`
      : `${bytes} bytes`;
