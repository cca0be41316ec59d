import type { Clock } from '../clock.js';
import type { TenantLimits } from './tenant.js';
import { type BucketDecision, type BucketLimits, describeBucket } from './token-bucket.js';

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

export interface RateLimitHeaders {
  'ratelimit-limit': string;
  'ratelimit-remaining': string;
  'ratelimit-reset': string;
}

export const rateLimitHeaders = (limits: TenantLimits, decision: BucketDecision): RateLimitHeaders => ({
  'ratelimit-limit': String(limits.burst),
  'ratelimit-remaining': String(decision.remaining),
  'ratelimit-reset': String(decision.resetSeconds),
});

/**
 * Takes one request from the tenant's bucket: exact under concurrency (each admission is
 * an atomic conditional increment). Answers the decision with the headers' figures;
 * refusal is `RATE_LIMITED`, thrown by the caller, which owns the transport.
 */
export const consumeRequest = async (
  deps: { buckets: RateBucketStore; clock: Clock },
  tenant: { tenantId: string; limits: TenantLimits },
): Promise<BucketDecision> => {
  const { admitted, tat } = await deps.buckets.take(tenant.tenantId, deps.clock.now, tenant.limits);
  return describeBucket(tat, deps.clock.now(), tenant.limits, admitted);
};
