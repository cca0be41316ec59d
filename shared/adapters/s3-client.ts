import { S3Client } from '@aws-sdk/client-s3';
import { type AwsClientsConfig, clientConfig } from './aws-client-config.js';
import { translateSdkErrorsOf } from './aws-sdk-errors.js';

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
