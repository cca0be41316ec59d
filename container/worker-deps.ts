/** Composition of a fleet worker from its config: the same for Fargate and the local cloud. */

import { hostname } from 'node:os';
import { Logger } from '@aws-lambda-powertools/logger';
import { createAwsClients, destroyAwsClients } from '../shared/adapters/aws-clients.js';
import { EmfMetrics } from '../shared/adapters/emf-metrics.js';
import { createRunTaskDeps } from '../shared/adapters/run-task-deps.js';
import { SqsTaskQueue } from '../shared/adapters/sqs-task-queue.js';
import type { WorkerConfig } from '../shared/config.js';
import { noopMetrics } from '../shared/metrics/metrics.js';
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
  const queue = new SqsTaskQueue(clients.sqs, config.fleetQueueUrl, (body) =>
    logger.warn('malformed queue message left for the DLQ', { body }),
  );
  return {
    queue,
    logger,
    concurrency: config.concurrency,
    metrics: config.metricsEnabled ? new EmfMetrics({ service: 'worker' }) : noopMetrics,
    ...(overrides.pollWaitSeconds === undefined ? {} : { pollWaitSeconds: overrides.pollWaitSeconds }),
    run: createRunTaskDeps({
      clients,
      engine: config,
      stateTable: config.stateTable,
      artifactBucket: config.artifactBucket,
      queues: { fleet: queue, lambda: new SqsTaskQueue(clients.sqs, config.lambdaQueueUrl) },
      workerId,
      egressAllow: config.egressAllow,
      chromiumPath: config.chromiumPath,
      onBrowserEvent: (event, details) => logger.info(event, details ?? {}),
    }),
    dispose: () => destroyAwsClients(clients),
  };
};
