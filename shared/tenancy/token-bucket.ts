/**
 * The per-tenant request limiter: a token bucket. Pure; the store makes it exact under
 * concurrency by writing the new state only over the state it was computed from.
 */
export interface BucketState {
  tokens: number;
  /** Epoch ms of the state's last update. */
  updatedAt: number;
}

export interface BucketLimits {
  requestsPerSecond: number;
  burst: number;
}

export interface BucketDecision {
  admitted: boolean;
  /** State to write when admitted. */
  next: BucketState;
  /** Whole requests left right now (`RateLimit-Remaining`). */
  remaining: number;
  /** Seconds until the bucket is full again (`RateLimit-Reset`). */
  resetSeconds: number;
  /** Seconds until one request would be admitted (`Retry-After`), when refused. */
  retryAfterSeconds: number;
}

/** Refills the bucket for the time passed, then takes one token if there is one. */
export const takeToken = (
  state: BucketState | undefined,
  now: number,
  limits: BucketLimits,
): BucketDecision => {
  const rate = limits.requestsPerSecond;
  const elapsed = state === undefined ? 0 : Math.max(0, now - state.updatedAt);
  const available =
    state === undefined ? limits.burst : Math.min(limits.burst, state.tokens + (elapsed / 1000) * rate);
  const admitted = available >= 1;
  const tokens = admitted ? available - 1 : available;
  return {
    admitted,
    next: { tokens, updatedAt: now },
    remaining: Math.floor(tokens),
    resetSeconds: Math.ceil((limits.burst - tokens) / rate),
    retryAfterSeconds: admitted ? 0 : Math.max(1, Math.ceil((1 - tokens) / rate)),
  };
};
