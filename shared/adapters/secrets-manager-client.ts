import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type AwsClientsConfig, clientConfig } from './aws-client-config.js';
import { translateSdkErrorsOf } from './aws-sdk-errors.js';

/** Built only where the ticket key lives in Secrets Manager (see `createTicketKeys`). */
export const createSecretsManagerClient = ({ region, endpoints, localAccessKeyId }: AwsClientsConfig) =>
  translateSdkErrorsOf(
    new SecretsManagerClient(clientConfig(region, endpoints.secretsManager, localAccessKeyId)),
    'SecretsManager',
  );
