/**
 * Entrypoint of the fleet container (and of `npm run worker`): the composition root that
 * reads the environment. SIGTERM (ECS stop, Spot's two-minute warning) drains: no new work,
 * tasks in flight get `DRAIN_MS` to finish, the rest are handed back at once, live sessions
 * end with `WORKER_SHUTDOWN`, exit 0.
 */
import { createEcsClient } from '../shared/adapters/ecs-client.js';
import { installProcessGuard } from '../shared/adapters/process-guard.js';
import { systemClock } from '../shared/clock.js';
import { loadWorkerConfig } from '../shared/config.js';
import { watchDeployment } from './deployment-watch.js';
import { ecsTaskProtection } from './task-protection.js';
import { startFleetWorker } from './worker-deps.js';

/**
 * On ECS the inbox is reached at the task's private IP, which only the task metadata
 * endpoint knows; elsewhere WORKER_ADVERTISE_HOST (default 127.0.0.1) applies.
 */
const ecsPrivateIp = async (uri: string): Promise<string | undefined> => {
  const task = (await (await fetch(`${uri}/task`, { signal: AbortSignal.timeout(5_000) })).json()) as {
    Containers?: { Networks?: { IPv4Addresses?: string[] }[] }[];
  };
  return task.Containers?.[0]?.Networks?.[0]?.IPv4Addresses?.[0];
};

const loaded = loadWorkerConfig(process.env);
const metadataUri = loaded.ecs.metadataUri;
const config =
  loaded.advertiseHost === undefined && metadataUri !== undefined
    ? { ...loaded, advertiseHost: await ecsPrivateIp(metadataUri) }
    : loaded;
// On ECS, a busy worker (tasks running, sessions hosted) is protected from scale-in, and
// lets go once a deployment has superseded it (bounded: see task-protection.ts).
const agentUri = config.ecs.agentUri;
let protection: ReturnType<typeof ecsTaskProtection> | undefined;
const fleet = await startFleetWorker(config);
const log = (event: string, details: Record<string, unknown>) => fleet.deps.logger.info(event, details);
/** Polled rather than pushed: tasks start and end in the worker loop, sessions in the host. */
const BUSY_POLL_MS = 5_000;
let busyPoll: NodeJS.Timeout | undefined;
let deployment: ReturnType<typeof watchDeployment> | undefined;
if (agentUri !== undefined) {
  const p = ecsTaskProtection(agentUri, systemClock, log);
  protection = p;
  busyPoll = setInterval(() => p.update(fleet.worker.inFlight() + fleet.deps.sessions.count()), BUSY_POLL_MS);
  if (metadataUri !== undefined && config.ecsService !== undefined) {
    deployment = watchDeployment({
      metadataUri,
      ...config.ecsService,
      ecs: createEcsClient(config.aws),
      onSuperseded: () => {
        p.superseded();
        fleet.worker.supersede();
      },
      log,
    });
  }
}
fleet.deps.logger.info('inbox listening', { port: fleet.inbox.port });

// One tenant's bad luck must not drop every tenant's work: see the guard's comment.
installProcessGuard({
  log: (event, details) => fleet.deps.logger.error(event, details),
  count: (kind) => fleet.deps.metrics.count('ProcessFaults', 1, { kind }),
  drain: () => fleet.stop({ drainMs: config.drainMs }),
});

let signals = 0;
const onSignal = (signal: NodeJS.Signals) => {
  fleet.deps.logger.info('signal received', { signal, inFlight: fleet.worker.inFlight() });
  // A second signal cuts the drain short: hand everything back now.
  if (++signals > 1) return fleet.worker.handBackNow();
  void fleet.stop({ drainMs: config.drainMs }).then(() => {
    clearInterval(busyPoll);
    deployment?.stop();
    protection?.stop();
    process.exit(0);
  });
};
process.on('SIGTERM', onSignal);
process.on('SIGINT', onSignal);
