import type { Clock } from '../clock.js';
import { BrowserfleetError, ERROR_CODES } from '../errors.js';
import type { RateBucketStore } from './ports.js';
import type { TenantLimits } from './tenant.js';
import { type BucketDecision, describeBucket } from './token-bucket.js';

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
/** The refusal of a request past the tenant's rate, the same over HTTP and WebSocket. */
export const rateLimitedError = (
  tenant: { limits: TenantLimits },
  decision: { retryAfterSeconds: number },
): BrowserfleetError =>
  new BrowserfleetError(
    ERROR_CODES.RATE_LIMITED,
    `Rate limit exceeded: ${tenant.limits.requestsPerSecond} requests per second with bursts of ${tenant.limits.burst}. Retry after ${decision.retryAfterSeconds} s.`,
    { details: { retryAfterSeconds: decision.retryAfterSeconds } },
  );

export const consumeRequest = async (
  deps: { buckets: RateBucketStore; clock: Clock },
  tenant: { tenantId: string; limits: TenantLimits },
): Promise<BucketDecision> => {
  const { admitted, tat } = await deps.buckets.take(tenant.tenantId, deps.clock.now, tenant.limits);
  return describeBucket(tat, deps.clock.now(), tenant.limits, admitted);
};
