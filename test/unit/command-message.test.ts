/**
 * A `command` message is checked at the WebSocket edge against its method's params schema
 * (the worker's own table), so a bad command is refused naming the field and its rule
 * before anything reaches the worker; good params travel as the client sent them.
 */
import { describe, expect, it } from 'vitest';
import { BrowserfleetError } from '../../shared/errors.js';
import { commandMessageSchema } from '../../shared/session/session-input.js';
import { parseOrThrow } from '../../shared/validation.js';

const refusal = (body: unknown): BrowserfleetError => {
  try {
    parseOrThrow(commandMessageSchema, body);
  } catch (error) {
    if (error instanceof BrowserfleetError) return error;
    throw error;
  }
  throw new Error('accepted');
};

const command = (method: string, params?: unknown) => ({
  action: 'command',
  id: 'c1',
  method,
  ...(params === undefined ? {} : { params }),
});

describe('a command message at the edge', () => {
  it("refuses a param that breaks its method's rule, at params.<field>", () => {
    const error = refusal(command('navigate', { url: 'ftp://example.test/' }));
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.message).toBe('params.url: must be an absolute http(s) URL');
    expect(error.details).toEqual({
      issues: [{ field: 'params.url', message: 'must be an absolute http(s) URL' }],
    });
  });

  it('names a missing param, an unknown one, and an out-of-range one', () => {
    expect(refusal(command('press', {})).message).toMatch(/^params\.key: /);
    expect(refusal(command('back', { steps: 2 })).message).toBe('params.steps: is not a recognized field');
    expect(refusal(command('setViewport', { width: 50, height: 600 })).message).toMatch(
      /^params\.width: .*100/,
    );
  });

  it('says what a click takes when its params fit neither shape', () => {
    expect(refusal(command('click', {})).message).toMatch(
      /^params: must be \{ selector \}, \{ ref \} or \{ x, y \}/,
    );
    expect(refusal(command('click', { selector: '#go', x: 3 })).message).toBe(
      'params.x: is not a recognized field',
    );
  });

  it('accepts good params and passes them on as sent (the worker fills the defaults)', () => {
    expect(parseOrThrow(commandMessageSchema, command('navigate', { url: 'https://example.test/' }))).toEqual(
      {
        action: 'command',
        id: 'c1',
        method: 'navigate',
        params: { url: 'https://example.test/' },
        timeoutMs: 30_000,
      },
    );
    expect(parseOrThrow(commandMessageSchema, command('reload')).params).toEqual({});
  });
});
