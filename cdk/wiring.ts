/**
 * Env var and IAM grant, wired in one call. Each helper tells a consumer (a Lambda function,
 * or a container with its task role) where a resource is and grants exactly the access
 * asked for, so a function can't learn a resource's name without the rights it needs, nor
 * hold rights to a resource it was never told about.
 */

import { Stack, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { ContainerDefinition } from 'aws-cdk-lib/aws-ecs';
import { Grant, type IGrantable, type IRole } from 'aws-cdk-lib/aws-iam';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { IConstruct } from 'constructs';
import {
  ARTIFACT_KEYS,
  type ArtifactAccessor,
  type ArtifactKeyLayout,
  type BucketAccess,
  ENV,
  type FunctionResources,
  type QueueAccess,
  STATE_TABLE,
  type TableAccess,
} from '../shared/contracts.js';
import {
  type ArtifactBucketRef,
  acknowledgeArtifactObjectGrant,
  artifactKeyPattern,
} from './artifact-bucket.js';
import { SHARED_STATE_TABLE_INDEXES } from './state-stack.js';

/** Code that reads env vars and acts as an IAM principal. A Lambda function is one as it is. */
export interface Consumer extends IGrantable {
  addEnvironment(name: string, value: string): unknown;
}

/** A container as a consumer: env vars on the container, grants on its task role. */
export const containerConsumer = (container: ContainerDefinition, taskRole: IRole): Consumer => ({
  grantPrincipal: taskRole.grantPrincipal,
  addEnvironment: (name, value) => container.addEnvironment(name, value),
});

const READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'];
const TABLE_ACTIONS: Record<TableAccess, string[]> = {
  readWrite: [
    ...READ_ACTIONS,
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
    'dynamodb:ConditionCheckItem',
  ],
  read: READ_ACTIONS,
  describe: [],
  readAndDescribe: READ_ACTIONS,
};

/** Accesses that include the health check's ping, `DescribeTable` (on the table only). */
const DESCRIBES: ReadonlySet<TableAccess> = new Set(['describe', 'readAndDescribe']);

/**
 * Grants name the table and each of its shared indexes (`SHARED_STATE_TABLE_INDEXES`) by
 * ARN, not `index/*`: an index added to that list is added to the grants by it. The
 * task-history index holds every tenant's tasks: only `Query` on it, and only for a
 * consumer that declares `taskHistory`.
 */
export const wireTable = (
  consumer: Consumer,
  table: ITable,
  access: TableAccess,
  uses: Pick<FunctionResources, 'taskHistory'> = {},
): void => {
  consumer.addEnvironment(ENV.stateTable, table.tableName);
  const indexes = SHARED_STATE_TABLE_INDEXES.map((index) => `${table.tableArn}/index/${index.name}`);
  const rowActions = TABLE_ACTIONS[access];
  if (rowActions.length > 0) grant(consumer, rowActions, [table.tableArn, ...indexes]);
  if (DESCRIBES.has(access)) grant(consumer, ['dynamodb:DescribeTable'], [table.tableArn]);
  if (uses.taskHistory === true) {
    grant(consumer, ['dynamodb:Query'], [`${table.tableArn}/index/${STATE_TABLE.taskHistoryIndex.name}`]);
  }
};

/** `QueueAccess` (the contracts): what the consumer does with the queue. */
export const wireQueue = (
  consumer: Consumer,
  queue: IQueue,
  access: QueueAccess,
  envName:
    | typeof ENV.fleetQueueUrl
    | typeof ENV.lambdaQueueUrl
    | typeof ENV.webhookQueueUrl
    | typeof ENV.webhookDlqUrl = ENV.fleetQueueUrl,
): void => {
  consumer.addEnvironment(envName, queue.queueUrl);
  switch (access) {
    case 'send':
      queue.grantSendMessages(consumer);
      return;
    case 'run':
      queue.grantConsumeMessages(consumer);
      queue.grantSendMessages(consumer);
      return;
    case 'attributes':
      queue.grant(consumer, 'sqs:GetQueueAttributes');
      return;
  }
};

/**
 * `BucketAccess` (the contracts): `PutObject` on each key layout an accessor the consumer
 * is puts under, `GetObject` on each it presigns URLs to (a presigned URL carries the
 * rights of whoever signed it), both from `ARTIFACT_KEYS`; or `head`, only `HeadBucket`.
 */
export const wireBucket = (consumer: Consumer, artifacts: ArtifactBucketRef, access: BucketAccess): void => {
  const { bucket } = artifacts;
  consumer.addEnvironment(ENV.artifactBucket, bucket.bucketName);
  if (access === 'head') {
    grant(consumer, ['s3:ListBucket'], [bucket.bucketArn]);
    return;
  }
  const is = (accessors: readonly ArtifactAccessor[]) => accessors.some((a) => access.includes(a));
  for (const layout of Object.values(ARTIFACT_KEYS) as ArtifactKeyLayout[]) {
    const actions = [
      ...(is(layout.put) ? ['s3:PutObject'] : []),
      ...(is(layout.presign) ? ['s3:GetObject'] : []),
    ];
    if (actions.length === 0) continue;
    grant(consumer, actions, [bucket.arnForObjects(artifactKeyPattern(layout))]);
    acknowledgeArtifactObjectGrant(consumer.grantPrincipal as unknown as IConstruct, artifacts, layout);
  }
};

/**
 * The session ticket secret, read at run time: its ARN (never its value) in the consumer's
 * environment, and `GetSecretValue` on that secret only (not `DescribeSecret` or anything
 * `grantRead` adds): the runtime reads AWSCURRENT and AWSPREVIOUS and nothing else. The
 * secret uses the account's `aws/secretsmanager` key, whose use the key policy allows to
 * anyone the secret's own policy admits, so no KMS grant.
 */
export const wireTicketSecret = (consumer: Consumer, secret: ISecret): void => {
  consumer.addEnvironment(ENV.sessionTicketSecretId, secret.secretArn);
  grant(consumer, ['secretsmanager:GetSecretValue'], [secret.secretArn]);
};

/** The resources a function can be wired to (each only if the function declares it). */
export interface WiredResources {
  table: ITable;
  fleetQueue: IQueue;
  lambdaQueue: IQueue;
  artifacts: ArtifactBucketRef;
  ticketSecret: ISecret;
  publicUrls: { websocket: string; cdp: string };
}

/**
 * Wires a function to what it declares (`FunctionResources`, from the contracts): for each
 * entry the env var its config requires and the grant for that access; nothing else.
 */
export const wireResources = (consumer: Consumer, uses: FunctionResources, to: WiredResources): void => {
  if (uses.table !== undefined) wireTable(consumer, to.table, uses.table, uses);
  if (uses.fleetQueue !== undefined) wireQueue(consumer, to.fleetQueue, uses.fleetQueue, ENV.fleetQueueUrl);
  if (uses.lambdaQueue !== undefined) {
    wireQueue(consumer, to.lambdaQueue, uses.lambdaQueue, ENV.lambdaQueueUrl);
  }
  if (uses.artifacts !== undefined) wireBucket(consumer, to.artifacts, uses.artifacts);
  if (uses.tickets !== undefined) wireTicketSecret(consumer, to.ticketSecret);
  if (uses.publicUrls?.includes('websocket')) {
    consumer.addEnvironment(ENV.websocketPublicUrl, to.publicUrls.websocket);
  }
  if (uses.publicUrls?.includes('cdp')) consumer.addEnvironment(ENV.cdpPublicUrl, to.publicUrls.cdp);
};

const grant = (grantee: IGrantable, actions: string[], resourceArns: string[]): void => {
  Grant.addToPrincipal({ grantee, actions, resourceArns });
};

/**
 * Lets `grantee` post to (and close) the WebSocket API's connections. Connection ids exist
 * only at run time, so the resource ends in `@connections/*`; and the API id is a wildcard
 * too, so stacks that don't own the API need no reference to it (which would make the
 * acknowledgement below name a generated export). The stage name, unique per deployment
 * (`browserfleet-<stage>`), keeps the grant to this API's connections.
 */
export const grantPostToConnections = (stageName: string, grantee: IGrantable): void => {
  const stack = Stack.of(grantee.grantPrincipal as unknown as IConstruct);
  grant(
    grantee,
    ['execute-api:ManageConnections'],
    [
      stack.formatArn({
        service: 'execute-api',
        resource: '*',
        resourceName: `${stageName}/*/@connections/*`,
      }),
    ],
  );
  const role = grantee.grantPrincipal as unknown as IConstruct;
  Validations.of(role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:*/${stageName}/*/@connections/*]`,
    reason:
      "PostToConnection/DeleteConnection on this deployment's WebSocket stage: connection ids are only known " +
      'at run time.',
  });
};
