/** Composition of a fleet worker from its config: the same for Fargate and the local cloud. */
import { hostname } from 'node:os';
import { Logger } from '@aws-lambda-powertools/logger';
import { createAwsClients, destroyAwsClients } from '../shared/adapters/aws-clients.js';
import { systemDnsResolver } from '../shared/adapters/dns-resolver.js';
import { DynamoDbTaskStore } from '../shared/adapters/dynamodb-task-store.js';
import { DynamoDbTenantStore } from '../shared/adapters/dynamodb-tenant-store.js';
import { startEgressProxy } from '../shared/adapters/egress-proxy.js';
import { EmfMetrics } from '../shared/adapters/emf-metrics.js';
import { PuppeteerBrowserRunner } from '../shared/adapters/puppeteer/browser-runner.js';
import { S3ArtifactStore } from '../shared/adapters/s3-artifact-store.js';
import { SqsTaskQueue, TieredTaskDispatcher } from '../shared/adapters/sqs-task-queue.js';
import { systemClock } from '../shared/clock.js';
import type { WorkerConfig } from '../shared/config.js';
import { noopMetrics } from '../shared/metrics/metrics.js';
import { cachedTenantLimits } from '../shared/tenancy/tenant-limits-cache.js';
import type { WorkerDeps } from './worker.js';

export const createWorkerDeps = (
  config: WorkerConfig,
  overrides: { logger?: Logger; pollWaitSeconds?: number } = {},
): WorkerDeps & { dispose: () => void } => {
  const workerId = config.workerId ?? `${hostname()}-${process.pid}`;
  const logger =
    overrides.logger ??
    new Logger({
      serviceName: 'browserfleet-worker',
      logLevel: config.logLevel,
      persistentKeys: { workerId },
    });
  const clients = createAwsClients(config.aws);
  const limitsOf = cachedTenantLimits(new DynamoDbTenantStore(clients.dynamo, config.stateTable));
  const queue = new SqsTaskQueue(clients.sqs, config.fleetQueueUrl, (body) =>
    logger.warn('malformed queue message left for the DLQ', { body }),
  );
  return {
    queue,
    logger,
    concurrency: config.concurrency,
    metrics: config.metricsEnabled ? new EmfMetrics({ service: 'worker' }) : noopMetrics,
    ...(overrides.pollWaitSeconds === undefined ? {} : { pollWaitSeconds: overrides.pollWaitSeconds }),
    run: {
      store: new DynamoDbTaskStore(clients.dynamo, config.stateTable),
      artifacts: new S3ArtifactStore(clients.s3, config.artifactBucket),
      browser: new PuppeteerBrowserRunner({
        executablePath: config.chromiumPath,
        // Every task's context goes through its own egress proxy (see egress-proxy.ts).
        proxyFor: async () => {
          const proxy = await startEgressProxy({ allow: config.egressAllow, resolve: systemDnsResolver });
          return { server: proxy.url, blocked: proxy.blocked, close: proxy.close };
        },
        onEvent: (event, details) => logger.info(event, details ?? {}),
      }),
      queue: new TieredTaskDispatcher({
        fleet: queue,
        lambda: new SqsTaskQueue(clients.sqs, config.lambdaQueueUrl),
      }),
      clock: systemClock,
      workerId,
      leaseMs: config.leaseMs,
      heartbeatMs: config.heartbeatMs,
      backoff: config.backoff,
      random: Math.random,
      maxRunningTasks: async (tenantId) => (await limitsOf(tenantId)).maxRunningTasks,
    },
    dispose: () => destroyAwsClients(clients),
  };
};
