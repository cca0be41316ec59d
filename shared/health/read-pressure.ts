/**
 * What `GET /v1/pressure` answers: how loaded the platform is. The route takes no key (load
 * balancers and autoscalers call it), so each instance answers from one reading for
 * `maxAgeMs` and concurrent callers share the reading in progress: a flood of calls costs one
 * health check, two queue reads and one count query per interval, not one per call.
 */
import type { Clock } from '../clock.js';
import { checkHealth } from './check-health.js';
import type { Pingable, QueueDepth } from './ports.js';
import type { Pressure } from './reports.js';

export type { Pressure };

export interface PressureDeps {
  dependencies: Readonly<Record<string, Pingable>>;
  fleetQueue: QueueDepth;
  lambdaQueue: QueueDepth;
  countRunning(): Promise<number>;
  clock: Clock;
}

/** How long one reading answers. Autoscalers poll every 10–60 s; 2 s is fresh enough. */
export const PRESSURE_MAX_AGE_MS = 2_000;

export const createPressureReader = (
  deps: PressureDeps,
  maxAgeMs: number = PRESSURE_MAX_AGE_MS,
): (() => Promise<Pressure>) => {
  let last: { at: number; reading: Promise<Pressure> } | undefined;
  const read = async (): Promise<Pressure> => {
    const [health, fleet, lambda, running] = await Promise.all([
      checkHealth(deps.dependencies),
      deps.fleetQueue.depth(),
      deps.lambdaQueue.depth(),
      deps.countRunning(),
    ]);
    return {
      accepting: health.status === 'ok',
      running,
      queued: { fleet: fleet.waiting, lambda: lambda.waiting },
      inFlight: { fleet: fleet.inFlight, lambda: lambda.inFlight },
      at: new Date(deps.clock.now()).toISOString(),
    };
  };
  return () => {
    const now = deps.clock.now();
    if (last === undefined || now - last.at >= maxAgeMs) {
      const reading = read();
      last = { at: now, reading };
      // A failed reading isn't kept: the next call tries again.
      reading.catch(() => {
        if (last?.reading === reading) last = undefined;
      });
    }
    return last.reading;
  };
};
