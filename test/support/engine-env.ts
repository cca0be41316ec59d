/** Engine timings for process-level tests: seconds where production uses minutes. */
export const FAST_ENGINE_ENV = {
  // Long enough that a heartbeat held up on a loaded machine (a JVM pause, a Chromium launch
  // on the same cores) doesn't cost a healthy worker its lease; short enough for takeovers.
  LEASE_MS: '4000',
  HEARTBEAT_MS: '300',
  SWEEP_INTERVAL_MS: '300',
  SWEEP_RESEND_AFTER_MS: '3000',
  RETRY_BASE_MS: '100',
  RETRY_CAP_MS: '1000',
} as const;
