/**
 * The stateful stack: the state table, the fleet queue with its DLQ, and the artifact
 * bucket. It lives apart from the stateless stacks so those can be torn down and rebuilt
 * freely, and so prod data is protected in one place.
 */
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { BlockPublicAccess, Bucket, BucketEncryption } from 'aws-cdk-lib/aws-s3';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { QUEUES, resourceName, STATE_TABLE } from '../shared/contracts.js';
import { artifactBucketName } from './artifact-bucket.js';
import type { Stage } from './stage.js';

/** Artifacts outlive the longest presigned URL (7 days) with room to spare, then go. */
const ARTIFACT_RETENTION = Duration.days(30);

/** The longest SQS allows: time for an operator to look at what landed in the DLQ. */
const DLQ_RETENTION = Duration.days(14);

/**
 * The state table's global secondary indexes, created here. Every function that uses the
 * table is granted the shared ones (`SHARED_STATE_TABLE_INDEXES`); the task-history index
 * only a function that declares `taskHistory` (cdk/wiring.ts).
 */
export const STATE_TABLE_INDEXES = [STATE_TABLE.sweepIndex, STATE_TABLE.taskHistoryIndex] as const;

/** The indexes every reader of the table may query: the sweep index. */
export const SHARED_STATE_TABLE_INDEXES = [STATE_TABLE.sweepIndex] as const;

export interface StateStackProps extends StackProps {
  readonly stage: Stage;
}

export class StateStack extends Stack {
  readonly table: Table;
  readonly fleetQueue: Queue;
  readonly fleetDeadLetterQueue: Queue;
  readonly lambdaQueue: Queue;
  readonly lambdaDeadLetterQueue: Queue;
  readonly webhookQueue: Queue;
  readonly webhookDeadLetterQueue: Queue;
  readonly artifactBucket: Bucket;

  constructor(scope: Construct, id: string, props: StateStackProps) {
    const prod = props.stage === 'prod';
    super(scope, id, { terminationProtection: prod, ...props });
    const { stage } = props;
    // Prod keeps its data when the stack or a resource goes; dev cleans up after itself.
    const removalPolicy = prod ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    this.table = new Table(this, 'StateTable', {
      tableName: resourceName(STATE_TABLE.baseName, stage),
      partitionKey: { name: STATE_TABLE.partitionKey, type: AttributeType.STRING },
      sortKey: { name: STATE_TABLE.sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // DynamoDB deletes expired rows within days, not on time: code checks expiry itself.
      timeToLiveAttribute: STATE_TABLE.ttlAttribute,
      deletionProtection: prod,
      removalPolicy,
    });
    // Sparse: only rows that carry an index's keys are in it (live tasks and sessions in the
    // sweep index: epoch ms, the sweeper asks for rows due before now; every task in the
    // history index). ALL: each answers whole rows, with no second read per row.
    for (const index of STATE_TABLE_INDEXES) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
        sortKey: {
          name: index.sortKey,
          type: index.sortKeyType === 'N' ? AttributeType.NUMBER : AttributeType.STRING,
        },
        projectionType: ProjectionType.ALL,
      });
    }

    // Queues are not retained: the table row is the truth, and the sweeper re-sends
    // messages for rows stuck in `queued`, so a lost queue loses no task.
    this.fleetDeadLetterQueue = new Queue(this, 'FleetDeadLetterQueue', {
      queueName: resourceName(QUEUES.fleet.dlqBaseName, stage),
      retentionPeriod: DLQ_RETENTION,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    Validations.of(this.fleetDeadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is the dead-letter queue of the fleet queue; it has no DLQ of its own.',
    });

    this.fleetQueue = new Queue(this, 'FleetQueue', {
      queueName: resourceName(QUEUES.fleet.baseName, stage),
      visibilityTimeout: Duration.seconds(QUEUES.visibilityTimeoutSeconds),
      deadLetterQueue: { queue: this.fleetDeadLetterQueue, maxReceiveCount: QUEUES.maxReceiveCount },
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });

    this.lambdaDeadLetterQueue = new Queue(this, 'LambdaDeadLetterQueue', {
      queueName: resourceName(QUEUES.lambda.dlqBaseName, stage),
      retentionPeriod: DLQ_RETENTION,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    Validations.of(this.lambdaDeadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is the dead-letter queue of the Lambda-tier queue; it has no DLQ of its own.',
    });
    // Visibility 6× the runner's timeout: AWS's rule for an SQS event source, so a message
    // is never redelivered while an invocation may still be working on it.
    this.lambdaQueue = new Queue(this, 'LambdaQueue', {
      queueName: resourceName(QUEUES.lambda.baseName, stage),
      visibilityTimeout: Duration.seconds(QUEUES.lambdaVisibilityTimeoutSeconds),
      deadLetterQueue: { queue: this.lambdaDeadLetterQueue, maxReceiveCount: QUEUES.maxReceiveCount },
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });

    this.webhookDeadLetterQueue = new Queue(this, 'WebhookDeadLetterQueue', {
      queueName: resourceName(QUEUES.webhooks.dlqBaseName, stage),
      retentionPeriod: DLQ_RETENTION,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    Validations.of(this.webhookDeadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is the dead-letter queue of the webhook queue; it has no DLQ of its own.',
    });
    // Each message is one delivery attempt; the deliverer puts an event whose attempts ran
    // out in the DLQ, and the redrive catches copies whose invocation crashed.
    this.webhookQueue = new Queue(this, 'WebhookQueue', {
      queueName: resourceName(QUEUES.webhooks.baseName, stage),
      visibilityTimeout: Duration.seconds(QUEUES.webhookVisibilityTimeoutSeconds),
      deadLetterQueue: { queue: this.webhookDeadLetterQueue, maxReceiveCount: QUEUES.maxReceiveCount },
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });

    this.artifactBucket = new Bucket(this, 'ArtifactBucket', {
      bucketName: artifactBucketName(stage),
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      lifecycleRules: [
        {
          id: 'expire-artifacts',
          expiration: ARTIFACT_RETENTION,
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      removalPolicy,
      autoDeleteObjects: !prod,
    });
    Validations.of(this.artifactBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Artifacts are written once by the runner that holds the lease and read only through short-lived ' +
        'presigned URLs; API access logs and task rows record who asked for what. Server access logs ' +
        'would need a second bucket and add little.',
    });

    new CfnOutput(this, 'StateTableName', { value: this.table.tableName });
    new CfnOutput(this, 'FleetQueueUrl', { value: this.fleetQueue.queueUrl });
    new CfnOutput(this, 'FleetDeadLetterQueueUrl', { value: this.fleetDeadLetterQueue.queueUrl });
    new CfnOutput(this, 'LambdaQueueUrl', { value: this.lambdaQueue.queueUrl });
    new CfnOutput(this, 'LambdaDeadLetterQueueUrl', { value: this.lambdaDeadLetterQueue.queueUrl });
    new CfnOutput(this, 'WebhookDeadLetterQueueUrl', { value: this.webhookDeadLetterQueue.queueUrl });
    new CfnOutput(this, 'ArtifactBucketName', { value: this.artifactBucket.bucketName });
  }
}
