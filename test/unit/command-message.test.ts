/**
 * A `command` message is checked at the WebSocket edge against its method's params schema
 * (the worker's own table), so a bad command is refused naming the field and its rule
 * before anything reaches the worker; good params travel as the client sent them.
 */
import { describe, expect, it } from 'vitest';
import { BrowserfleetError } from '../../shared/errors.js';
import { COMMAND_PARAMS, commandMessageSchema } from '../../shared/session/session-input.js';
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

  it("checks the agents' commands: one element by selector or ref, one thing to wait for, their caps", () => {
    const accepted = (method: string, params: unknown) =>
      COMMAND_PARAMS[method as keyof typeof COMMAND_PARAMS].parse(params);
    expect(accepted('snapshot', {})).toEqual({ maxChars: 8_000 });
    expect(accepted('click', { ref: 'e12' })).toEqual({ ref: 'e12', clickCount: 1 });
    expect(accepted('fill', { ref: 'e1', value: '' })).toEqual({ ref: 'e1', value: '' });
    expect(accepted('wait', { selector: '#a' })).toEqual({ selector: '#a' });
    expect(refusal(command('snapshot', { maxChars: 199 })).message).toMatch(/^params\.maxChars: /);
    expect(refusal(command('snapshot', { maxChars: 100_001 })).message).toMatch(/^params\.maxChars: /);
    expect(refusal(command('snapshot', { roles: ['Button!'] })).message).toBe(
      'params.roles.0: must be an ARIA role name',
    );
    expect(refusal(command('hover', {})).message).toBe('params: give exactly one of selector and ref');
    expect(refusal(command('hover', { selector: '#a', ref: 'e1' })).message).toBe(
      'params: give exactly one of selector and ref',
    );
    expect(refusal(command('type', { text: 'x', selector: '#a', ref: 'e1' })).message).toBe(
      'params: give at most one of selector and ref',
    );
    expect(refusal(command('click', { ref: 'button' })).message).toMatch(/^params/);
    expect(refusal(command('fill', { ref: 'e1', value: 'x'.repeat(10_001) })).message).toMatch(
      /^params\.value: /,
    );
    expect(
      refusal(command('select', { selector: '#s', values: Array.from({ length: 101 }, String) })).message,
    ).toMatch(/^params\.values: /);
    expect(refusal(command('wait', {})).message).toMatch(/^params: must be exactly one of/);
    expect(refusal(command('wait', { selector: '#a', text: 'b' })).message).toMatch(
      /^params: must be exactly one/,
    );
    expect(refusal(command('wait', { text: 'b', state: 'hidden' })).message).toBe(
      'params.state: goes with selector only',
    );
    expect(refusal(command('wait', { navigation: false })).message).toMatch(/^params\.navigation: /);
  });
});
