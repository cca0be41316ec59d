/**
 * The local cloud: the whole platform on one machine. It starts the emulators and the fronts
 * before them (cloud-backends.ts), creates the table, queues and bucket from the contracts
 * (cloud-resources.ts), hosts the functions behind the local HTTP and WebSocket gateways
 * (cloud-gateways.ts) and runs the fleet worker, the Lambda tier and the sweeper
 * (cloud-parts.ts), each built by the same composition code AWS runs.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { LocalConfig } from '../shared/config.js';
import { startEmulators, startFronts } from './cloud-backends.js';
import { startGateways } from './cloud-gateways.js';
import { startParts } from './cloud-parts.js';
import {
  cloudEnvironment,
  LOCAL_STAGE,
  provisionCloudResources,
  roleEnvironment,
} from './cloud-resources.js';
import type { FaultFronts } from './fault-front.js';
import type { IamFront } from './iam-front.js';
import { FLEET_WORKER, type RolePolicySet } from './iam-policies.js';
import { pickPorts } from './ports.js';
import type { ProvisionedNames } from './provision.js';
import { createStopStack } from './stop-stack.js';

export { LOCAL_STAGE, LOCAL_TENANT } from './cloud-resources.js';

export interface LocalCloudOptions extends LocalConfig {
  /** Run the fleet worker in this process (default true). */
  worker?: boolean;
  /** Run the Lambda tier (its handler behind a local SQS event source) in this process (default true). */
  lambdaTier?: boolean;
  /** Run the sweeper on a timer in this process (default true). */
  sweeper?: boolean;
  /** Run the webhook deliverer on the webhook queue (default true). */
  webhooks?: boolean;
  /**
   * Use this AWS-compatible endpoint (LocalStack) for DynamoDB, SQS and S3 instead of
   * starting the embedded emulators.
   */
  awsEndpoint?: string;
  /** Names the table, queues and bucket (default `local`); give each test its own on a shared LocalStack. */
  stage?: string;
  /** Extra runtime settings (LEASE_MS, SWEEP_INTERVAL_MS, …) for the functions and worker. */
  extraEnv?: Record<string, string>;
  /** Long-poll wait of the worker, in seconds (default 20, as on AWS). */
  pollWaitSeconds?: number;
  /** The WebSocket gateway's idle timeout (API Gateway's 10 minutes unless a test shortens it). */
  wsIdleTimeoutMs?: number;
  /** The IAM front judges by these role policies instead of the synthesized app's (tests). */
  iamPolicies?: RolePolicySet;
}

export interface LocalCloud {
  url: string;
  /** The WebSocket API (`ws://…`). */
  wsUrl: string;
  /** The fleet worker's CDP router (`ws://…`), when this cloud runs a worker. */
  cdpUrl: string;
  apiKey: string;
  /** Where the platform's SDK clients send their calls: the fault front's, when it runs. */
  endpoints: { dynamodb: string; sqs: string; s3: string };
  /** The emulators (or LocalStack) themselves, past any fault front: the ground truth. */
  emulatorEndpoints: { dynamodb: string; sqs: string; s3: string };
  /** The fault front, when `faults.rate` > 0: its counts of requests and injected faults. */
  faults: Pick<FaultFronts, 'counts'> | undefined;
  /** The IAM front, unless `LOCAL_IAM=off`: the calls it refused. */
  iam: Pick<IamFront, 'denials' | 'calls'> | undefined;
  names: ProvisionedNames;
  /** Environment for a worker process pointed at this cloud (with the fleet worker's role). */
  env: Record<string, string>;
  /** Environment for one part (a function by its contracts name, or `fleet-worker`), with its role. */
  roleEnv(part: string): Record<string, string>;
  stop(): Promise<void>;
}

/** The port was taken between the pick and the bind (by Node's server or by DynamoDB Local's). */
const isAddressInUse = (error: unknown): boolean =>
  /EADDRINUSE|Address already in use/i.test(
    error instanceof Error ? `${error.message} ${String(error.cause)}` : String(error),
  );

export const startLocalCloud = async (options: LocalCloudOptions): Promise<LocalCloud> => {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startLocalCloudOnce(options);
    } catch (error) {
      if (options.port !== 0 || attempt >= 3 || !isAddressInUse(error)) throw error;
    }
  }
};

const startLocalCloudOnce = async (options: LocalCloudOptions): Promise<LocalCloud> => {
  const logger = new Logger({ serviceName: 'browserfleet-local', logLevel: options.logLevel });
  const ports = await pickPorts(options.port);
  const stops = createStopStack((error) => logger.error('stop failed', { error: error as Error }));
  try {
    const emulators = await startEmulators(
      { awsEndpoint: options.awsEndpoint, dataDir: options.dataDir, ports },
      stops,
    );
    const stage = options.stage ?? LOCAL_STAGE;
    // The platform's parts reach AWS through the fronts when any runs, and so does the SQS
    // event source that polls for the Lambda tier; the local cloud's own set-up goes direct.
    const fronts = await startFronts(
      { emulators, stage, iam: options.iam, faults: options.faults, iamPolicies: options.iamPolicies },
      stops,
    );
    const names = await provisionCloudResources({ emulators, stage, apiKey: options.apiKey });
    const env = cloudEnvironment({
      config: options,
      stage,
      endpoints: fronts.endpoints,
      names,
      ports,
      extraEnv: options.extraEnv,
    });
    const roleEnv = roleEnvironment(env, fronts.iam);
    const gateways = await startGateways(
      { ports, roleEnv, wsIdleTimeoutMs: options.wsIdleTimeoutMs, logger },
      stops,
    );
    await startParts(
      {
        worker: options.worker,
        lambdaTier: options.lambdaTier,
        sweeper: options.sweeper,
        webhooks: options.webhooks,
        pollWaitSeconds: options.pollWaitSeconds,
        lambdaConcurrency: options.lambdaConcurrency,
        roleEnv,
        pollEndpoints: fronts.endpoints,
        iam: fronts.iam,
        names,
        logger,
      },
      stops,
    );

    const { faults } = fronts;
    return {
      url: gateways.url,
      wsUrl: gateways.wsUrl,
      cdpUrl: `ws://127.0.0.1:${ports.inbox}`,
      apiKey: options.apiKey,
      endpoints: fronts.endpoints,
      emulatorEndpoints: emulators,
      faults: faults === undefined ? undefined : { counts: () => faults.counts() },
      names,
      // For worker processes a test starts: the fleet worker's role.
      env: roleEnv(FLEET_WORKER),
      roleEnv,
      iam: fronts.iam,
      stop: stops.stopAll,
    };
  } catch (error) {
    await stops.stopAll();
    throw error;
  }
};
