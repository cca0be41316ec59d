/**
 * Entrypoint of the fleet container (and of `npm run worker`): the composition root that
 * reads the environment. SIGTERM (ECS stop, Spot reclaim) stops polling and lets tasks in
 * flight finish; a second signal aborts them.
 */
import { loadWorkerConfig } from '../shared/config.js';
import { startWorker } from './worker.js';
import { createWorkerDeps } from './worker-deps.js';

const deps = createWorkerDeps(loadWorkerConfig(process.env));
const worker = startWorker(deps);

let stopping = false;
const onSignal = (signal: NodeJS.Signals) => {
  deps.logger.info('signal received', { signal });
  const force = stopping;
  stopping = true;
  void worker.stop({ abortInFlight: force }).then(() => {
    deps.dispose();
    process.exit(0);
  });
};
process.on('SIGTERM', onSignal);
process.on('SIGINT', onSignal);
