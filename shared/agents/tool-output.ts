/**
 * What an MCP tool answers, and the budgets that keep it inside a model's context: text is
 * cut into pages of at most `maxChars` (at a line break when one is near), each page saying
 * how to get the next with an opaque cursor; images go inline up to a size, else as a link.
 * The shapes are MCP's `CallToolResult` content blocks (text, image, resource_link).
 */
import { z } from 'zod';
import { BrowserfleetError, ERROR_CODES, isBrowserfleetError } from '../errors.js';
import { WS_ERROR_RULES } from '../session/ws-errors.js';

export type ToolContent =
  | { type: 'text'; text: string }
  | { type: 'image'; data: string; mimeType: string }
  | {
      type: 'resource_link';
      uri: string;
      name: string;
      mimeType?: string;
      description?: string;
      size?: number;
    };

export interface ToolAnswer {
  content: ToolContent[];
  /** The same facts for a program: ids, cursors, sizes. */
  structuredContent?: Record<string, unknown>;
  /** A tool error the model should see (MCP reports those in the result, not as a fault). */
  isError?: boolean;
}

/** Every text result's budget: a default a model can take whole, and a hard ceiling. */
export const TEXT_BUDGET = { defaultChars: 8_000, minChars: 200, maxChars: 100_000 } as const;
/** Screenshots up to this size are answered inline (base64); bigger ones as a link. */
export const INLINE_IMAGE_MAX_BYTES = 512 * 1024;
/** The most of a text artifact a tool reads to page through (the biggest, content, is 10 MB). */
export const TEXT_ARTIFACT_MAX_BYTES = 10 * 1024 * 1024;

export const maxCharsSchema = z
  .int()
  .min(TEXT_BUDGET.minChars)
  .max(TEXT_BUDGET.maxChars)
  .default(TEXT_BUDGET.defaultChars)
  .describe(`Most characters of text to answer (${TEXT_BUDGET.minChars}–${TEXT_BUDGET.maxChars}).`);

/** A cursor is the offset of the next page, opaque to the client. */
export const encodeCursor = (offset: number): string =>
  Buffer.from(JSON.stringify({ o: offset })).toString('base64url');

export const decodeCursor = (cursor: string | undefined): number => {
  if (cursor === undefined) return 0;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    const offset = (parsed as { o?: unknown }).o;
    if (typeof offset === 'number' && Number.isSafeInteger(offset) && offset >= 0) return offset;
  } catch {
    // falls through to the refusal
  }
  throw new BrowserfleetError(
    ERROR_CODES.VALIDATION_FAILED,
    'cursor: is not a cursor this tool answered (pass nextCursor as it was given)',
  );
};

export interface TextPage {
  text: string;
  offset: number;
  end: number;
  total: number;
  nextCursor?: string;
}

/**
 * The page of `text` starting at `offset`, at most `maxChars` long: cut after the last line
 * break in its second half when there is one, and never inside a surrogate pair.
 */
export const pageOf = (text: string, offset: number, maxChars: number): TextPage => {
  const total = text.length;
  const start = Math.min(offset, total);
  let end = Math.min(start + maxChars, total);
  if (end < total) {
    const lineBreak = text.lastIndexOf('\n', end - 1);
    if (lineBreak >= start + maxChars / 2) end = lineBreak + 1;
    const code = text.charCodeAt(end - 1);
    if (code >= 0xd800 && code <= 0xdbff && end - 1 > start) end -= 1;
  }
  return {
    text: text.slice(start, end),
    offset: start,
    end,
    total,
    ...(end < total ? { nextCursor: encodeCursor(end) } : {}),
  };
};

/** A page as a text block, with a last line saying where it is and how to go on. */
export const pagedText = (page: TextPage, more: (cursor: string) => string): ToolContent => ({
  type: 'text',
  text:
    page.nextCursor === undefined
      ? page.offset === 0
        ? page.text
        : `${page.text}\n[characters ${page.offset}–${page.end} of ${page.total}: the end]`
      : `${page.text}\n[characters ${page.offset}–${page.end} of ${page.total}; ${more(page.nextCursor)}]`,
});

export const textAnswer = (text: string, structured?: Record<string, unknown>): ToolAnswer => ({
  content: [{ type: 'text', text }],
  ...(structured === undefined ? {} : { structuredContent: structured }),
});

/**
 * A refusal or failure as the model sees it: `CODE: message`, flagged as an error. Only the
 * platform's own errors of a code clients are shown (ws-errors.ts, the one such table) say
 * what happened; anything else is a fault the caller logs and answers generically.
 */
export const errorAnswer = (error: unknown): ToolAnswer => {
  if (!isBrowserfleetError(error)) throw error;
  // The WebSocket API's table says which codes a client is shown; the others are faults.
  if (WS_ERROR_RULES[error.code].client !== 'shown') throw error;
  return {
    isError: true,
    content: [{ type: 'text', text: `${error.code}: ${error.message}` }],
    structuredContent: { error: { code: error.code, message: error.message } },
  };
};

/** A failure reported as data (a task's `error`, a session command's answer). */
export const failureAnswer = (failure: { code: string; message: string }): ToolAnswer => ({
  isError: true,
  content: [{ type: 'text', text: `${failure.code}: ${failure.message}` }],
  structuredContent: { error: failure },
});
