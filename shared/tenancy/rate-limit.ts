import type { Clock } from '../clock.js';
import { BrowserfleetError, ERROR_CODES } from '../errors.js';
import type { TenantLimits } from './tenant.js';
import { type BucketDecision, type BucketState, takeToken } from './token-bucket.js';

export interface StoredBucket {
  state: BucketState;
  version: number;
}

/** Port: one bucket row per tenant, written only over the version it was read at. */
export interface RateBucketStore {
  get(tenantId: string): Promise<StoredBucket | undefined>;
  /** Writes `state` if the row is still at `expectedVersion` (absent when undefined). */
  put(
    tenantId: string,
    state: BucketState,
    expectedVersion: number | undefined,
  ): Promise<{ saved: true } | { saved: false; current: StoredBucket | undefined }>;
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

/** Contended writes to one bucket before the request is refused rather than admitted twice. */
const MAX_CONFLICTS = 100;

/**
 * Takes one request from the tenant's bucket. Exact under concurrency: each admission is a
 * conditional write over the state it was computed from, and a lost race recomputes from
 * the row the store answered with. Answers the decision (with the headers' figures);
 * refusal is `RATE_LIMITED` thrown by the caller, which owns the transport.
 */
export const consumeRequest = async (
  deps: { buckets: RateBucketStore; clock: Clock },
  tenant: { tenantId: string; limits: TenantLimits },
): Promise<BucketDecision> => {
  let current = await deps.buckets.get(tenant.tenantId);
  for (let conflicts = 0; conflicts < MAX_CONFLICTS; conflicts++) {
    const decision = takeToken(current?.state, deps.clock.now(), tenant.limits);
    if (!decision.admitted) return decision;
    const saved = await deps.buckets.put(tenant.tenantId, decision.next, current?.version);
    if (saved.saved) return decision;
    current = saved.current;
  }
  throw new BrowserfleetError(
    ERROR_CODES.THROTTLED,
    'Too many concurrent requests for this tenant; retry shortly.',
    {
      retryable: true,
    },
  );
};
