/**
 * Entrypoint of the fleet container (and of `npm run worker`): the composition root that
 * reads the environment. SIGTERM (ECS stop, Spot's two-minute warning) drains: no new work,
 * tasks in flight get `DRAIN_MS` to finish, the rest are handed back at once, exit 0.
 */
import { loadWorkerConfig } from '../shared/config.js';
import { startWorker } from './worker.js';
import { createWorkerDeps } from './worker-deps.js';

const config = loadWorkerConfig(process.env);
const deps = createWorkerDeps(config);
const worker = startWorker(deps);

let signals = 0;
const onSignal = (signal: NodeJS.Signals) => {
  deps.logger.info('signal received', { signal, inFlight: worker.inFlight() });
  // A second signal cuts the drain short: hand everything back now.
  if (++signals > 1) return worker.handBackNow();
  void worker.stop({ drainMs: config.drainMs }).then(() => {
    deps.dispose();
    process.exit(0);
  });
};
process.on('SIGTERM', onSignal);
process.on('SIGINT', onSignal);
