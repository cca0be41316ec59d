import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type AwsClientsConfig, clientConfig } from './aws-client-config.js';
import { translateSdkErrorsOf } from './aws-sdk-errors.js';

export const createDynamoClient = ({ region, endpoints, localAccessKeyId }: AwsClientsConfig) =>
  translateSdkErrorsOf(
    DynamoDBDocumentClient.from(
      // Every status change writes the tenant's one usage row: a busy tenant is where DynamoDB
      // throttles, so allow more attempts than the default 3. (The SDK doesn't retry a
      // transaction cancelled for a conflict; `transactWrite` does.)
      new DynamoDBClient({ ...clientConfig(region, endpoints.dynamodb, localAccessKeyId), maxAttempts: 10 }),
      {
        marshallOptions: { removeUndefinedValues: true },
      },
    ),
    'DynamoDB',
  );
