import { SQSClient } from '@aws-sdk/client-sqs';
import { type AwsClientsConfig, clientConfig } from './aws-client-config.js';
import { translateSdkErrorsOf } from './aws-sdk-errors.js';

export const createSqsClient = ({ region, endpoints, localAccessKeyId }: AwsClientsConfig) =>
  translateSdkErrorsOf(new SQSClient(clientConfig(region, endpoints.sqs, localAccessKeyId)), 'SQS');
