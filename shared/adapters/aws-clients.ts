/**
 * AWS SDK v3 clients, built once per process by a composition root. A service with an
 * endpoint (the local cloud's emulators, or LocalStack) is reached there with placeholder
 * credentials and path-style S3 URLs; without one, the SDK's default credential chain,
 * region resolution (unless a region is given) and regional endpoints apply.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { translateSdkErrorsOf } from './aws-sdk-errors.js';

export interface AwsEndpoints {
  dynamodb?: string | undefined;
  sqs?: string | undefined;
  s3?: string | undefined;
  secretsManager?: string | undefined;
  ecs?: string | undefined;
}

export interface AwsClientsConfig {
  /** Unset: the SDK's own region resolution (AWS_REGION, the profile's region). */
  region?: string | undefined;
  endpoints: AwsEndpoints;
  /**
   * Against emulators: the access key id to sign with, which names this process's role to
   * the local cloud's IAM front (default: the emulators' placeholder, the local admin's).
   */
  localAccessKeyId?: string | undefined;
}

/** The region an emulator is called in when none is set: it signs requests, nothing more. */
const EMULATOR_REGION = 'us-east-1';

export interface AwsClients {
  dynamo: DynamoDBDocumentClient;
  sqs: SQSClient;
  s3: S3Client;
}

const clientConfig = (region: string | undefined, endpoint: string | undefined, accessKeyId = 'S3RVER') =>
  endpoint === undefined
    ? region === undefined
      ? {}
      : { region }
    : {
        region: region ?? EMULATOR_REGION,
        endpoint,
        // Emulators accept any key, except s3rver, which wants its own well-known pair.
        // Real AWS never sees these.
        credentials: { accessKeyId, secretAccessKey: 'S3RVER' },
      };

/**
 * One client per service, so a function that calls one service builds (and bundles) only
 * that client: each takes the same config and applies the same rules.
 */
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

export const createSqsClient = ({ region, endpoints, localAccessKeyId }: AwsClientsConfig) =>
  translateSdkErrorsOf(new SQSClient(clientConfig(region, endpoints.sqs, localAccessKeyId)), 'SQS');

export const createS3Client = ({ region, endpoints, localAccessKeyId }: AwsClientsConfig) =>
  translateSdkErrorsOf(
    new S3Client({
      ...clientConfig(region, endpoints.s3, localAccessKeyId),
      // An upload is the last step of a run that succeeded: three SlowDowns in a row (the
      // default) would throw the whole browser run away to be done again.
      maxAttempts: 6,
      forcePathStyle: endpoints.s3 !== undefined,
    }),
    'S3',
  );

/** The three clients every long-lived process (worker, sweeper, runner) uses. */
export const createAwsClients = (config: AwsClientsConfig): AwsClients => ({
  dynamo: createDynamoClient(config),
  sqs: createSqsClient(config),
  s3: createS3Client(config),
});

/**
 * The clients only some processes need, built on first use by the same rules (endpoint,
 * local role key, errors translated): Secrets Manager where the ticket key lives there,
 * ECS where a fleet worker watches its own deployment.
 */
export const createSecretsManagerClient = ({ region, endpoints, localAccessKeyId }: AwsClientsConfig) =>
  translateSdkErrorsOf(
    new SecretsManagerClient(clientConfig(region, endpoints.secretsManager, localAccessKeyId)),
    'SecretsManager',
  );

export const createEcsClient = ({ region, endpoints, localAccessKeyId }: AwsClientsConfig) =>
  translateSdkErrorsOf(new ECSClient(clientConfig(region, endpoints.ecs, localAccessKeyId)), 'ECS');

/** Closes the clients' sockets so a process (or a test) can exit promptly. */
export const destroyAwsClients = (clients: AwsClients): void => {
  clients.dynamo.destroy();
  clients.sqs.destroy();
  clients.s3.destroy();
};
