/**
 * What the local cloud's parts find when they start: the table, queues and bucket (made
 * from the contracts), the local tenant's API key, and the environment that names them all,
 * as a part's configuration on AWS would.
 */
import { randomBytes } from 'node:crypto';
import { createAwsClients, destroyAwsClients } from '../shared/adapters/aws-clients.js';
import { DynamoDbTenantStore } from '../shared/adapters/dynamodb-tenant-store.js';
import { systemClock } from '../shared/clock.js';
import type { LocalConfig } from '../shared/config.js';
import { ENV } from '../shared/contracts.js';
import { ensureTenantKey } from '../shared/tenancy/manage-tenants.js';
import type { ServiceEndpoints } from './fault-front.js';
import type { IamFront } from './iam-front.js';
import { LOCAL_REGION } from './iam-policies.js';
import { type ProvisionedNames, provisionLocalResources } from './provision.js';

export const LOCAL_STAGE = 'local';
export const LOCAL_TENANT = 'local';
const LOCAL_TENANT_LIMITS = {
  requestsPerSecond: 1_000,
  burst: 2_000,
  maxQueuedTasks: 10_000,
  maxRunningTasks: 1_000,
  maxLiveSessions: 100,
};

/**
 * Creates (or finds) the resources, and the one key `npm start` prints, for the local
 * tenant with roomy limits for one developer. Set-up goes straight to the emulators, past
 * any front: it is the local cloud's, not a part's.
 */
export const provisionCloudResources = async (options: {
  emulators: ServiceEndpoints;
  stage: string;
  apiKey: string;
}): Promise<ProvisionedNames> => {
  const adminClients = createAwsClients({ region: LOCAL_REGION, endpoints: options.emulators });
  const names = await provisionLocalResources(adminClients, options.stage);
  await ensureTenantKey(
    {
      tenants: new DynamoDbTenantStore(adminClients.dynamo, names.stateTable),
      clock: systemClock,
      random: randomBytes,
    },
    { tenantId: LOCAL_TENANT, key: options.apiKey, limits: LOCAL_TENANT_LIMITS },
  ).finally(() => destroyAwsClients(adminClients));
  return names;
};

/** The environment every part of this cloud is configured from (its role's key aside). */
export const cloudEnvironment = (options: {
  config: LocalConfig;
  stage: string;
  /** Where the parts send their AWS calls (the fronts', when they run). */
  endpoints: ServiceEndpoints;
  names: ProvisionedNames;
  ports: { ws: number; inbox: number };
  extraEnv?: Record<string, string> | undefined;
}): Record<string, string> => {
  const { config, endpoints, names, ports } = options;
  return {
    [ENV.stage]: options.stage,
    [ENV.awsRegion]: LOCAL_REGION,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    AWS_ENDPOINT_URL_SQS: endpoints.sqs,
    AWS_ENDPOINT_URL_S3: endpoints.s3,
    [ENV.stateTable]: names.stateTable,
    [ENV.fleetQueueUrl]: names.fleetQueueUrl,
    [ENV.lambdaQueueUrl]: names.lambdaQueueUrl,
    [ENV.webhookQueueUrl]: names.webhookQueueUrl,
    [ENV.webhookDlqUrl]: names.webhookDlqUrl,
    [ENV.artifactBucket]: names.artifactBucket,
    [ENV.workerConcurrency]: String(config.workerConcurrency),
    [ENV.logLevel]: config.logLevel,
    // Nothing collects EMF lines locally; they would only bury the logs.
    [ENV.metricsEnabled]: 'false',
    [ENV.sessionTicketSecret]: config.sessionTicketSecret,
    [ENV.websocketManagementUrl]: `http://127.0.0.1:${ports.ws}`,
    [ENV.websocketPublicUrl]: `ws://127.0.0.1:${ports.ws}`,
    [ENV.cdpPublicUrl]: `ws://127.0.0.1:${ports.inbox}`,
    [ENV.workerInboxPort]: String(ports.inbox),
    ...(config.chromiumPath === undefined ? {} : { [ENV.chromiumPath]: config.chromiumPath }),
    ...options.extraEnv,
  };
};

/** The environment of one part (a function by its name, or the fleet worker): its role's key. */
export type RoleEnv = (part: string) => Record<string, string>;

export const roleEnvironment =
  (env: Record<string, string>, iam: IamFront | undefined): RoleEnv =>
  (part) =>
    iam === undefined ? env : { ...env, [ENV.localAccessKeyId]: iam.accessKeyFor(part) };
