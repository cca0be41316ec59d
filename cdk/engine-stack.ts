/**
 * The task engine's own functions: the Lambda tier's runner (one task per invocation, fed
 * by the Lambda queue's event source) and the scheduled sweeper (re-sends lost messages,
 * ends tasks and sessions whose owner died). Neither is behind the HTTP API, so they are a
 * deployment unit of their own, apart from the API stack.
 */
import { Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type { WebSocketStage } from 'aws-cdk-lib/aws-apigatewayv2';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Architecture } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { ENV, LAMBDA_RUNNER, QUEUES, SWEEPER, WEBHOOK_DELIVERER } from '../shared/contracts.js';
import { importArtifactBucket } from './artifact-bucket.js';
import { CHROMIUM_LAYER_BIN_DIR, chromiumLayer } from './chromium-layer.js';
import { nodeFunction } from './node-function.js';
import { webSocketStageName } from './sessions-stack.js';
import type { Stage } from './stage.js';
import { grantPostToConnections, wireBucket, wireQueue, wireTable } from './wiring.js';

export interface EngineStackProps extends StackProps {
  readonly stage: Stage;
  readonly table: ITable;
  readonly fleetQueue: IQueue;
  readonly lambdaQueue: IQueue;
  /** Task end events: the sweeper sends them (the outbox relay), the deliverer takes them. */
  readonly webhookQueue: IQueue;
  readonly webhookDeadLetterQueue: IQueue;
  /** The WebSocket stage the sweeper tells clients of a lost session through. */
  readonly webSocketStage: WebSocketStage;
}

export class EngineStack extends Stack {
  readonly sweeper: NodejsFunction;
  readonly runner: NodejsFunction;
  readonly webhookDeliverer: NodejsFunction;

  constructor(scope: Construct, id: string, props: EngineStackProps) {
    super(scope, id, props);
    const { stage } = props;
    const removalPolicy = stage === 'prod' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    // The sweeper re-sends lost messages and settles tasks whose owner died. It finishes
    // before the next run is due, and a failed run is not retried: the next one is the retry.
    this.sweeper = nodeFunction(this, SWEEPER.functionName, {
      stage,
      removalPolicy,
      timeout: Duration.minutes(SWEEPER.rateMinutes).minus(Duration.seconds(5)),
      retryAttempts: 0,
    });
    this.sweeper.addEnvironment(ENV.stage, stage);
    this.sweeper.addEnvironment(ENV.logLevel, stage === 'prod' ? 'INFO' : 'DEBUG');
    // A session whose worker died ends here; its attached clients are told why.
    this.sweeper.addEnvironment(ENV.websocketManagementUrl, props.webSocketStage.callbackUrl);
    grantPostToConnections(webSocketStageName(stage), this.sweeper);
    wireTable(this.sweeper, props.table, 'readWrite');
    wireQueue(this.sweeper, props.fleetQueue, 'send');
    wireQueue(this.sweeper, props.lambdaQueue, 'send', ENV.lambdaQueueUrl);
    wireQueue(this.sweeper, props.webhookQueue, 'send', ENV.webhookQueueUrl);
    new Rule(this, 'SweepSchedule', {
      description: 'Runs the browserfleet sweeper',
      schedule: Schedule.rate(Duration.minutes(SWEEPER.rateMinutes)),
      targets: [new LambdaFunction(this.sweeper, { retryAttempts: 0 })],
    });

    // The Lambda tier: one task per invocation, the browser kept warm in the execution
    // environment. x86_64 because the @sparticuz/chromium build it runs is x86-64.
    this.runner = nodeFunction(this, LAMBDA_RUNNER.functionName, {
      stage,
      removalPolicy,
      timeout: Duration.seconds(QUEUES.lambdaFunctionTimeoutSeconds),
      architecture: Architecture.X86_64,
      memorySize: LAMBDA_RUNNER.memoryMb,
      layers: [chromiumLayer(this)],
    });
    this.runner.addEnvironment(ENV.stage, stage);
    this.runner.addEnvironment(ENV.logLevel, stage === 'prod' ? 'INFO' : 'DEBUG');
    this.runner.addEnvironment(ENV.chromiumBinDir, CHROMIUM_LAYER_BIN_DIR);
    wireTable(this.runner, props.table, 'readWrite');
    // Its event source mapping receives and deletes (granted by SqsEventSource below); the
    // function itself only sends, a fresh copy to retry, hand back or wait.
    wireQueue(this.runner, props.lambdaQueue, 'send', ENV.lambdaQueueUrl);
    const artifacts = importArtifactBucket(this, stage);
    wireBucket(this.runner, artifacts, ['taskRunner']);
    this.runner.addEventSource(
      new SqsEventSource(props.lambdaQueue, {
        batchSize: LAMBDA_RUNNER.batchSize,
        reportBatchItemFailures: true,
        // Bounds the tier's Chromium count (and cost); the queue absorbs bursts.
        maxConcurrency: LAMBDA_RUNNER.maxConcurrency,
      }),
    );

    // The webhook deliverer: reads the task (and its tenant's endpoints and secrets), writes
    // its delivery attempts on the task row, presigns the artifact URLs of the event, and
    // hides a failed message for its backoff (ChangeMessageVisibility). Outside any VPC:
    // receivers are on the internet, and the egress guard vets each one at send time.
    this.webhookDeliverer = nodeFunction(this, WEBHOOK_DELIVERER.functionName, {
      stage,
      removalPolicy,
      timeout: Duration.seconds(WEBHOOK_DELIVERER.timeoutSeconds),
    });
    this.webhookDeliverer.addEnvironment(ENV.stage, stage);
    this.webhookDeliverer.addEnvironment(ENV.logLevel, stage === 'prod' ? 'INFO' : 'DEBUG');
    wireTable(this.webhookDeliverer, props.table, 'readWrite');
    wireBucket(this.webhookDeliverer, artifacts, ['taskReader']);
    // Its event source mapping receives and deletes; the function sends the next attempt's
    // copy to its queue, and an event out of attempts to the DLQ.
    wireQueue(this.webhookDeliverer, props.webhookQueue, 'send', ENV.webhookQueueUrl);
    wireQueue(this.webhookDeliverer, props.webhookDeadLetterQueue, 'send', ENV.webhookDlqUrl);
    this.webhookDeliverer.addEventSource(
      new SqsEventSource(props.webhookQueue, {
        batchSize: WEBHOOK_DELIVERER.batchSize,
        reportBatchItemFailures: true,
        maxConcurrency: WEBHOOK_DELIVERER.maxConcurrency,
      }),
    );
  }
}
