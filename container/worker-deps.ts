/** Composition of a fleet worker from its config: the same for Fargate and the local cloud. */

import { hostname } from 'node:os';
import { Logger } from '@aws-lambda-powertools/logger';
import { ApiGatewayConnectionNotifier } from '../shared/adapters/apigw-connection-notifier.js';
import { createAwsClients, destroyAwsClients } from '../shared/adapters/aws-clients.js';
import { systemDnsResolver } from '../shared/adapters/dns-resolver.js';
import { DynamoDbConnectionStore } from '../shared/adapters/dynamodb-connection-store.js';
import { DynamoDbSessionStore } from '../shared/adapters/dynamodb-session-store.js';
import { startEgressProxy } from '../shared/adapters/egress-proxy.js';
import { EmfMetrics } from '../shared/adapters/emf-metrics.js';
import { playwrightCoreServers } from '../shared/adapters/playwright-server.js';
import { PuppeteerSessionLauncher } from '../shared/adapters/puppeteer/session-launcher.js';
import { S3ArtifactStore } from '../shared/adapters/s3-artifact-store.js';
import { createSecretsManagerClient } from '../shared/adapters/secrets-manager-client.js';
import { createTicketKeys } from '../shared/adapters/secrets-manager-ticket-secret.js';
import { OneTierDispatcher, SqsTaskQueue } from '../shared/adapters/sqs-task-queue.js';
import { systemClock } from '../shared/clock.js';
import { createRunTaskDeps } from '../shared/composition/run-task-deps.js';
import { usesLocalEndpoints, type WorkerConfig } from '../shared/config.js';
import { noopMetrics } from '../shared/metrics/metrics.js';
import { SessionHost } from '../shared/session/host-session.js';
import { type RunningInbox, startInboxServer } from './inbox-server.js';
import { type RunningWorker, startWorker, type WorkerDeps } from './worker.js';

/** Presigned URLs of session screenshots live this long. */
const SESSION_ARTIFACT_URL_TTL_SECONDS = 3_600;

export interface WorkerOverrides {
  logger?: Logger;
  pollWaitSeconds?: number;
  /** Told the number of sessions hosted whenever it changes (ECS scale-in protection). */
  onSessionLoad?: (sessions: number) => void;
}

const LOOPBACK = '127.0.0.1';
/** Where other parts reach this worker's inbox: as configured, else this machine only. */
const advertiseHostOf = (config: WorkerConfig): string => config.advertiseHost ?? LOOPBACK;

export const createWorkerDeps = (
  config: WorkerConfig,
  overrides: WorkerOverrides = {},
): WorkerDeps & {
  dispose: () => void;
  sessions: SessionHost;
  /** `warm()` as the worker starts, `close()` as it stops: its spare browser. */
  sessionLauncher: PuppeteerSessionLauncher;
  sessionStore: DynamoDbSessionStore;
  setEndpoint: (url: string) => void;
} => {
  const workerId = config.workerId ?? `${hostname()}-${process.pid}`;
  const logger =
    overrides.logger ??
    new Logger({
      serviceName: 'browserfleet-worker',
      logLevel: config.logLevel,
      persistentKeys: { workerId },
    });
  const clients = createAwsClients(config.aws);
  const metrics = config.metricsEnabled
    ? new EmfMetrics({ stage: config.stage, defaults: { service: 'worker' } })
    : noopMetrics;
  const sessionStore = new DynamoDbSessionStore(clients.dynamo, config.stateTable);
  const notifier = new ApiGatewayConnectionNotifier({
    endpoint: config.websocketManagementUrl,
    region: config.aws.region,
    localCredentials: usesLocalEndpoints(config.aws),
  });
  let endpoint = `http://${advertiseHostOf(config)}:${config.inboxPort}`;
  const sessionLauncher = new PuppeteerSessionLauncher({
    hostEnv: process.env,
    executablePath: config.chromiumPath,
    proxy: async () => {
      const proxy = await startEgressProxy({ allow: config.egressAllow, resolve: systemDnsResolver });
      return {
        server: proxy.url,
        blocked: proxy.blocked,
        blockedTotal: proxy.blockedTotal,
        close: proxy.close,
      };
    },
    // A worker that hosts no sessions has no use for a spare browser.
    spare: config.sessionSpareBrowser && config.sessionSlots > 0,
    log: (event, details) => logger.info(event, details),
  });
  const sessions = new SessionHost({
    sessions: sessionStore,
    launcher: sessionLauncher,
    notifier,
    connections: new DynamoDbConnectionStore(clients.dynamo, config.stateTable),
    artifacts: new S3ArtifactStore(clients.s3, config.artifactBucket),
    artifactUrlTtlSeconds: SESSION_ARTIFACT_URL_TTL_SECONDS,
    clock: systemClock,
    metrics,
    workerId,
    endpoint: () => endpoint,
    leaseMs: config.leaseMs,
    heartbeatMs: config.heartbeatMs,
    slots: config.sessionSlots,
    log: (event, details) => logger.info(event, details),
    ...(overrides.onSessionLoad === undefined ? {} : { onLoad: overrides.onSessionLoad }),
  });
  const queue = new SqsTaskQueue(clients.sqs, config.fleetQueueUrl, (body) =>
    logger.warn('malformed queue message left for the DLQ', { body }),
  );
  return {
    queue,
    logger,
    concurrency: config.concurrency,
    metrics,
    sessions,
    sessionLauncher,
    sessionStore,
    setEndpoint: (url) => {
      endpoint = url;
    },
    ...(overrides.pollWaitSeconds === undefined ? {} : { pollWaitSeconds: overrides.pollWaitSeconds }),
    run: createRunTaskDeps({
      clients,
      engine: config,
      stateTable: config.stateTable,
      artifactBucket: config.artifactBucket,
      dispatcher: new OneTierDispatcher('fleet', queue),
      workerId,
      egressAllow: config.egressAllow,
      hostEnv: process.env,
      chromiumPath: config.chromiumPath,
      onBrowserEvent: (event, details) => logger.info(event, details ?? {}),
      metrics,
    }),
    dispose: () => {
      notifier.destroy();
      destroyAwsClients(clients);
    },
  };
};

export interface FleetWorker {
  worker: RunningWorker;
  deps: ReturnType<typeof createWorkerDeps>;
  inbox: RunningInbox;
  /** Drains (see `RunningWorker.stop`), ends hosted sessions, closes the inbox. */
  stop(options?: { drainMs?: number }): Promise<void>;
}

/** A fleet worker with its inbox and CDP router listening: the container's whole runtime. */
/** How often the worker reports its session slots in use (the fleet scales on it). */
const SLOTS_REPORT_MS = 60_000;

export const startFleetWorker = async (
  config: WorkerConfig,
  overrides: WorkerOverrides = {},
): Promise<FleetWorker> => {
  const deps = createWorkerDeps(config, overrides);
  let worker: RunningWorker | undefined;
  const slotsReport = setInterval(() => {
    const sessions = deps.sessions.count();
    deps.metrics.count('SessionSlotsUsed', sessions);
    // The fleet's one scaling signal: messages are deleted at claim, so the queue can't say
    // how much work is in flight; each worker can. Tasks and sessions each hold a slot.
    const slots = config.concurrency + config.sessionSlots;
    const busy = (worker?.inFlight() ?? 0) + sessions;
    deps.metrics.count('WorkerUtilization', slots === 0 ? 0 : Math.round((100 * busy) / slots));
  }, SLOTS_REPORT_MS);
  const inbox = await startInboxServer(
    {
      host: deps.sessions,
      sessions: deps.sessionStore,
      keys: createTicketKeys(config.ticketSecret, {
        secretsManager: () => createSecretsManagerClient(config.aws),
        clock: systemClock,
      }),
      self: () => `http://${advertiseHostOf(config)}:${inbox.port}`,
      log: (event, details) => deps.logger.info(event, details),
      servers: playwrightCoreServers,
    },
    // Loopback when only this machine needs to reach it; all interfaces on ECS.
    { port: config.inboxPort, host: advertiseHostOf(config) === LOOPBACK ? LOOPBACK : '0.0.0.0' },
  );
  deps.setEndpoint(`http://${advertiseHostOf(config)}:${inbox.port}`);
  const running = startWorker(deps);
  worker = running;
  // Up before the first session message is likely to arrive: the worker's first poll.
  deps.sessionLauncher.warm();
  return {
    worker: running,
    deps,
    inbox,
    stop: async (options) => {
      clearInterval(slotsReport);
      // The spare goes as the drain begins (a session still starting launches its own):
      // its memory is the draining tasks' now, and no Chromium or profile outlives the stop.
      await Promise.all([running.stop(options), deps.sessionLauncher.close()]);
      await inbox.close();
      deps.dispose();
    },
  };
};
