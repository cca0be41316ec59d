/**
 * The `cursor` of `GET /v1/tasks`: opaque to clients, base64url of the last task a page
 * answered (its creation time and id). It is not signed, on purpose: it is read only
 * inside the caller's own partition of the history index (the tenant comes from the API
 * key, never from the cursor), so an edited cursor can do no more than `since` does. What
 * is checked is that it is one this API could have given out; anything else is a 400
 * naming `cursor` before any read, so a client can't make the index query itself fail.
 */
import { z } from 'zod';
import { BrowserfleetError, ERROR_CODES } from '../errors.js';
import { isIdShaped } from '../ids.js';
import type { HistoryPosition } from './ports.js';

/** A cursor this API writes is under 100 characters; a longer one isn't one of ours. */
const MAX_CURSOR_LENGTH = 256;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** An ISO-8601 time exactly as `toISOString` writes it, the form the index sorts on. */
export const isCanonicalTime = (value: string): boolean => {
  const ms = Date.parse(value);
  return Number.isFinite(ms) && new Date(ms).toISOString() === value;
};

const cursorSchema = z.strictObject({
  /** Version of the layout, so a later one can be told apart. */
  v: z.literal(1),
  c: z.string().refine(isCanonicalTime),
  i: z.string().refine(isIdShaped),
});

export const encodeHistoryCursor = (at: HistoryPosition): string =>
  Buffer.from(JSON.stringify({ v: 1, c: at.createdAt, i: at.id }), 'utf8').toString('base64url');

const badCursor = (): BrowserfleetError =>
  new BrowserfleetError(
    ERROR_CODES.VALIDATION_FAILED,
    'cursor: is not a cursor this API gave out; pass nextCursor from the previous page as it is',
    {
      details: {
        issues: [{ field: 'cursor', message: 'is not a cursor this API gave out; pass nextCursor as it is' }],
      },
    },
  );

/** The position a cursor names, or `VALIDATION_FAILED` naming `cursor`. */
export const decodeHistoryCursor = (cursor: string): HistoryPosition => {
  if (cursor.length > MAX_CURSOR_LENGTH || !BASE64URL.test(cursor)) throw badCursor();
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw badCursor();
  }
  const parsed = cursorSchema.safeParse(value);
  if (!parsed.success) throw badCursor();
  const at = { createdAt: parsed.data.c, id: parsed.data.i };
  // Only the exact bytes this API writes: no other spelling of the same position passes.
  if (encodeHistoryCursor(at) !== cursor) throw badCursor();
  return at;
};
