/**
 * A session's logs are read by cursor: what came after the last `seq` seen, oldest first,
 * bounded by count and by characters, saying how many the ring dropped before the reader
 * got to them. The `console`/`network` params' bounds are checked at the edge.
 */
import { describe, expect, it } from 'vitest';
import { commandMessageSchema } from '../../shared/session/session-input.js';
import {
  type ConsoleEntry,
  consoleRead,
  entryBytes,
  type NetworkEntry,
  networkRead,
  SeqRing,
  TRUNCATION_MARKER,
  truncate,
} from '../../shared/session/session-log.js';

const AT = '2026-12-02T10:00:00.000Z';
const ringOf = (texts: string[], capacity = 1_000) => {
  const ring = new SeqRing<ConsoleEntry>(capacity);
  for (const text of texts) ring.push((seq) => ({ seq, level: 'log', text, at: AT }));
  return ring;
};
const read = (p: { cursor?: number; limit?: number; maxChars?: number }) =>
  consoleRead({ limit: 100, maxChars: 8_000, ...p });

describe('a session log ring', () => {
  it('answers the entries after the cursor, oldest first, and the cursor to go on from', () => {
    const ring = ringOf(['a', 'b', 'c', 'd']);
    const all = ring.read(read({}));
    expect(all.entries.map((e) => [e.seq, e.text])).toEqual([
      [1, 'a'],
      [2, 'b'],
      [3, 'c'],
      [4, 'd'],
    ]);
    expect(all).toMatchObject({ nextCursor: 4 });
    expect(all.dropped).toBeUndefined();
    const after = ring.read(read({ cursor: 2 }));
    expect(after.entries.map((e) => e.text)).toEqual(['c', 'd']);
    // Nothing new: the same cursor again, and an empty page.
    expect(ring.read(read({ cursor: 4 }))).toEqual({ entries: [], nextCursor: 4 });
    ring.push((seq) => ({ seq, level: 'warn', text: 'e', at: AT }));
    expect(ring.read(read({ cursor: 4 })).entries.map((e) => [e.seq, e.level])).toEqual([[5, 'warn']]);
  });

  it('pages by limit: reading on from nextCursor gets every entry exactly once', () => {
    const ring = ringOf(Array.from({ length: 25 }, (_, i) => `m${i + 1}`));
    const seen: string[] = [];
    let cursor = 0;
    for (let pages = 0; pages < 10; pages++) {
      const page = ring.read(read({ cursor, limit: 7 }));
      expect(page.entries.length).toBeLessThanOrEqual(7);
      seen.push(...page.entries.map((e) => e.text));
      if (page.nextCursor === cursor) break;
      cursor = page.nextCursor;
    }
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => `m${i + 1}`));
  });

  it('keeps the newest entries only, and says how many after the cursor it dropped', () => {
    const ring = ringOf(
      Array.from({ length: 12 }, (_, i) => `m${i + 1}`),
      5,
    );
    const page = ring.read(read({ cursor: 3 }));
    // 1–7 are gone; 4–7 came after the cursor.
    expect(page.entries.map((e) => e.seq)).toEqual([8, 9, 10, 11, 12]);
    expect(page.dropped).toBe(4);
    expect(ring.read(read({})).dropped).toBe(7);
    expect(ring.read(read({ cursor: 9 }))).toMatchObject({ nextCursor: 12 });
    expect(ring.read(read({ cursor: 9 })).dropped).toBeUndefined();
    expect(ring.newest).toBe(12);
  });

  it('bounds a page by the bytes of its JSON, and still gives one oversized entry, cut to fit', () => {
    const ring = ringOf(['x'.repeat(60), 'y'.repeat(60), 'z'.repeat(10)]);
    const [one, two] = ring.read(read({})).entries;
    const budget = entryBytes(one as object) + entryBytes(two as object) - 1;
    const page = ring.read(read({ maxChars: budget }));
    // The first fits, the second would not: the page ends there, and goes on from the second.
    expect(page.entries.map((e) => e.text.length)).toEqual([60]);
    expect(page.nextCursor).toBe(1);
    expect(ring.read(read({ maxChars: budget + 1 })).entries).toHaveLength(2);

    const big = ringOf(['w'.repeat(500)]).read(read({ maxChars: 150 }));
    expect(big.entries).toHaveLength(1);
    expect(entryBytes(big.entries[0] as object)).toBeLessThanOrEqual(150);
    expect(big.entries[0]?.text.endsWith(TRUNCATION_MARKER)).toBe(true);
    expect(big.nextCursor).toBe(1);
  });

  it('counts bytes, not characters: text that is 3 bytes a character, or escaped in JSON, weighs so', () => {
    // 2,000 characters each (the cap on a message), and a page of 100 KB at most.
    const wide = ringOf(Array.from({ length: 30 }, () => '\u20ac'.repeat(2_000)));
    const page = wide.read(read({ maxChars: 100_000, limit: 500 }));
    const bytes = page.entries.reduce((sum, e) => sum + entryBytes(e), 0);
    expect(bytes).toBeLessThanOrEqual(100_000);
    expect(page.entries.length).toBe(16);
    const controls = ringOf(Array.from({ length: 30 }, () => '\u0001'.repeat(2_000)));
    const escaped = controls.read(read({ maxChars: 100_000, limit: 500 }));
    expect(escaped.entries.reduce((sum, e) => sum + entryBytes(e), 0)).toBeLessThanOrEqual(100_000);
    // A request cut to fit is cut in its URL.
    const net = new SeqRing<NetworkEntry>();
    net.push((seq) => ({
      seq,
      method: 'GET',
      url: `http://127.0.0.1/${'p'.repeat(2_000)}`,
      resourceType: 'fetch',
      at: AT,
    }));
    const [cut] = net.read(networkRead({ limit: 10, maxChars: 300 })).entries;
    expect(entryBytes(cut as object)).toBeLessThanOrEqual(300);
    expect(cut?.url.startsWith('http://127.0.0.1/ppp')).toBe(true);
    expect(cut?.url.endsWith(TRUNCATION_MARKER)).toBe(true);
  });

  it('never moves a cursor from nowhere past the newest entry, so the next entries come', () => {
    const ring = ringOf(['a', 'b']);
    expect(ring.read(read({ cursor: 1_000 }))).toEqual({ entries: [], nextCursor: 2 });
    expect(new SeqRing<ConsoleEntry>().read(read({ cursor: 5 }))).toEqual({ entries: [], nextCursor: 0 });
  });

  it('cuts a string with a marker, within its bound', () => {
    expect(truncate('short', 10)).toBe('short');
    const cut = truncate('a'.repeat(3_000), 2_000);
    expect(cut).toHaveLength(2_000);
    expect(cut.endsWith(TRUNCATION_MARKER)).toBe(true);
  });
});

describe('the console and network params', () => {
  const parse = (method: string, params: unknown) =>
    commandMessageSchema.safeParse({ action: 'command', id: 'c', method, params });

  it('fill in their defaults and refuse what is out of bounds', () => {
    expect(parse('console', {}).success).toBe(true);
    expect(parse('network', { cursor: 3, limit: 500, maxChars: 100_000 }).success).toBe(true);
    for (const bad of [{ cursor: -1 }, { limit: 0 }, { limit: 501 }, { maxChars: 100_001 }, { since: 1 }]) {
      expect(parse('console', bad).success, JSON.stringify(bad)).toBe(false);
    }
  });

  it('tabs takes one of its four actions, each with what it needs', () => {
    for (const good of [
      { action: 'list' },
      { action: 'open' },
      { action: 'open', url: 'http://127.0.0.1/' },
      { action: 'select', index: 0 },
      { action: 'close', index: 9 },
    ]) {
      expect(parse('tabs', good).success, JSON.stringify(good)).toBe(true);
    }
    for (const bad of [
      {},
      { action: 'open', url: 'file:///etc/passwd' },
      { action: 'select' },
      { action: 'close', index: 10 },
      { action: 'list', index: 0 },
    ]) {
      expect(parse('tabs', bad).success, JSON.stringify(bad)).toBe(false);
    }
    expect(parse('downloads', { all: true }).success).toBe(false);
  });
});
