/**
 * A live session's logs (console messages, network requests): bounded rings of numbered
 * entries, read by cursor. An agent asks for what came after the last `seq` it saw and
 * gets it oldest first, in pages bounded by count and by characters, and is told how many
 * it can no longer have because the ring moved past them. Pure: the browser adapter feeds
 * the rings, the `console` and `network` commands read them.
 */

/** What one ring keeps and how much of each entry. */
export const SESSION_LOG_LIMITS = {
  /** Entries kept per ring: enough for a page's life between two reads, bounded for a hostile page. */
  entries: 1_000,
  /** A console message's text, past which it is cut (with a marker): a page may log megabytes. */
  textChars: 2_000,
  /** A request's URL, past which it is cut (data: URLs run to megabytes). */
  urlChars: 2_048,
} as const;

/** What a cut string ends with, so a reader knows it is not the whole. */
export const TRUNCATION_MARKER = '…[truncated]';

/** `text` cut to at most `max` characters, marker included, when longer. */
export const truncate = (text: string, max: number): string =>
  text.length <= max
    ? text
    : `${text.slice(0, Math.max(0, max - TRUNCATION_MARKER.length))}${TRUNCATION_MARKER}`;

export interface ConsoleEntry {
  seq: number;
  /** Puppeteer's console types (`log`, `warn`, `error`, …); a page error is `error`. */
  level: string;
  text: string;
  /** ISO time it was recorded. */
  at: string;
  /** The page (tab) it came from. */
  url?: string;
}

export interface NetworkEntry {
  seq: number;
  method: string;
  url: string;
  /** Chromium's resource type: `document`, `script`, `fetch`, `image`, … */
  resourceType: string;
  /** The answer's status, once its headers came. */
  status?: number;
  /** Chromium's error text when the request failed (`net::ERR_…`). */
  failure?: string;
  /** The session's egress guard refused it. */
  blockedByEgress?: boolean;
  /** ISO time the request started. */
  at: string;
}

/** One page of a ring, read from a cursor. */
export interface LogPage<T> {
  entries: T[];
  /** The cursor to read the next page from: the last `seq` given, or where the ring stands. */
  nextCursor: number;
  /** Entries after the cursor that the ring no longer holds (it keeps only the newest). */
  dropped?: number;
}

export interface LogRead<T> {
  /** Entries with a `seq` above it are read; 0 reads the ring from its start. */
  cursor: number;
  /** At most this many entries. */
  limit: number;
  /**
   * At most this many UTF-8 bytes of entries' JSON in all, so a page fits one WebSocket
   * message (128 KB) whatever the text is made of; the first entry always comes (`fit`).
   */
  maxChars: number;
  /** The entry cut to fit `budget` bytes, as far as its text allows. */
  fit: (entry: T, budget: number) => T;
}

const encoder = new TextEncoder();
/** What an entry weighs in the answer: its JSON's UTF-8 bytes. */
export const entryBytes = (entry: object): number => encoder.encode(JSON.stringify(entry)).length;

/** `entry` with its `key` text cut until the whole fits `budget` bytes (or the text is gone). */
const cutToFit = <T extends object, K extends keyof T & string>(entry: T, key: K, budget: number): T => {
  const text = String(entry[key]);
  // A character is at least one byte: cutting to the bytes left is the first guess.
  let max = Math.max(0, budget - entryBytes({ ...entry, [key]: '' }));
  let cut = { ...entry, [key]: truncate(text, max) };
  while (entryBytes(cut) > budget && max > 0) {
    max = Math.floor(max / 2);
    cut = { ...entry, [key]: truncate(text, max) };
  }
  return cut;
};

/**
 * Numbered entries, the newest `capacity` kept. `seq` starts at 1 and only grows, so a
 * cursor stays meaningful across evictions.
 */
export class SeqRing<T extends { seq: number }> {
  private readonly entries: T[] = [];
  private lastSeq = 0;

  constructor(private readonly capacity: number = SESSION_LOG_LIMITS.entries) {}

  /** Adds an entry made from its `seq`; answers the entry (the caller may fill it in later). */
  push(make: (seq: number) => T): T {
    const entry = make(++this.lastSeq);
    this.entries.push(entry);
    if (this.entries.length > this.capacity) this.entries.shift();
    return entry;
  }

  /** The `seq` of the newest entry ever added (0 before the first). */
  get newest(): number {
    return this.lastSeq;
  }

  /** Entries after `read.cursor`, oldest first, bounded by `limit` and `maxChars`. */
  read(read: LogRead<T>): LogPage<T> {
    const oldestKept = this.entries[0]?.seq ?? this.lastSeq + 1;
    const dropped = Math.max(0, Math.min(oldestKept - 1, this.lastSeq) - read.cursor);
    const start = this.entries.findIndex((e) => e.seq > read.cursor);
    const page: T[] = [];
    let budget = read.maxChars;
    for (let i = start; i >= 0 && i < this.entries.length && page.length < read.limit; i++) {
      const entry = this.entries[i] as T;
      const cost = entryBytes(entry);
      if (cost > budget) {
        // One entry bigger than the whole budget still comes, cut, or the reader would be stuck.
        if (page.length === 0) page.push(read.fit(entry, budget));
        break;
      }
      page.push(entry);
      budget -= cost;
    }
    const last = page.at(-1);
    // Nothing new: the cursor stays, but never past the newest entry (a cursor from nowhere
    // would otherwise hide every entry to come).
    const nextCursor = last === undefined ? Math.min(read.cursor, this.lastSeq) : last.seq;
    return { entries: page, nextCursor, ...(dropped > 0 ? { dropped } : {}) };
  }
}

/** A console ring's read: an oversized first message is cut in its text. */
export const consoleRead = (p: { cursor?: number | undefined; limit: number; maxChars: number }) =>
  ({
    cursor: p.cursor ?? 0,
    limit: p.limit,
    maxChars: p.maxChars,
    fit: (e, budget) => cutToFit(e, 'text', budget),
  }) satisfies LogRead<ConsoleEntry>;

/** A network ring's read: an oversized first request is cut in its URL. */
export const networkRead = (p: { cursor?: number | undefined; limit: number; maxChars: number }) =>
  ({
    cursor: p.cursor ?? 0,
    limit: p.limit,
    maxChars: p.maxChars,
    fit: (e, budget) => cutToFit(e, 'url', budget),
  }) satisfies LogRead<NetworkEntry>;
