import type { ResultCache } from '../task/ports.js';
import type { ResultCacheEntry } from '../task/result-cache.js';

/** In-memory twin of the DynamoDB result cache, for unit tests (same contract suite). */
export class MemoryResultCache implements ResultCache {
  private readonly entries = new Map<string, ResultCacheEntry>();

  async get(tenantId: string, key: string): Promise<ResultCacheEntry | undefined> {
    const entry = this.entries.get(`${tenantId}#${key}`);
    return entry === undefined ? undefined : structuredClone(entry);
  }

  async record(entry: ResultCacheEntry): Promise<void> {
    const id = `${entry.tenantId}#${entry.key}`;
    const stored = this.entries.get(id);
    if (stored !== undefined && stored.endedAtMs >= entry.endedAtMs) return;
    this.entries.set(id, structuredClone(entry));
  }
}
