/**
 * A SchedulingClock on fake time: nothing happens until a test moves it on. `advance`
 * runs every timer that falls due, in time order, and lets the promise callbacks they set
 * off run before the next one, so a heartbeat's write lands before the following beat.
 */
import type { Cancel, SchedulingClock } from '../../shared/clock.js';

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
  every?: number;
}

export interface FakeClock extends SchedulingClock {
  /** Moves time on by `ms`, running what falls due on the way. */
  advance(ms: number): Promise<void>;
  /** Moves time on at once, for code under test that schedules nothing (throws if a timer falls due). */
  jump(ms: number): void;
  /** Timers waiting to run. */
  pending(): number;
}

/** Lets queued promise callbacks (and theirs) run. */
const settle = async () => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

export const fakeClock = (startMs = Date.parse('2026-12-01T00:00:00Z')): FakeClock => {
  let nowMs = startMs;
  let seq = 0;
  const timers = new Set<Timer>();
  const schedule = (ms: number, fn: () => void, every?: number): Cancel => {
    const timer: Timer = {
      at: nowMs + Math.max(0, ms),
      seq: seq++,
      fn,
      ...(every === undefined ? {} : { every }),
    };
    timers.add(timer);
    return () => {
      timers.delete(timer);
    };
  };
  const clock: FakeClock = {
    now: () => nowMs,
    after: (ms, fn) => schedule(ms, fn),
    every: (ms, fn) => schedule(ms, fn, Math.max(1, ms)),
    timeout: (ms) => {
      const controller = new AbortController();
      schedule(ms, () => controller.abort(new DOMException('The operation timed out.', 'TimeoutError')));
      return controller.signal;
    },
    sleep: (ms, signal) =>
      new Promise((resolve) => {
        if (signal?.aborted) return resolve();
        const cancel = schedule(ms, () => resolve());
        signal?.addEventListener(
          'abort',
          () => {
            cancel();
            resolve();
          },
          { once: true },
        );
      }),
    advance: async (ms) => {
      const until = nowMs + ms;
      await settle();
      for (;;) {
        const due = [...timers].filter((t) => t.at <= until).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
        if (due === undefined) break;
        nowMs = Math.max(nowMs, due.at);
        if (due.every === undefined) timers.delete(due);
        else due.at += due.every;
        due.fn();
        await settle();
      }
      nowMs = until;
    },
    jump: (ms) => {
      if ([...timers].some((t) => t.at <= nowMs + ms)) throw new Error('A timer falls due: use advance().');
      nowMs += ms;
    },
    pending: () => timers.size,
  };
  return clock;
};
