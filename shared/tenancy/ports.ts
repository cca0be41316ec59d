/** Ports of tenancy: the rate limiter's buckets and the usage counters' ledger. */
import type { BucketLimits } from './token-bucket.js';

/**
 * Port: one GCRA bucket per tenant. `take` applies `admit` (see token-bucket.ts)
 * atomically and answers the TAT after an admission, or as found on a refusal.
 */
export interface RateBucketStore {
  /**
   * `now` is read for each round of conditional writes: a write the SDK retried under
   * throttling for seconds must be judged at the time it lands, not the time it was asked.
   */
  take(
    tenantId: string,
    now: () => number,
    limits: BucketLimits,
  ): Promise<{ admitted: boolean; tat: number }>;
}

export interface UsageCounts {
  queuedTasks: number;
  runningTasks: number;
  liveSessions: number;
}

export interface UsageLedger {
  /** The counters of `tenantId`, or of every tenant with a usage row. */
  counters(tenantId?: string): Promise<Map<string, UsageCounts>>;
  /** Counted from the rows themselves, for `tenantId` or every tenant that has live rows. */
  recount(tenantId?: string): Promise<Map<string, UsageCounts>>;
  /** Sets the counters to `to` only if they still hold `from`; `false` if they moved meanwhile. */
  correct(tenantId: string, from: UsageCounts, to: UsageCounts): Promise<boolean>;
}
