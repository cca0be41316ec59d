/**
 * The sweeper, on an EventBridge schedule: re-sends lost queue messages and settles tasks
 * whose owner stopped heartbeating. The local cloud runs this same handler on a timer, with
 * the event EventBridge sends.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { ScheduledEvent } from 'aws-lambda';
import { ApiGatewayConnectionNotifier } from '../shared/adapters/apigw-connection-notifier.js';
import { createDynamoClient } from '../shared/adapters/dynamodb-client.js';
import { DynamoDbConnectionStore } from '../shared/adapters/dynamodb-connection-store.js';
import { DynamoDbSessionStore } from '../shared/adapters/dynamodb-session-store.js';
import { DynamoDbTaskStore } from '../shared/adapters/dynamodb-task-store.js';
import { EmfMetrics } from '../shared/adapters/emf-metrics.js';
import { createSqsClient } from '../shared/adapters/sqs-client.js';
import { SqsTaskQueue, TieredTaskDispatcher } from '../shared/adapters/sqs-task-queue.js';
import { SqsWebhookQueue } from '../shared/adapters/sqs-webhook-queue.js';
import { systemClock } from '../shared/clock.js';
import { loadSweeperConfig, type SweeperConfig, usesLocalEndpoints } from '../shared/config.js';
import { type Metrics, noopMetrics } from '../shared/metrics/metrics.js';
import {
  type SweepSessionsDeps,
  type SweepSessionsReport,
  sweepSessions,
} from '../shared/session/sweep-sessions.js';
import { type SweepDeps, type SweepReport, sweepTasks } from '../shared/task/sweep-tasks.js';
import { lazy } from './entry/lazy.js';

export type SweeperDeps = SweepDeps & { sessionSweep: SweepSessionsDeps };

export const createSweepDeps = (config: SweeperConfig): SweeperDeps => {
  // DynamoDB and SQS are all the sweeper calls (and API Gateway, through its notifier).
  const clients = { dynamo: createDynamoClient(config.aws), sqs: createSqsClient(config.aws) };
  const fleetQueue = new SqsTaskQueue(clients.sqs, config.fleetQueueUrl);
  const webhooks = new SqsWebhookQueue(clients.sqs, config.webhookQueueUrl);
  return {
    sessionSweep: {
      sessions: new DynamoDbSessionStore(clients.dynamo, config.stateTable),
      connections: new DynamoDbConnectionStore(clients.dynamo, config.stateTable),
      notifier: new ApiGatewayConnectionNotifier({
        endpoint: config.websocketManagementUrl,
        region: config.aws.region,
        localCredentials: usesLocalEndpoints(config.aws),
      }),
      sessionQueue: fleetQueue,
      clock: systemClock,
      resendAfterMs: config.sweepResendAfterMs,
      maxPendingMs: config.sessionPendingTimeoutMs,
      webhooks,
    },
    store: new DynamoDbTaskStore(clients.dynamo, config.stateTable),
    queue: new TieredTaskDispatcher({
      fleet: fleetQueue,
      lambda: new SqsTaskQueue(clients.sqs, config.lambdaQueueUrl),
    }),
    webhooks,
    clock: systemClock,
    resendAfterMs: config.sweepResendAfterMs,
  };
};

export type SweepResult = SweepReport & { sessions: SweepSessionsReport };

/** The handler; the event carries nothing it needs (each run sweeps what is overdue then). */
export const buildHandler =
  (deps: SweeperDeps, logger: Logger, metrics: Metrics = noopMetrics) =>
  async (_event: ScheduledEvent): Promise<SweepResult> => {
    const report = await sweepTasks(deps);
    const sessions = await sweepSessions(deps.sessionSweep);
    metrics.count('SweeperRequeued', report.requeued);
    metrics.count('SweeperResent', report.resent + sessions.resent);
    metrics.count('WebhooksSent', report.webhooksSent + sessions.webhooksSent);
    if (sessions.lost > 0) metrics.count('SessionsEnded', sessions.lost, { reason: 'WORKER_LOST' });
    if (sessions.unplaced > 0) metrics.count('SessionsEnded', sessions.unplaced, { reason: 'NO_CAPACITY' });
    // A run that found nothing is the usual case (every 15 s under `npm start`): debug only.
    const acted = [...Object.values(report), ...Object.values(sessions)].some((n) => n > 0);
    (acted ? logger.info : logger.debug).call(logger, 'sweep done', { ...report, sessions });
    return { ...report, sessions };
  };

/** The handler composed from its config, as the entry point does: the local cloud's too. */
export const createSweepHandler = (config: SweeperConfig) =>
  buildHandler(
    createSweepDeps(config),
    new Logger({ serviceName: 'browserfleet-sweeper', logLevel: config.logLevel }),
    config.metricsEnabled
      ? new EmfMetrics({ stage: config.stage, defaults: { service: 'sweeper' } })
      : noopMetrics,
  );

export const handler = lazy(() => createSweepHandler(loadSweeperConfig(process.env)));
