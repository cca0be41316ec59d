/**
 * The result cache (`cacheTTL` on a task): a task that succeeds records its result under its
 * tenant and its normalized request; a later request of that tenant with the same key is
 * answered from it at once, as a new task already `succeeded`, with no browser time and
 * its artifacts by reference (the same objects, presigned for the reader). Pure: the entry
 * store is a port (ports.ts), time comes from the caller's clock.
 *
 * What the key covers is what decides the result: the type, the URL (normalized) and every
 * option, defaults filled in. Not what only decides delivery (`cacheTTL` itself, `tier`,
 * `maxAttempts`, the Idempotency-Key, webhook-like fields): those are left out by naming
 * what goes in, so a field added to the body later stays out until someone puts it in.
 */
import { createHash } from 'node:crypto';
import type { Task, TaskResult } from './task.js';
import type { TaskSpec } from './task-input.js';

/**
 * Bumped whenever what goes into a key, or how it is normalized, changes: entries made
 * under another version are then never found, rather than found for the wrong request.
 */
const KEY_VERSION = 1;

const canonical = (value: unknown): unknown =>
  Array.isArray(value)
    ? value.map(canonical)
    : value !== null && typeof value === 'object'
      ? Object.fromEntries(
          Object.keys(value)
            .sort()
            .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
        )
      : value;

/** JSON with every object's keys in sorted order: the same meaning, the same text. */
export const canonicalJson = (value: unknown): string => JSON.stringify(canonical(value));

/**
 * A task URL as the cache compares it. WHATWG parsing already lowercases the scheme and the
 * host, drops the scheme's default port, makes an empty path `/` and resolves `.` and `..`
 * segments; on top of that, percent-escapes are uppercased (RFC 3986 §6.2.2.1: `%7e` is
 * `%7E`) and a lone `?` or `#` is dropped. The query is kept as written (servers may read
 * its order), and so is a non-empty fragment: the server never sees it, but the browser acts
 * on it — it scrolls a screenshot to the anchor and routes a single-page app — so `#a` and
 * `#b` may render differently.
 */
export const normalizeTaskUrl = (url: string): string => {
  const parsed = new URL(url);
  if (parsed.search === '') parsed.search = '';
  if (parsed.hash === '') parsed.hash = '';
  return parsed.href.replace(/%[0-9a-f]{2}/gi, (triplet) => triplet.toUpperCase());
};

/**
 * The cache key of a request: a SHA-256 of its version, type, normalized URL and options in
 * canonical order. A hash, so the row's key holds no cookie, header or password of the options.
 */
export const resultCacheKey = (request: TaskSpec & { url: string }): string =>
  createHash('sha256')
    .update(
      canonicalJson({
        v: KEY_VERSION,
        type: request.type,
        url: normalizeTaskUrl(request.url),
        options: request.options,
      }),
    )
    .digest('hex');

/** One tenant's latest result of one normalized request. */
export interface ResultCacheEntry {
  tenantId: string;
  key: string;
  /** The task whose run produced the result; it owns the artifacts. */
  sourceTaskId: string;
  /** The source's result: artifacts (their object keys), finalUrl, httpStatus, data, warnings, … */
  result: TaskResult;
  /** Epoch ms the source ended: a result's age counts from here. */
  endedAtMs: number;
  /** Epoch ms from which the entry answers nobody: the source's end plus its `cacheTTL`. */
  expiresAtMs: number;
}

/**
 * The entry a task's result makes, if it makes one: a task that ran (not itself a hit),
 * succeeded, and asked for the cache. Its expiry is its end plus its `cacheTTL`.
 */
export const resultCacheEntryOf = (task: Task): ResultCacheEntry | undefined => {
  if (
    task.status !== 'succeeded' ||
    task.cacheTTL === undefined ||
    task.cacheKey === undefined ||
    task.cacheHit !== undefined ||
    task.result === undefined ||
    task.endedAt === undefined
  ) {
    return undefined;
  }
  const endedAtMs = Date.parse(task.endedAt);
  const { timings: _timings, browserMs: _browserMs, ...result } = task.result;
  return {
    tenantId: task.tenantId,
    key: task.cacheKey,
    sourceTaskId: task.id,
    result,
    endedAtMs,
    expiresAtMs: endedAtMs + task.cacheTTL * 1000,
  };
};

/**
 * Until when (epoch ms) `entry` answers a request that accepts results `ttlSeconds` old, or
 * `undefined` if it no longer does at `nowMs`. Both TTLs bound it: the writer's (the entry's
 * expiry) and the reader's, so a request with `cacheTTL: 5` never gets an hour-old result
 * that a request with a longer TTL left behind.
 */
export const answersUntil = (
  entry: ResultCacheEntry,
  ttlSeconds: number,
  nowMs: number,
): number | undefined => {
  const until = Math.min(entry.expiresAtMs, entry.endedAtMs + ttlSeconds * 1000);
  return nowMs < until ? until : undefined;
};

/** A hit's result: the source's, with no browser time of its own (nothing ran, nothing is billed). */
export const hitResultOf = (entry: ResultCacheEntry): TaskResult => ({
  ...entry.result,
  timings: { queueWaitMs: 0, launchMs: 0, navigationMs: 0, captureMs: 0 },
  browserMs: 0,
});
