import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AwsClientsConfig } from './aws-client-config.js';
import { createDynamoClient } from './dynamodb-client.js';
import { createS3Client } from './s3-client.js';
import { createSqsClient } from './sqs-client.js';

export interface AwsClients {
  dynamo: DynamoDBDocumentClient;
  sqs: SQSClient;
  s3: S3Client;
}

/** The three clients every long-lived process uses. */
export const createAwsClients = (config: AwsClientsConfig): AwsClients => ({
  dynamo: createDynamoClient(config),
  sqs: createSqsClient(config),
  s3: createS3Client(config),
});

/** Closes the clients' sockets so a process (or a test) can exit promptly. */
export const destroyAwsClients = (clients: AwsClients): void => {
  clients.dynamo.destroy();
  clients.sqs.destroy();
  clients.s3.destroy();
};
