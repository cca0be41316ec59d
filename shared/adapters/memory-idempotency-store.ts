import type { IdempotencyClaim, IdempotencyRecord, IdempotencyStore } from '../task/ports.js';

/** In-memory twin of the DynamoDB idempotency store, for unit tests. */
export class MemoryIdempotencyStore implements IdempotencyStore {
  private readonly records = new Map<string, IdempotencyRecord>();

  async claim(record: IdempotencyRecord, nowSeconds: number): Promise<IdempotencyClaim> {
    const id = `${record.tenantId}#${record.key}`;
    const existing = this.records.get(id);
    if (existing !== undefined && existing.expiresAt > nowSeconds) return { claimed: false, existing };
    this.records.set(id, { ...record });
    return { claimed: true };
  }
}
