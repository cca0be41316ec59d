/**
 * The per-tenant request limiter: a token bucket in its GCRA form (the generic cell rate
 * algorithm). Its whole state is one number, the theoretical arrival time (TAT): the moment
 * the bucket would be full again. Admitting a request moves TAT one emission interval
 * later, which a store can do with one atomic, conditional increment — no read, no
 * optimistic retry loop, exact however many requests race.
 */

export interface BucketLimits {
  requestsPerSecond: number;
  burst: number;
}

export interface GcraParams {
  /** Emission interval: ms per request at the sustained rate. */
  intervalMs: number;
  /** Burst tolerance: how far TAT may run ahead of now, in ms. */
  toleranceMs: number;
}

export const gcraParams = (limits: BucketLimits): GcraParams => {
  const intervalMs = 1000 / limits.requestsPerSecond;
  // A millionth of an interval of slack: `burst - 1` float additions of the interval must
  // not round past the tolerance and refuse the last request of a full burst.
  return { intervalMs, toleranceMs: (limits.burst - 1) * intervalMs + intervalMs / 1e6 };
};

export interface BucketDecision {
  admitted: boolean;
  /** Whole requests left right now (`RateLimit-Remaining`). */
  remaining: number;
  /** Seconds until the bucket is full again (`RateLimit-Reset`). */
  resetSeconds: number;
  /** Seconds until one request would be admitted (`Retry-After`), when refused. */
  retryAfterSeconds: number;
}

/** The decision and header figures, given the TAT after (admitted) or as found (refused). */
export const describeBucket = (
  tat: number,
  now: number,
  limits: BucketLimits,
  admitted: boolean,
): BucketDecision => {
  const { intervalMs, toleranceMs } = gcraParams(limits);
  const ahead = Math.max(0, tat - now);
  return {
    admitted,
    remaining: Math.max(
      0,
      Math.min(limits.burst, Math.floor((toleranceMs + intervalMs - ahead) / intervalMs)),
    ),
    resetSeconds: Math.max(1, Math.ceil(ahead / 1000)),
    retryAfterSeconds: admitted ? 0 : Math.max(1, Math.ceil((ahead - toleranceMs) / 1000)),
  };
};

/**
 * The pure rule the store applies atomically: admit if TAT ≤ now + tolerance; then
 * TAT' = max(TAT, now) + interval. Used by the in-memory store and the property tests.
 */
export const admit = (
  tat: number | undefined,
  now: number,
  limits: BucketLimits,
): { next: number; admitted: boolean } => {
  const { intervalMs, toleranceMs } = gcraParams(limits);
  const current = tat ?? now;
  if (current > now + toleranceMs) return { next: current, admitted: false };
  return { next: Math.max(current, now) + intervalMs, admitted: true };
};
