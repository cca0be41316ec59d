import { ECSClient } from '@aws-sdk/client-ecs';
import { type AwsClientsConfig, clientConfig } from './aws-client-config.js';
import { translateSdkErrorsOf } from './aws-sdk-errors.js';

/** Where a fleet worker watches its own deployment (container/deployment-watch.ts). */
export const createEcsClient = ({ region, endpoints, localAccessKeyId }: AwsClientsConfig) =>
  translateSdkErrorsOf(new ECSClient(clientConfig(region, endpoints.ecs, localAccessKeyId)), 'ECS');
