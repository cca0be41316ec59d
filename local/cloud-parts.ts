/**
 * The platform's running parts on the local cloud, each built by the same composition code
 * AWS runs and configured with its own role's environment: the fleet worker, the Lambda
 * tier behind a local SQS event source, and the sweeper behind a local schedule rule.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { startFleetWorker } from '../container/worker-deps.js';
import { createSweepHandler } from '../functions/schedule-sweep.js';
import {
  buildHandler as buildWebhookDeliverer,
  createWebhookDelivererDeps,
} from '../functions/sqs-deliver-webhook.js';
import { buildHandler as buildLambdaRunner, createLambdaRunnerDeps } from '../functions/sqs-run-task.js';
import { createAwsClients, destroyAwsClients } from '../shared/adapters/aws-clients.js';
import {
  loadLambdaRunnerConfig,
  loadSweeperConfig,
  loadWebhookDelivererConfig,
  loadWorkerConfig,
} from '../shared/config.js';
import { ENV, LAMBDA_RUNNER, SWEEPER, WEBHOOK_DELIVERER } from '../shared/contracts.js';
import type { RoleEnv } from './cloud-resources.js';
import type { ServiceEndpoints } from './fault-front.js';
import type { IamFront } from './iam-front.js';
import { FLEET_WORKER, LOCAL_REGION } from './iam-policies.js';
import { startLambdaTier } from './lambda-tier.js';
import type { ProvisionedNames } from './provision.js';
import { startSchedule } from './schedule.js';
import type { StopStack } from './stop-stack.js';

export interface PartsOptions {
  /** Run the fleet worker (default true). */
  worker?: boolean | undefined;
  /** Run the Lambda tier (default true). */
  lambdaTier?: boolean | undefined;
  /** Run the sweeper on its schedule (default true). */
  sweeper?: boolean | undefined;
  /** Run the webhook deliverer behind its SQS event source (default true). */
  webhooks?: boolean | undefined;
  /** Long-poll wait of the worker, in seconds (default 20, as on AWS). */
  pollWaitSeconds?: number | undefined;
  lambdaConcurrency: number;
  roleEnv: RoleEnv;
  /**
   * Where the SQS event source polls: through the fronts, as the parts call, so the IAM
   * front judges its calls against the runner's role and injected faults reach it too (it
   * retries after a failed poll, as the real mapping does).
   */
  pollEndpoints: ServiceEndpoints;
  iam: IamFront | undefined;
  names: ProvisionedNames;
  logger: Logger;
}

/** Starts the parts asked for; each is stopped (before the gateways) by `stops`. */
export const startParts = async (options: PartsOptions, stops: StopStack): Promise<void> => {
  const { roleEnv, logger } = options;
  if (options.worker !== false) {
    const fleet = await startFleetWorker(
      loadWorkerConfig({ ...roleEnv(FLEET_WORKER), [ENV.workerId]: 'local-worker-1' }),
      {
        ...(options.pollWaitSeconds === undefined ? {} : { pollWaitSeconds: options.pollWaitSeconds }),
      },
    );
    stops.push(() => fleet.stop({ drainMs: 0 }));
  }

  if (options.lambdaTier !== false) {
    // The Lambda tier: the real handler, invoked the way the SQS event source mapping does.
    const lambdaDeps = createLambdaRunnerDeps(
      loadLambdaRunnerConfig({ ...roleEnv(LAMBDA_RUNNER.functionName), [ENV.workerId]: 'local-lambda' }),
    );
    // The event source mapping polls with the function's own role, as on AWS: the IAM front
    // judges its ReceiveMessage and DeleteMessage against that role's policies.
    const sqsClients = createAwsClients({
      region: LOCAL_REGION,
      endpoints: options.pollEndpoints,
      localAccessKeyId: options.iam?.accessKeyFor(LAMBDA_RUNNER.functionName),
    });
    const { lambdaQueueUrl } = options.names;
    const lambdaTier = startLambdaTier({
      sqs: sqsClients.sqs,
      queueUrl: lambdaQueueUrl,
      queueArn: `arn:aws:sqs:${LOCAL_REGION}:000000000000:${lambdaQueueUrl.split('/').at(-1)}`,
      handler: buildLambdaRunner(lambdaDeps),
      concurrency: options.lambdaConcurrency,
      onError: (error) => logger.warn('lambda tier invocation failed', { error: error as Error }),
    });
    stops.push(async () => {
      await lambdaTier.stop();
      await lambdaDeps.run.browser.close();
      destroyAwsClients(sqsClients);
    });
  }

  if (options.webhooks !== false) {
    // The webhook deliverer: the real handler, behind a local event source of its own role.
    const deliverer = createWebhookDelivererDeps(
      loadWebhookDelivererConfig(roleEnv(WEBHOOK_DELIVERER.functionName)),
    );
    const sqsClients = createAwsClients({
      region: LOCAL_REGION,
      endpoints: options.pollEndpoints,
      localAccessKeyId: options.iam?.accessKeyFor(WEBHOOK_DELIVERER.functionName),
    });
    const { webhookQueueUrl } = options.names;
    const source = startLambdaTier({
      sqs: sqsClients.sqs,
      queueUrl: webhookQueueUrl,
      queueArn: `arn:aws:sqs:${LOCAL_REGION}:000000000000:${webhookQueueUrl.split('/').at(-1)}`,
      handler: buildWebhookDeliverer(deliverer),
      concurrency: 2,
      fn: {
        functionName: WEBHOOK_DELIVERER.functionName,
        timeoutSeconds: WEBHOOK_DELIVERER.timeoutSeconds,
        memoryMb: 256,
      },
      onError: (error) => logger.warn('webhook deliverer invocation failed', { error: error as Error }),
    });
    stops.push(async () => {
      await source.stop();
      destroyAwsClients(sqsClients);
    });
  }

  if (options.sweeper !== false) {
    // The sweeper: the real handler, invoked the way its EventBridge schedule does.
    const sweeperConfig = loadSweeperConfig(roleEnv(SWEEPER.functionName));
    const schedule = startSchedule({
      ruleName: `${SWEEPER.functionName}-schedule`,
      region: LOCAL_REGION,
      intervalMs: sweeperConfig.sweepIntervalMs,
      handler: createSweepHandler(sweeperConfig),
      onError: (error) => logger.warn('sweep failed', { error: error as Error }),
    });
    stops.push(() => schedule.stop());
  }
};
