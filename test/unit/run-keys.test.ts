import { describe, expect, it } from 'vitest';
import { normalizedBody, runKeys } from '../../ops/cli/run-keys.js';

const a = { type: 'content', url: 'http://127.0.0.1/a' };
const b = { type: 'markdown', url: 'http://127.0.0.1/b' };
const c = {
  type: 'screenshot',
  url: 'http://127.0.0.1/c',
  options: { viewport: { width: 320, height: 200 } },
};
const SCOPE = '/home/me/tasks.jsonl';

describe('browserfleet run: Idempotency-Keys of a batch file', () => {
  it('inserting a line above leaves the keys of the lines below unchanged', () => {
    const before = runKeys(SCOPE, [a, b, c]);
    const after = runKeys(SCOPE, [{ type: 'links', url: 'http://127.0.0.1/new' }, a, b, c]);
    expect(after.slice(1)).toEqual(before);
    // Removing or reordering lines too: a key names what a line asks for, not where it sits.
    expect(runKeys(SCOPE, [c, a])).toEqual([before[2], before[0]]);
  });

  it('identical lines get distinct keys, by their occurrence, and keep them when lines are added', () => {
    const keys = runKeys(SCOPE, [a, b, a, a]);
    expect(new Set(keys).size).toBe(4);
    expect(keys[0]).toBe(runKeys(SCOPE, [a])[0]);
    // The 2nd and 3rd `a` keep theirs when a different line goes in above them.
    const inserted = runKeys(SCOPE, [a, c, b, a, a]);
    expect([inserted[0], inserted[2], inserted[3], inserted[4]]).toEqual(keys);
  });

  it('the same body, spaced or ordered differently, is the same line', () => {
    const reordered = JSON.parse(
      '{ "url": "http://127.0.0.1/c", "options": { "viewport": { "height": 200, "width": 320 } }, "type": "screenshot" }',
    );
    expect(normalizedBody(reordered)).toBe(normalizedBody(c));
    expect(runKeys(SCOPE, [reordered])).toEqual(runKeys(SCOPE, [c]));
    // Array order is meaning (a list of elements to read), so it stays.
    expect(normalizedBody({ list: [1, 2] })).not.toBe(normalizedBody({ list: [2, 1] }));
  });

  it('is deterministic, scoped by the file, and a valid Idempotency-Key', () => {
    const keys = runKeys(SCOPE, [a, b]);
    expect(runKeys(SCOPE, [a, b])).toEqual(keys);
    const elsewhere = runKeys('/home/me/other.jsonl', [a, b]);
    expect(elsewhere[0]).not.toBe(keys[0]);
    expect(elsewhere[1]).not.toBe(keys[1]);
    for (const key of keys) expect(key).toMatch(/^bf-run-[0-9a-f]{40}$/);
  });
});
