/**
 * The Lambda tier: runs tasks from the Lambda-tier queue, one per invocation (batch size
 * 1), with partial batch failure reporting. The browser is launched once per execution
 * environment and kept warm across invocations; a task still running shortly before the
 * Lambda deadline is handed back to the queue instead of being cut off.
 */

import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { createAwsClients } from '../shared/adapters/aws-clients.js';
import { EmfMetrics } from '../shared/adapters/emf-metrics.js';
import { installProcessGuard } from '../shared/adapters/process-guard.js';
import { OneTierDispatcher, SqsTaskQueue } from '../shared/adapters/sqs-task-queue.js';
import { createRunTaskDeps } from '../shared/composition/run-task-deps.js';
import { type LambdaRunnerConfig, loadLambdaRunnerConfig } from '../shared/config.js';
import { decodeTaskMessage } from '../shared/core/fleet-queue.js';
import { type Metrics, noopMetrics } from '../shared/metrics/metrics.js';
import { recordRunOutcome } from '../shared/task/run-metrics.js';
import { type RunTaskDeps, runTask } from '../shared/task/run-task.js';
import { lazy } from './entry/lazy.js';

/** Time kept back before the Lambda deadline to hand a task back and answer. */
export const HAND_BACK_MARGIN_MS = 8_000;

export interface LambdaRunnerDeps {
  run: RunTaskDeps;
  /** The Lambda-tier queue, to push back a message whose tenant is at its quota. */
  lambdaQueue: SqsTaskQueue;
  logger: Logger;
  metrics: Metrics;
  /** Aborted when the environment must stop (the process guard): tasks in flight are handed back. */
  stopping?: AbortSignal;
}

export const createLambdaRunnerDeps = (config: LambdaRunnerConfig, logger?: Logger): LambdaRunnerDeps => {
  const clients = createAwsClients(config.aws);
  const log = logger ?? new Logger({ serviceName: 'browserfleet-lambda-runner', logLevel: config.logLevel });
  const lambdaQueue = new SqsTaskQueue(clients.sqs, config.lambdaQueueUrl);
  const metrics = config.metricsEnabled
    ? new EmfMetrics({ stage: config.stage, defaults: { service: 'lambda-runner' } })
    : noopMetrics;
  return {
    lambdaQueue,
    logger: log,
    metrics,
    run: createRunTaskDeps({
      clients,
      engine: config,
      stateTable: config.stateTable,
      artifactBucket: config.artifactBucket,
      dispatcher: new OneTierDispatcher('lambda', lambdaQueue),
      // Module scope in the entry file keeps the runner (and its browser) warm between invocations.
      workerId: `lambda-${config.logStreamName ?? process.pid}`,
      egressAllow: config.egressAllow,
      hostEnv: process.env,
      chromiumPath: config.chromiumPath,
      chromiumBinDir: config.chromiumBinDir,
      onBrowserEvent: (event, details) => log.info(event, details ?? {}),
      metrics,
    }),
  };
};

export const buildHandler =
  (deps: LambdaRunnerDeps) =>
  async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const deadline = AbortSignal.timeout(
      Math.max(1_000, context.getRemainingTimeInMillis() - HAND_BACK_MARGIN_MS),
    );
    const shutdown = deps.stopping === undefined ? deadline : AbortSignal.any([deadline, deps.stopping]);
    const handleRecord = async (record: SQSRecord): Promise<void> => {
      const message = decodeTaskMessage(record.body);
      if (message === undefined) {
        // Not a task message: fail it, so retries end in the DLQ where an operator can look.
        throw new Error(`Malformed task message ${record.messageId}`);
      }
      const { taskId, row } = message;
      const outcome = await runTask(deps.run, {
        taskId,
        ...(row === undefined ? {} : { row }),
        // The event source mapping deletes the message when the invocation succeeds.
        ack: async () => {},
        shutdown,
        onClaimed: () => deps.metrics.count('TasksStarted', 1, { tier: 'lambda' }),
        onError: (error) => deps.logger.warn('task attempt error', { taskId, error: error as Error }),
      });
      deps.logger.info('task run ended', { taskId, outcome: outcome.kind });
      recordRunOutcome(deps.metrics, outcome, 'lambda');
      if (outcome.kind === 'wait') {
        // A fresh copy comes back after the wait, and this record succeeds (the mapping
        // deletes it), so waiting never counts towards the DLQ.
        await deps.lambdaQueue.send({ taskId, tier: 'lambda' }, { delaySeconds: outcome.delaySeconds });
      }
    };
    return processPartialResponse(event, handleRecord, new BatchProcessor(EventType.SQS), { context });
  };

export const handler = lazy(() => {
  const deps = createLambdaRunnerDeps(loadLambdaRunnerConfig(process.env));
  const stopping = new AbortController();
  const handle = buildHandler({ ...deps, stopping: stopping.signal });
  let inFlight: Promise<unknown> = Promise.resolve();
  // An uncaught exception hands the task in flight back (no attempt spent) before the
  // environment exits and Lambda starts a fresh one.
  installProcessGuard({
    log: (event, details) => deps.logger.error(event, details),
    count: (kind) => deps.metrics.count('ProcessFaults', 1, { kind }),
    drain: async () => {
      stopping.abort();
      // Waited for, not judged: each task's failure was handled (and reported) in its record.
      await inFlight.catch(() => {});
    },
  });
  return (event: SQSEvent, context: Context) => {
    const answer = handle(event, context);
    inFlight = answer;
    return answer;
  };
});
