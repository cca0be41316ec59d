/**
 * Creates the local cloud's table, queues and bucket from the same contracts the CDK app
 * uses. Idempotent: a restart finds them in place (the table and bucket are on disk).
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceNotFoundException,
  UpdateTableCommand,
} from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, HeadBucketCommand } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { AwsClients } from '../shared/adapters/aws-clients.js';
import { ARTIFACT_BUCKET, QUEUES, resourceName, STATE_TABLE } from '../shared/contracts.js';

export interface ProvisionedNames {
  stateTable: string;
  fleetQueueUrl: string;
  lambdaQueueUrl: string;
  lambdaDlqUrl: string;
  fleetDlqUrl: string;
  webhookQueueUrl: string;
  webhookDlqUrl: string;
  artifactBucket: string;
}

export const provisionLocalResources = async (
  clients: AwsClients,
  stage: string,
): Promise<ProvisionedNames> => {
  const stateTable = resourceName(STATE_TABLE.baseName, stage);
  const artifactBucket = resourceName(ARTIFACT_BUCKET.baseName, stage);

  const indexes = [STATE_TABLE.sweepIndex, STATE_TABLE.taskHistoryIndex];
  const indexSpec = (index: (typeof indexes)[number]) => ({
    IndexName: index.name,
    KeySchema: [
      { AttributeName: index.partitionKey, KeyType: 'HASH' as const },
      { AttributeName: index.sortKey, KeyType: 'RANGE' as const },
    ],
    Projection: { ProjectionType: 'ALL' as const },
  });
  const indexAttributes = indexes.flatMap((index) => [
    { AttributeName: index.partitionKey, AttributeType: 'S' as const },
    { AttributeName: index.sortKey, AttributeType: index.sortKeyType },
  ]);
  let existing: string[] | undefined;
  try {
    const described = await clients.dynamo.send(new DescribeTableCommand({ TableName: stateTable }));
    existing = (described.Table?.GlobalSecondaryIndexes ?? []).map((gsi) => gsi.IndexName ?? '');
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
    await clients.dynamo.send(
      new CreateTableCommand({
        TableName: stateTable,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: STATE_TABLE.partitionKey, AttributeType: 'S' },
          { AttributeName: STATE_TABLE.sortKey, AttributeType: 'S' },
          ...indexAttributes,
        ],
        KeySchema: [
          { AttributeName: STATE_TABLE.partitionKey, KeyType: 'HASH' },
          { AttributeName: STATE_TABLE.sortKey, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: indexes.map(indexSpec),
      }),
    );
  }
  // A data dir from before an index existed (`npm start` keeps its table): add the index, as
  // a CloudFormation update of the table would. Rows written before it aren't in it.
  for (const index of indexes.filter((i) => existing !== undefined && !existing.includes(i.name))) {
    await clients.dynamo.send(
      new UpdateTableCommand({
        TableName: stateTable,
        AttributeDefinitions: indexAttributes,
        GlobalSecondaryIndexUpdates: [{ Create: indexSpec(index) }],
      }),
    );
  }

  const createWithDlq = async (
    names: { baseName: string; dlqBaseName: string },
    visibilitySeconds: number,
  ) => {
    const dlq = await clients.sqs.send(
      new CreateQueueCommand({ QueueName: resourceName(names.dlqBaseName, stage) }),
    );
    const dlqArn = (
      await clients.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }),
      )
    ).Attributes?.QueueArn;
    const queue = await clients.sqs.send(
      new CreateQueueCommand({
        QueueName: resourceName(names.baseName, stage),
        Attributes: {
          VisibilityTimeout: String(visibilitySeconds),
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: dlqArn,
            maxReceiveCount: QUEUES.maxReceiveCount,
          }),
        },
      }),
    );
    if (queue.QueueUrl === undefined || dlq.QueueUrl === undefined) {
      throw new Error('The SQS emulator returned no queue URL.');
    }
    return { url: queue.QueueUrl, dlqUrl: dlq.QueueUrl };
  };
  const fleet = await createWithDlq(QUEUES.fleet, QUEUES.visibilityTimeoutSeconds);
  const lambda = await createWithDlq(QUEUES.lambda, QUEUES.lambdaVisibilityTimeoutSeconds);
  const webhooks = await createWithDlq(QUEUES.webhooks, QUEUES.webhookVisibilityTimeoutSeconds);

  try {
    await clients.s3.send(new HeadBucketCommand({ Bucket: artifactBucket }));
  } catch {
    await clients.s3.send(new CreateBucketCommand({ Bucket: artifactBucket }));
  }

  return {
    stateTable,
    fleetQueueUrl: fleet.url,
    fleetDlqUrl: fleet.dlqUrl,
    lambdaQueueUrl: lambda.url,
    lambdaDlqUrl: lambda.dlqUrl,
    webhookQueueUrl: webhooks.url,
    webhookDlqUrl: webhooks.dlqUrl,
    artifactBucket,
  };
};
