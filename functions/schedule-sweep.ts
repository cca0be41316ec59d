/**
 * The sweeper, on an EventBridge schedule: re-sends lost queue messages and settles tasks
 * whose owner stopped heartbeating. The local cloud runs the same use case on a timer.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { createAwsClients } from '../shared/adapters/aws-clients.js';
import { DynamoDbTaskStore } from '../shared/adapters/dynamodb-task-store.js';
import { EmfMetrics } from '../shared/adapters/emf-metrics.js';
import { SqsTaskQueue, TieredTaskDispatcher } from '../shared/adapters/sqs-task-queue.js';
import { systemClock } from '../shared/clock.js';
import { loadSweeperConfig, type SweeperConfig } from '../shared/config.js';
import { type Metrics, noopMetrics } from '../shared/metrics/metrics.js';
import { type SweepDeps, type SweepReport, sweepTasks } from '../shared/task/sweep-tasks.js';
import { lazy } from './http/deps.js';

export const createSweepDeps = (config: SweeperConfig): SweepDeps => {
  const clients = createAwsClients(config.aws);
  return {
    store: new DynamoDbTaskStore(clients.dynamo, config.stateTable),
    queue: new TieredTaskDispatcher({
      fleet: new SqsTaskQueue(clients.sqs, config.fleetQueueUrl),
      lambda: new SqsTaskQueue(clients.sqs, config.lambdaQueueUrl),
    }),
    clock: systemClock,
    resendAfterMs: config.sweepResendAfterMs,
  };
};

export const buildHandler =
  (deps: SweepDeps, logger: Logger, metrics: Metrics = noopMetrics) =>
  async (): Promise<SweepReport> => {
    const report = await sweepTasks(deps);
    metrics.count('SweeperRequeued', report.requeued);
    metrics.count('SweeperResent', report.resent);
    logger.info('sweep done', { ...report });
    return report;
  };

export const handler = lazy(() => {
  const config = loadSweeperConfig(process.env);
  return buildHandler(
    createSweepDeps(config),
    new Logger({ serviceName: 'browserfleet-sweeper', logLevel: config.logLevel }),
    config.metricsEnabled ? new EmfMetrics({ service: 'sweeper', stage: config.stage }) : noopMetrics,
  );
});
