/**
 * Entrypoint of the fleet container (and of `npm run worker`): the composition root that
 * reads the environment. SIGTERM (ECS stop, Spot's two-minute warning) drains: no new work,
 * tasks in flight get `DRAIN_MS` to finish, the rest are handed back at once, live sessions
 * end with `WORKER_SHUTDOWN`, exit 0.
 */
import { loadWorkerConfig } from '../shared/config.js';
import { startFleetWorker } from './worker-deps.js';

const config = loadWorkerConfig(process.env);
const fleet = await startFleetWorker(config);
fleet.deps.logger.info('inbox listening', { port: fleet.inbox.port });

let signals = 0;
const onSignal = (signal: NodeJS.Signals) => {
  fleet.deps.logger.info('signal received', { signal, inFlight: fleet.worker.inFlight() });
  // A second signal cuts the drain short: hand everything back now.
  if (++signals > 1) return fleet.worker.handBackNow();
  void fleet.stop({ drainMs: config.drainMs }).then(() => process.exit(0));
};
process.on('SIGTERM', onSignal);
process.on('SIGINT', onSignal);
