/**
 * The local cloud: the whole platform on one machine. It starts the emulators, creates the
 * table, queues and bucket from the contracts, hosts the HTTP functions behind the local
 * gateway and runs one fleet worker, each built by the same composition code AWS runs.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { startFleetWorker } from '../container/worker-deps.js';
import { createSweepDeps } from '../functions/schedule-sweep.js';
import { buildHandler as buildLambdaRunner, createLambdaRunnerDeps } from '../functions/sqs-run-task.js';
import { createWsDeps, type WsFunctionDeps } from '../functions/ws/deps.js';
import type { WsHandler } from '../functions/ws/ws-route.js';
import { buildHandler as wsAttach } from '../functions/ws-attach.js';
import { buildHandler as wsCommand } from '../functions/ws-command.js';
import { buildHandler as wsConnect } from '../functions/ws-connect.js';
import { buildHandler as wsDefault } from '../functions/ws-default.js';
import { buildHandler as wsDisconnect } from '../functions/ws-disconnect.js';
import { createAwsClients, destroyAwsClients } from '../shared/adapters/aws-clients.js';
import { DynamoDbTenantStore } from '../shared/adapters/dynamodb-tenant-store.js';
import { systemClock } from '../shared/clock.js';
import {
  type LocalConfig,
  loadLambdaRunnerConfig,
  loadSweeperConfig,
  loadWorkerConfig,
  loadWsConfig,
} from '../shared/config.js';
import {
  ENV,
  HTTP_ROUTES,
  LAMBDA_RUNNER,
  SWEEPER,
  WS_ROUTES,
  type WsFunctionName,
} from '../shared/contracts.js';
import { sweepSessions } from '../shared/session/sweep-sessions.js';
import { sweepTasks } from '../shared/task/sweep-tasks.js';
import { ensureTenantKey } from '../shared/tenancy/manage-tenants.js';
import { type Emulator, startDynamoDbLocal, startS3, startSqs } from './emulators.js';
import { type FaultFronts, startFaultFronts } from './fault-front.js';
import { type GatewayRoute, startHttpGateway } from './gateway.js';
import { HTTP_FUNCTIONS } from './http-functions.js';
import { createIamFront, type IamFront } from './iam-front.js';
import { FLEET_WORKER, loadRolePolicies, localizePolicies, type RolePolicySet } from './iam-policies.js';
import { startLambdaTier } from './lambda-tier.js';
import { freePorts } from './ports.js';
import { type ProvisionedNames, provisionLocalResources } from './provision.js';
import { startWsGateway } from './ws-gateway.js';

const WS_FUNCTIONS: Record<WsFunctionName, (deps: WsFunctionDeps) => WsHandler> = {
  'ws-connect': wsConnect,
  'ws-disconnect': wsDisconnect,
  'ws-attach': wsAttach,
  'ws-command': wsCommand,
  'ws-default': wsDefault,
};

export const LOCAL_STAGE = 'local';
export const LOCAL_TENANT = 'local';
const LOCAL_TENANT_LIMITS = {
  requestsPerSecond: 1_000,
  burst: 2_000,
  maxQueuedTasks: 10_000,
  maxRunningTasks: 1_000,
  maxLiveSessions: 100,
};
const REGION = 'us-east-1';

export interface LocalCloudOptions extends LocalConfig {
  /** Run the fleet worker in this process (default true). */
  worker?: boolean;
  /** Run the Lambda tier (its handler behind a local SQS event source) in this process (default true). */
  lambdaTier?: boolean;
  /** Run the sweeper on a timer in this process (default true). */
  sweeper?: boolean;
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
  iam: Pick<IamFront, 'denials'> | undefined;
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

/**
 * Ports: the HTTP gateway on `port`, then 3001 DynamoDB, 3002 SQS, 3003 S3, 3004 the
 * WebSocket gateway and 3005 the worker's inbox and CDP router by default, so URLs stay
 * stable across restarts. Port 0 picks free ports for all (tests).
 */
const pickPorts = async (port: number) =>
  port === 0
    ? {
        gateway: 0,
        dynamodb: await freePorts(),
        sqs: 0,
        s3: 0,
        ws: await freePorts(),
        inbox: await freePorts(),
      }
    : { gateway: port, dynamodb: port + 1, sqs: port + 2, s3: port + 3, ws: port + 4, inbox: port + 5 };

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
  const stops: (() => Promise<void>)[] = [];
  let stopping: Promise<void> | undefined;
  // Idempotent: a test's `finally` and its teardown may both stop the same cloud.
  const stopAll = (): Promise<void> => {
    stopping ??= (async () => {
      for (const stop of stops.reverse()) {
        await stop().catch((error: unknown) => logger.error('stop failed', { error: error as Error }));
      }
    })();
    return stopping;
  };

  try {
    let endpoints: { dynamodb: string; sqs: string; s3: string };
    if (options.awsEndpoint !== undefined) {
      // LocalStack (or any AWS-compatible endpoint): nothing to start here.
      endpoints = { dynamodb: options.awsEndpoint, sqs: options.awsEndpoint, s3: options.awsEndpoint };
    } else {
      const started = await Promise.allSettled([
        startDynamoDbLocal({ port: ports.dynamodb, dataDir: join(options.dataDir, 'dynamodb') }),
        startSqs({ port: ports.sqs }),
        startS3({ port: ports.s3, dataDir: join(options.dataDir, 's3') }),
      ]);
      // Those that did start are stopped with the rest if one didn't (then the start fails).
      for (const r of started) if (r.status === 'fulfilled') stops.push(() => r.value.stop());
      const failed = started.find((r) => r.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
      const emulators = started.map((r) => (r as PromiseFulfilledResult<Emulator>).value);
      const [dynamodb, sqs, s3] = emulators.map((e) => e.endpoint) as [string, string, string];
      endpoints = { dynamodb, sqs, s3 };
    }
    // The platform's parts reach AWS through the fault front when one is asked for; the
    // local cloud's own set-up and plumbing (tables, the SQS event source) go direct.
    const stage = options.stage ?? LOCAL_STAGE;
    // Each part signs with its own role's key (`roleEnv`), and the front judges it by that role.
    const iam = options.iam.enabled
      ? createIamFront({
          policies: await localizePolicies(options.iamPolicies ?? (await loadRolePolicies()), stage),
          denialLog: options.iam.denialLog,
        })
      : undefined;
    let fronts: FaultFronts | undefined;
    if (options.faults.rate > 0 || iam !== undefined) {
      fronts = await startFaultFronts(endpoints, options.faults, iam?.admit);
      stops.push(async () => fronts?.stop());
    }
    const faults = options.faults.rate > 0 ? fronts : undefined;
    const { dynamodb, sqs, s3 } = fronts?.endpoints ?? endpoints;

    const adminClients = createAwsClients({ region: REGION, endpoints });
    const names = await provisionLocalResources(adminClients, stage);
    // The one key `npm start` prints, for the local tenant; roomy limits for one developer.
    await ensureTenantKey(
      {
        tenants: new DynamoDbTenantStore(adminClients.dynamo, names.stateTable),
        clock: systemClock,
        random: randomBytes,
      },
      { tenantId: LOCAL_TENANT, key: options.apiKey, limits: LOCAL_TENANT_LIMITS },
    ).finally(() => destroyAwsClients(adminClients));

    const env: Record<string, string> = {
      [ENV.stage]: stage,
      [ENV.awsRegion]: REGION,
      AWS_ENDPOINT_URL_DYNAMODB: dynamodb,
      AWS_ENDPOINT_URL_SQS: sqs,
      AWS_ENDPOINT_URL_S3: s3,
      [ENV.stateTable]: names.stateTable,
      [ENV.fleetQueueUrl]: names.fleetQueueUrl,
      [ENV.lambdaQueueUrl]: names.lambdaQueueUrl,
      [ENV.artifactBucket]: names.artifactBucket,
      [ENV.workerConcurrency]: String(options.workerConcurrency),
      [ENV.logLevel]: options.logLevel,
      // Nothing collects EMF lines locally; they would only bury the logs.
      [ENV.metricsEnabled]: 'false',
      [ENV.sessionTicketSecret]: options.sessionTicketSecret,
      [ENV.websocketManagementUrl]: `http://127.0.0.1:${ports.ws}`,
      [ENV.websocketPublicUrl]: `ws://127.0.0.1:${ports.ws}`,
      [ENV.cdpPublicUrl]: `ws://127.0.0.1:${ports.inbox}`,
      [ENV.workerInboxPort]: String(ports.inbox),
      ...(options.chromiumPath === undefined ? {} : { [ENV.chromiumPath]: options.chromiumPath }),
      ...options.extraEnv,
    };
    /** The environment of one part (a function by its name, or the fleet worker): its role's key. */
    const roleEnv = (part: string): Record<string, string> =>
      iam === undefined ? env : { ...env, [ENV.localAccessKeyId]: iam.accessKeyFor(part) };

    // One set of dependencies per function, as each Lambda function has its own (and its role).
    const routes: GatewayRoute[] = HTTP_ROUTES.map((route) => {
      const fn = HTTP_FUNCTIONS[route.functionName](roleEnv(route.functionName));
      stops.push(async () => fn.dispose());
      return { routeKey: route.routeKey, functionName: route.functionName, handler: fn.handler };
    });
    const gateway = await startHttpGateway({
      port: ports.gateway,
      routes,
      onError: (error) => logger.error('handler crashed', { error: error as Error }),
    });
    stops.push(() => gateway.close());

    const wsDeps = new Map<WsFunctionName, WsFunctionDeps>();
    const wsDepsOf = (name: WsFunctionName): WsFunctionDeps => {
      let deps = wsDeps.get(name);
      if (deps === undefined) {
        const created = createWsDeps(loadWsConfig(roleEnv(name)));
        stops.push(async () => created.dispose());
        wsDeps.set(name, created);
        deps = created;
      }
      return deps;
    };
    const wsGateway = await startWsGateway({
      port: ports.ws,
      routes: WS_ROUTES.map((route) => ({
        routeKey: route.routeKey,
        handler: WS_FUNCTIONS[route.functionName](wsDepsOf(route.functionName)),
      })),
      ...(options.wsIdleTimeoutMs === undefined ? {} : { idleTimeoutMs: options.wsIdleTimeoutMs }),
      onError: (error) => logger.error('ws handler crashed', { error: error as Error }),
    });
    stops.push(() => wsGateway.close());

    if (options.worker !== false) {
      const fleet = await startFleetWorker(
        loadWorkerConfig({ ...roleEnv(FLEET_WORKER), [ENV.workerId]: 'local-worker-1' }),
        {
          ...(options.pollWaitSeconds === undefined ? {} : { pollWaitSeconds: options.pollWaitSeconds }),
        },
      );
      stops.push(() => fleet.stop({ drainMs: 0 }));
    }

    if (options.lambdaTier !== false) {
      // The Lambda tier: the real handler, invoked the way the SQS event source mapping does.
      const lambdaDeps = createLambdaRunnerDeps(
        loadLambdaRunnerConfig({ ...roleEnv(LAMBDA_RUNNER.functionName), [ENV.workerId]: 'local-lambda' }),
      );
      // The event source mapping polls with the function's own role, as on AWS: the IAM front
      // judges its ReceiveMessage and DeleteMessage against that role's policies.
      const sqsClients = createAwsClients({
        region: REGION,
        endpoints,
        localAccessKeyId: iam?.accessKeyFor(LAMBDA_RUNNER.functionName),
      });
      const lambdaTier = startLambdaTier({
        sqs: sqsClients.sqs,
        queueUrl: names.lambdaQueueUrl,
        queueArn: `arn:aws:sqs:${REGION}:000000000000:${names.lambdaQueueUrl.split('/').at(-1)}`,
        handler: buildLambdaRunner(lambdaDeps),
        concurrency: options.lambdaConcurrency,
        onError: (error) => logger.warn('lambda tier invocation failed', { error: error as Error }),
      });
      stops.push(async () => {
        await lambdaTier.stop();
        await lambdaDeps.run.browser.close();
        destroyAwsClients(sqsClients);
      });
    }

    if (options.sweeper !== false) {
      const sweeperConfig = loadSweeperConfig(roleEnv(SWEEPER.functionName));
      const sweepDeps = createSweepDeps(sweeperConfig);
      let sweeping = false;
      const timer = setInterval(() => {
        if (sweeping) return;
        sweeping = true;
        Promise.all([sweepTasks(sweepDeps), sweepSessions(sweepDeps.sessionSweep)])
          .then(([report, sessions]) => {
            if (
              report.requeued +
                report.resent +
                report.failed +
                report.cancelled +
                sessions.lost +
                sessions.resent >
              0
            ) {
              logger.info('sweep', { ...report, sessions });
            }
          })
          .catch((error: unknown) => logger.warn('sweep failed', { error: error as Error }))
          .finally(() => {
            sweeping = false;
          });
      }, sweeperConfig.sweepIntervalMs);
      stops.push(async () => clearInterval(timer));
    }

    return {
      url: gateway.url,
      wsUrl: wsGateway.url,
      cdpUrl: `ws://127.0.0.1:${ports.inbox}`,
      apiKey: options.apiKey,
      endpoints: { dynamodb, sqs, s3 },
      emulatorEndpoints: endpoints,
      faults: faults === undefined ? undefined : { counts: () => faults.counts() },
      names,
      // For worker processes a test starts: the fleet worker's role.
      env: roleEnv(FLEET_WORKER),
      roleEnv,
      iam,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
};
