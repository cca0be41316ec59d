import type { RateBucketStore } from '../tenancy/ports.js';
import { admit, type BucketLimits } from '../tenancy/token-bucket.js';

/**
 * In-memory twin of the DynamoDB rate-bucket store, for unit tests: the same GCRA rule
 * (`admit`), applied with no await between the read and the write, so it is atomic.
 */
export class MemoryRateBucketStore implements RateBucketStore {
  private readonly tats = new Map<string, number>();

  async take(
    tenantId: string,
    now: () => number,
    limits: BucketLimits,
  ): Promise<{ admitted: boolean; tat: number }> {
    const out = admit(this.tats.get(tenantId), now(), limits);
    if (out.admitted) this.tats.set(tenantId, out.next);
    return { admitted: out.admitted, tat: out.next };
  }
}
