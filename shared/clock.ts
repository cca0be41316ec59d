/**
 * Port: the time source and the timers the domain schedules with, so lease, heartbeat,
 * deadline and polling logic runs on fake time in tests (test/support/fake-clock.ts)
 * instead of waiting on the wall clock.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

/** Cancels what a timer scheduled; calling it again does nothing. */
export type Cancel = () => void;

/** A clock that also schedules: what use cases with timers take. */
export interface SchedulingClock extends Clock {
  /** Calls `fn` once after `ms`. */
  after(ms: number, fn: () => void): Cancel;
  /** Calls `fn` every `ms` until cancelled. */
  every(ms: number, fn: () => void): Cancel;
  /** A signal that aborts with a `TimeoutError` after `ms` (as `AbortSignal.timeout`). */
  timeout(ms: number): AbortSignal;
  /** Resolves after `ms`, or at once when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: SchedulingClock = {
  now: () => Date.now(),
  after: (ms, fn) => {
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  },
  every: (ms, fn) => {
    const timer = setInterval(fn, ms);
    return () => clearInterval(timer);
  },
  timeout: (ms) => AbortSignal.timeout(ms),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
    }),
};
