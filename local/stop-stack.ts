/**
 * What the local cloud started, to stop in the reverse order: the parts before the
 * gateways before the fronts before the emulators, so nothing is left calling what is
 * already gone. A stop that fails is reported and the rest still run.
 */
export interface StopStack {
  /** Something now running; stopped before everything pushed earlier. */
  push(stop: () => Promise<void>): void;
  /** Stops everything pushed, newest first. Idempotent: every call answers the same stop. */
  stopAll(): Promise<void>;
}

export const createStopStack = (onError: (error: unknown) => void): StopStack => {
  const stops: (() => Promise<void>)[] = [];
  let stopping: Promise<void> | undefined;
  return {
    push: (stop) => {
      stops.push(stop);
    },
    // Idempotent: a test's `finally` and its teardown may both stop the same cloud.
    stopAll: () => {
      stopping ??= (async () => {
        for (const stop of stops.reverse()) await stop().catch(onError);
      })();
      return stopping;
    },
  };
};
