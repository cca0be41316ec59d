import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isIdShaped, newTimeOrderedId } from '../../shared/ids.js';

describe('time-ordered ids (UUIDv7)', () => {
  it('are RFC 9562 version 7 UUIDs, and id-shaped', () => {
    const id = newTimeOrderedId();
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(isIdShaped(id)).toBe(true);
  });

  it('a later millisecond always sorts after an earlier one, whatever the random bits', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 47 }),
        fc.integer({ min: 1, max: 10 ** 9 }),
        fc.uint8Array({ minLength: 10, maxLength: 10 }),
        fc.uint8Array({ minLength: 10, maxLength: 10 }),
        (t, later, a, b) => newTimeOrderedId(t, a) < newTimeOrderedId(t + later, b),
      ),
    );
  });

  it('carries its millisecond in the first 48 bits', () => {
    const t = Date.parse('2026-12-01T12:00:00Z');
    expect(Number.parseInt(newTimeOrderedId(t).replace(/-/g, '').slice(0, 12), 16)).toBe(t);
  });
});
