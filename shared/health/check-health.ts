import { type SchedulingClock, systemClock } from '../clock.js';
import type { Pingable } from './ports.js';
import type { DependencyHealth, HealthReport } from './reports.js';

export type { DependencyHealth, HealthReport };

/** How long one dependency may take to answer before it counts as down. */
const PING_TIMEOUT_MS = 2_000;

/** Asks every dependency at once whether it is up. `ok` only when all are. */
export const checkHealth = async (
  dependencies: Readonly<Record<string, Pingable>>,
  clock: SchedulingClock = systemClock,
): Promise<HealthReport> => {
  const now = () => clock.now();
  const entries = await Promise.all(
    Object.entries(dependencies).map(async ([name, dep]): Promise<[string, DependencyHealth]> => {
      const started = now();
      try {
        await withTimeout(dep.ping(), PING_TIMEOUT_MS, clock);
        return [name, { status: 'up', latencyMs: now() - started }];
      } catch (error) {
        return [
          name,
          {
            status: 'down',
            latencyMs: now() - started,
            error: error instanceof Error ? error.name : 'Error',
          },
        ];
      }
    }),
  );
  const report = Object.fromEntries(entries);
  return {
    status: entries.every(([, h]) => h.status === 'up') ? 'ok' : 'unavailable',
    dependencies: report,
  };
};

const withTimeout = <T>(promise: Promise<T>, ms: number, clock: SchedulingClock): Promise<T> => {
  let cancel = () => {};
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      cancel = clock.after(ms, () => reject(new Error('TimeoutError')));
    }),
  ]).finally(() => cancel());
};
