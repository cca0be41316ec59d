/** The MCP output budgets: pages within maxChars, cursors, errors as the model sees them. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor, errorAnswer, pageOf } from '../../shared/agents/tool-output.js';
import { BrowserfleetError } from '../../shared/errors.js';

const pages = (text: string, maxChars: number) => {
  const out = [];
  let offset = 0;
  for (;;) {
    const page = pageOf(text, offset, maxChars);
    out.push(page);
    if (page.nextCursor === undefined) return out;
    offset = decodeCursor(page.nextCursor);
  }
};

describe('pageOf', () => {
  it('pages any text into pieces within the budget that join back into it', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 3_000 }),
        fc.integer({ min: 2, max: 400 }),
        (text, maxChars) => {
          const all = pages(text, maxChars);
          for (const page of all) expect(page.text.length).toBeLessThanOrEqual(maxChars);
          expect(all.map((p) => p.text).join('')).toBe(text);
        },
      ),
    );
  });

  it('cuts after a line break in the second half of the page, never inside a surrogate pair', () => {
    const text = `${'a'.repeat(70)}\n${'b'.repeat(70)}\n`;
    expect(pageOf(text, 0, 100).text).toBe(`${'a'.repeat(70)}\n`);
    // No break past half: a hard cut, moved off the high surrogate of 😀.
    const emoji = `${'x'.repeat(9)}😀tail`;
    expect(pageOf(emoji, 0, 10).text).toBe('x'.repeat(9));
    expect(pageOf(emoji, 9, 10).text.startsWith('😀')).toBe(true);
  });

  it('the last page has no cursor; an offset past the end is an empty last page', () => {
    expect(pageOf('short', 0, 100)).toEqual({ text: 'short', offset: 0, end: 5, total: 5 });
    expect(pageOf('short', 99, 100)).toMatchObject({ text: '', total: 5 });
  });
});

describe('cursors', () => {
  it('round-trip an offset, and refuse anything else as VALIDATION_FAILED naming the field', () => {
    expect(decodeCursor(encodeCursor(1234))).toBe(1234);
    expect(decodeCursor(undefined)).toBe(0);
    for (const bad of [
      '',
      'xyz',
      Buffer.from('{"o":-1}').toString('base64url'),
      Buffer.from('[]').toString('base64url'),
    ]) {
      expect(() => decodeCursor(bad)).toThrow(/^cursor: /);
    }
  });
});

describe('errorAnswer', () => {
  it("answers the platform's errors as CODE: message, and rethrows anything else", () => {
    expect(errorAnswer(new BrowserfleetError('NOT_FOUND', 'Task x does not exist.'))).toEqual({
      isError: true,
      content: [{ type: 'text', text: 'NOT_FOUND: Task x does not exist.' }],
      structuredContent: { error: { code: 'NOT_FOUND', message: 'Task x does not exist.' } },
    });
    expect(() => errorAnswer(new Error('boom'))).toThrow('boom');
  });
});
