/**
 * The fields of a task row that the page decides, bounded before the row is written. A
 * DynamoDB item holds at most 400 KB; a page chooses its final URL (a 1 MB query string is
 * one `history.replaceState` away), the URLs its blocked requests went to, and much of its
 * error messages, and each attempt's error is kept again in the history. A row past the
 * limit fails its final write, and a task whose failure was final was run again for it.
 *
 * Budget: options ≲ 100 KB (bounded at submit), inline data ≤ 64 KB, the error and up to
 * 10 attempt records ≤ 22 KB, the final URL ≤ 4 KB, 50 blocked requests ≤ 40 KB — well
 * inside 400 KB.
 */
import type { TaskError, TaskEvent, TaskResult } from './task.js';

export const ROW_FIELD_LIMITS = {
  /** An error message, on the row and on each attempt record (2 KB: any real one fits). */
  errorMessageBytes: 2 * 1024,
  /** The final URL: twice the longest URL a task may ask for, as redirects add to it. */
  finalUrlBytes: 4 * 1024,
  /** Blocked requests listed on the row; `blockedRequestsTotal` counts them all. */
  blockedRequestsListed: 50,
  /** Each blocked request's URL (the host and path are what a reader needs). */
  blockedUrlBytes: 512,
  blockedReasonBytes: 256,
} as const;

/**
 * `value` if it is at most `maxBytes` of UTF-8; else cut on a character boundary and ended
 * with a marker saying how long it was, the whole at most `maxBytes`.
 */
export const truncateUtf8 = (value: string, maxBytes: number): string => {
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes <= maxBytes) return value;
  const marker = `…[truncated, ${bytes} bytes]`;
  const encoded = Buffer.from(value, 'utf8');
  let end = Math.max(0, maxBytes - Buffer.byteLength(marker, 'utf8'));
  // Back off continuation bytes (10xxxxxx), so no character is cut in two.
  while (end > 0 && ((encoded[end] ?? 0) & 0xc0) === 0x80) end--;
  return `${encoded.subarray(0, end).toString('utf8')}${marker}`;
};

const boundError = (error: TaskError): TaskError => ({
  code: error.code,
  message: truncateUtf8(error.message, ROW_FIELD_LIMITS.errorMessageBytes),
});

const boundResult = (result: TaskResult): TaskResult => {
  const { finalUrl, blockedRequests, ...rest } = result;
  const listed = blockedRequests?.slice(0, ROW_FIELD_LIMITS.blockedRequestsListed);
  return {
    ...rest,
    ...(finalUrl === undefined ? {} : { finalUrl: truncateUtf8(finalUrl, ROW_FIELD_LIMITS.finalUrlBytes) }),
    ...(listed === undefined || listed.length === 0
      ? {}
      : {
          blockedRequests: listed.map((b) => ({
            url: truncateUtf8(b.url, ROW_FIELD_LIMITS.blockedUrlBytes),
            reason: truncateUtf8(b.reason, ROW_FIELD_LIMITS.blockedReasonBytes),
          })),
        }),
    ...(blockedRequests !== undefined && blockedRequests.length > ROW_FIELD_LIMITS.blockedRequestsListed
      ? { blockedRequestsTotal: blockedRequests.length }
      : {}),
  };
};

/** The event with every page-decided field it carries bounded (see ROW_FIELD_LIMITS). */
export const boundTaskEvent = (event: TaskEvent): TaskEvent => {
  switch (event.kind) {
    case 'succeed':
      return { ...event, result: boundResult(event.result) };
    case 'fail':
    case 'retry':
      return { ...event, error: boundError(event.error) };
    default:
      return event;
  }
};
