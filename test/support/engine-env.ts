/** Engine timings for process-level tests: seconds where production uses minutes. */
export const FAST_ENGINE_ENV = {
  LEASE_MS: '2000',
  HEARTBEAT_MS: '300',
  SWEEP_INTERVAL_MS: '300',
  SWEEP_RESEND_AFTER_MS: '3000',
  RETRY_BASE_MS: '100',
  RETRY_CAP_MS: '1000',
} as const;
