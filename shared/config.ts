/**
 * The one config module. Each runtime (HTTP functions, worker, local cloud) has a zod
 * schema over the environment; empty strings count as unset, every problem is reported at
 * once, and the result is frozen. Only composition roots call these, with `process.env`.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import {
  type ArtifactAccessor,
  type BucketAccess,
  ENV,
  type FunctionResources,
  HTTP_FUNCTION_RESOURCES,
  HTTP_ROUTES,
  type HttpFunctionName,
  type QueueAccess,
  type TableAccess,
} from './contracts.js';
import { type AllowEntry, parseEgressAllowList } from './egress/egress-policy.js';
import { BrowserfleetError, ERROR_CODES } from './errors.js';

/** An environment to read config from (`process.env` in a composition root). */
export type Env = Readonly<Record<string, string | undefined>>;

const optionalUrl = z.url().optional();

const awsSchema = {
  // Unset: the SDK resolves the region as it always does (AWS_REGION, then the profile in
  // ~/.aws/config); Lambda and Fargate set AWS_REGION. No default here that would send a
  // misconfigured process to another region's resources.
  [ENV.awsRegion]: z.string().optional(),
  [ENV.awsEndpointUrl]: optionalUrl,
  AWS_ENDPOINT_URL_DYNAMODB: optionalUrl,
  AWS_ENDPOINT_URL_SQS: optionalUrl,
  AWS_ENDPOINT_URL_S3: optionalUrl,
  AWS_ENDPOINT_URL_SECRETS_MANAGER: optionalUrl,
  AWS_ENDPOINT_URL_ECS: optionalUrl,
  [ENV.localAccessKeyId]: z
    .string()
    .regex(/^[A-Z0-9]{16,128}$/, 'must be an access key id (upper-case letters and digits)')
    .optional(),
};

const awsFrom = (e: z.output<z.ZodObject<typeof awsSchema>>) => ({
  region: e[ENV.awsRegion],
  endpoints: {
    dynamodb: e.AWS_ENDPOINT_URL_DYNAMODB ?? e[ENV.awsEndpointUrl],
    sqs: e.AWS_ENDPOINT_URL_SQS ?? e[ENV.awsEndpointUrl],
    s3: e.AWS_ENDPOINT_URL_S3 ?? e[ENV.awsEndpointUrl],
    secretsManager: e.AWS_ENDPOINT_URL_SECRETS_MANAGER ?? e[ENV.awsEndpointUrl],
    ecs: e.AWS_ENDPOINT_URL_ECS ?? e[ENV.awsEndpointUrl],
  },
  localAccessKeyId: e[ENV.localAccessKeyId],
});

/** `EGRESS_ALLOW`: destinations the browser may reach although private (e.g. fixtures). */
const egressAllow = z
  .string()
  .optional()
  .transform((value, ctx) => {
    try {
      return parseEgressAllowList(value);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message.replace(/^EGRESS_ALLOW: /, '') });
      return z.NEVER;
    }
  });

/** EMF metric lines on stdout (off in the local cloud, where nothing collects them). */
const metricsEnabled = z
  .enum(['true', 'false'])
  .default('true')
  .transform((v) => v === 'true');

/** The HMAC key of session tickets and inbox calls: the same value in every runtime. */
const ticketSecret = z.string().min(32, 'must be at least 32 characters (e.g. `openssl rand -hex 32`)');

/**
 * Where the ticket secret comes from: its value (`npm start`, tests), or on AWS the ARN of
 * its Secrets Manager secret, read at run time so a rotation reaches running processes.
 * A runtime that signs or verifies tickets needs one of the two (`TICKET_SECRET_ONE_OF`).
 */
const ticketSecretSchema = {
  [ENV.sessionTicketSecret]: ticketSecret.optional(),
  [ENV.sessionTicketSecretId]: z.string().optional(),
};

export type TicketSecretConfig =
  | { kind: 'value'; value: string }
  | { kind: 'secretsManager'; secretId: string };

const TICKET_SECRET_ONE_OF = [ENV.sessionTicketSecretId, ENV.sessionTicketSecret] as const;

const ticketSecretFrom = (e: z.output<z.ZodObject<typeof ticketSecretSchema>>) => {
  const secretId = e[ENV.sessionTicketSecretId];
  const value = e[ENV.sessionTicketSecret];
  if (secretId !== undefined) return { kind: 'secretsManager', secretId } as const;
  if (value !== undefined) return { kind: 'value', value } as const;
  return undefined;
};

/** `ticketSecretFrom` for a runtime whose schema check required one of the two. */
const requiredTicketSecret = (e: z.output<z.ZodObject<typeof ticketSecretSchema>>): TicketSecretConfig => {
  const source = ticketSecretFrom(e);
  if (source === undefined) throw new Error('unreachable: parseEnv checked TICKET_SECRET_ONE_OF');
  return source;
};

const logLevel = z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT']).default('INFO');

const engineSchema = {
  /** Lease length; heartbeats renew it. A dead worker's tasks are picked up after this. */
  [ENV.leaseMs]: z.coerce.number().int().min(1_000).max(600_000).default(30_000),
  /** Lease renewal period; also how soon a running task notices a cancel request. */
  [ENV.heartbeatMs]: z.coerce.number().int().min(100).max(300_000).optional(),
  [ENV.retryBaseMs]: z.coerce.number().int().min(0).max(900_000).default(1_000),
  /** SQS delays a message by at most 900 s. */
  [ENV.retryCapMs]: z.coerce.number().int().min(0).max(900_000).default(60_000),
  /** How often the sweeper runs in a long-lived process (local cloud). */
  [ENV.sweepIntervalMs]: z.coerce.number().int().min(100).max(3_600_000).default(15_000),
  /** A queued task whose message should have been taken this long ago gets a new one. */
  [ENV.sweepResendAfterMs]: z.coerce.number().int().min(100).max(86_400_000).default(120_000),
  /** A live session no worker has taken this long after its creation ends `NO_CAPACITY`. */
  [ENV.sessionPendingTimeoutMs]: z.coerce.number().int().min(100).max(3_600_000).default(300_000),
};

const engineFrom = (e: z.output<z.ZodObject<typeof engineSchema>>) => {
  const leaseMs = e[ENV.leaseMs];
  return {
    leaseMs,
    // Three renewals per lease: one lost write doesn't cost the lease.
    heartbeatMs: Math.min(e[ENV.heartbeatMs] ?? Math.floor(leaseMs / 3), Math.floor(leaseMs / 2)),
    backoff: { baseMs: e[ENV.retryBaseMs], capMs: e[ENV.retryCapMs] },
    sweepIntervalMs: e[ENV.sweepIntervalMs],
    sweepResendAfterMs: e[ENV.sweepResendAfterMs],
    sessionPendingTimeoutMs: e[ENV.sessionPendingTimeoutMs],
  };
};
/** The task engine's timings, shared by every runtime that runs or sweeps tasks. */
export type EngineConfig = ReturnType<typeof engineFrom>;

/** Each env var more than one runtime reads, defined once; a runtime picks what it reads. */
const FIELDS = {
  [ENV.stage]: z.string().default('dev'),
  [ENV.stateTable]: z.string(),
  [ENV.fleetQueueUrl]: z.url(),
  [ENV.lambdaQueueUrl]: z.url(),
  [ENV.webhookQueueUrl]: z.url(),
  [ENV.artifactBucket]: z.string().min(3),
  /** A Chromium binary instead of @sparticuz/chromium's (e.g. /usr/bin/chromium). */
  [ENV.chromiumPath]: z.string().optional(),
  /** Browser pages a worker runs at once. */
  [ENV.workerConcurrency]: z.coerce.number().int().min(1).max(32).default(2),
  [ENV.egressAllow]: egressAllow,
  /** `https://<api-id>.execute-api.<region>.amazonaws.com/<stage>` (or the local gateway). */
  [ENV.websocketManagementUrl]: z.url(),
  [ENV.metricsEnabled]: metricsEnabled,
  [ENV.logLevel]: logLevel,
};
type FieldName = keyof typeof FIELDS;

const fields = <K extends FieldName>(...names: K[]): Pick<typeof FIELDS, K> =>
  Object.fromEntries(names.map((name) => [name, FIELDS[name]])) as Pick<typeof FIELDS, K>;

/** What every runtime on AWS reads: where AWS is, its stage, metrics and log level. */
const runtimeSchema = { ...awsSchema, ...fields(ENV.stage, ENV.metricsEnabled, ENV.logLevel) };

const runtimeFrom = (e: z.output<z.ZodObject<typeof runtimeSchema>>) => ({
  stage: e[ENV.stage],
  aws: awsFrom(e),
  metricsEnabled: e[ENV.metricsEnabled],
  logLevel: e[ENV.logLevel],
});

/** The env vars an HTTP function's declared resources imply (`HTTP_FUNCTION_RESOURCES`). */
const httpSchemaFor = (r: FunctionResources) =>
  z.object({
    ...runtimeSchema,
    ...(r.table === undefined ? {} : fields(ENV.stateTable)),
    ...(r.fleetQueue === undefined ? {} : fields(ENV.fleetQueueUrl)),
    ...(r.lambdaQueue === undefined ? {} : fields(ENV.lambdaQueueUrl)),
    ...(r.artifacts === undefined ? {} : fields(ENV.artifactBucket)),
    ...(presignsArtifacts(r)
      ? {
          /** Presigned artifact URLs expire after this long (S3 allows up to 7 days). */
          [ENV.artifactUrlTtlSeconds]: z.coerce.number().int().min(60).max(604_800).default(3_600),
        }
      : {}),
    ...(r.acceptsTasks === undefined
      ? {}
      : {
          ...fields(ENV.egressAllow),
          /** How long an Idempotency-Key is remembered (24 h by default, as Stripe does). */
          [ENV.idempotencyTtlSeconds]: z.coerce.number().int().min(60).max(604_800).default(86_400),
        }),
    // No management API: these run in the fleet's VPC, where it can't be reached; workers
    // and the sweeper post to WebSocket clients.
    ...(r.tickets === undefined ? {} : ticketSecretSchema),
    ...(r.publicUrls?.includes('websocket') ? { [ENV.websocketPublicUrl]: publicWsUrl } : {}),
    ...(r.publicUrls?.includes('cdp') ? { [ENV.cdpPublicUrl]: publicWsUrl } : {}),
  });

const publicWsUrl = z.url({ protocol: /^wss?$/, error: 'must be a ws:// or wss:// URL' });

const presignsArtifacts = (r: FunctionResources): boolean =>
  Array.isArray(r.artifacts) && r.artifacts.length > 0;

/** What every HTTP function's config holds, whatever else it uses. */
export interface HttpBaseConfig {
  stage: string;
  aws: ReturnType<typeof awsFrom>;
  metricsEnabled: boolean;
  logLevel: z.output<typeof logLevel>;
}

/**
 * The config of a function that uses `R`: each field is there exactly when the resource
 * that needs it is declared, so a factory that reads a queue URL the function doesn't
 * declare is a type error.
 */
export type HttpFunctionConfig<R extends FunctionResources> = Readonly<
  HttpBaseConfig &
    (R extends { table: TableAccess } ? { stateTable: string } : unknown) &
    (R extends { fleetQueue: QueueAccess } ? { fleetQueueUrl: string } : unknown) &
    (R extends { lambdaQueue: QueueAccess } ? { lambdaQueueUrl: string } : unknown) &
    (R extends { artifacts: BucketAccess } ? { artifactBucket: string } : unknown) &
    (R extends { artifacts: readonly ArtifactAccessor[] } ? { artifactUrlTtlSeconds: number } : unknown) &
    (R extends { acceptsTasks: true }
      ? { egressAllow: AllowEntry[]; idempotencyTtlSeconds: number }
      : unknown) &
    (R extends { tickets: true } ? { ticketSecret: TicketSecretConfig } : unknown) &
    (R extends { publicUrls: readonly (infer U)[] }
      ? ('websocket' extends U ? { websocketPublicUrl: string } : unknown) &
          ('cdp' extends U ? { cdpPublicUrl: string } : unknown)
      : unknown)
>;

/** The config of the HTTP function `name`, from the env vars its declared resources imply. */
export type HttpConfigOf<N extends HttpFunctionName> = HttpFunctionConfig<
  (typeof HTTP_FUNCTION_RESOURCES)[N]
>;

const oneOfFor = (r: FunctionResources) => (r.tickets === undefined ? [] : [TICKET_SECRET_ONE_OF]);

/** Loads the config of the HTTP function `name` (its composition root calls this). */
export const loadHttpConfig = <N extends HttpFunctionName>(name: N, env: Env): HttpConfigOf<N> => {
  const r: FunctionResources = HTTP_FUNCTION_RESOURCES[name];
  const e = parseEnv(httpSchemaFor(r), env, { oneOf: oneOfFor(r) }) as Record<string, unknown>;
  const present = <K extends string, V>(key: K, value: V | undefined) =>
    (value === undefined ? {} : { [key]: value }) as Record<K, V>;
  const stripSlash = (url: unknown) => (typeof url === 'string' ? url.replace(/\/$/, '') : undefined);
  return Object.freeze({
    ...runtimeFrom(e as z.output<z.ZodObject<typeof runtimeSchema>>),
    ...present('stateTable', e[ENV.stateTable]),
    ...present('fleetQueueUrl', e[ENV.fleetQueueUrl]),
    ...present('lambdaQueueUrl', e[ENV.lambdaQueueUrl]),
    ...present('artifactBucket', e[ENV.artifactBucket]),
    ...present('artifactUrlTtlSeconds', e[ENV.artifactUrlTtlSeconds]),
    ...(r.acceptsTasks === undefined
      ? {}
      : { egressAllow: e[ENV.egressAllow], idempotencyTtlSeconds: e[ENV.idempotencyTtlSeconds] }),
    ...(r.tickets === undefined
      ? {}
      : { ticketSecret: requiredTicketSecret(e as z.output<z.ZodObject<typeof ticketSecretSchema>>) }),
    ...present('websocketPublicUrl', stripSlash(e[ENV.websocketPublicUrl])),
    ...present('cdpPublicUrl', stripSlash(e[ENV.cdpPublicUrl])),
  }) as unknown as HttpConfigOf<N>;
};

const mapHttpFunctions = <T>(of: (name: HttpFunctionName) => T): Record<HttpFunctionName, T> =>
  Object.fromEntries(HTTP_ROUTES.map((route) => [route.functionName, of(route.functionName)])) as Record<
    HttpFunctionName,
    T
  >;

// Pure: a bundle that never reads CONFIG_ENV_* (every function's) drops these.
const HTTP_SCHEMAS = /* @__PURE__ */ mapHttpFunctions((name) => httpSchemaFor(HTTP_FUNCTION_RESOURCES[name]));

const workerSchema = z.object({
  ...runtimeSchema,
  ...engineSchema,
  ...fields(
    ENV.stateTable,
    ENV.fleetQueueUrl,
    ENV.artifactBucket,
    ENV.chromiumPath,
    ENV.workerConcurrency,
    ENV.egressAllow,
    ENV.websocketManagementUrl,
  ),
  ...ticketSecretSchema,
  [ENV.workerId]: z.string().optional(),
  /** On SIGTERM, how long tasks in flight may run on before they are handed back. Spot gives 120 s. */
  [ENV.drainMs]: z.coerce.number().int().min(0).max(110_000).default(75_000),
  /** Port of the inbox and CDP router; 0 picks a free one (tests). */
  [ENV.workerInboxPort]: z.coerce.number().int().min(0).max(65_535).default(8090),
  /**
   * Where other parts reach this worker. Unset: on ECS the task's private IP (container/main.ts
   * asks the metadata endpoint), elsewhere 127.0.0.1.
   */
  [ENV.workerAdvertiseHost]: z.string().min(1).optional(),
  /** Live sessions hosted at once; each has its own Chromium (~150 MB idle). */
  [ENV.workerSessionSlots]: z.coerce.number().int().min(0).max(32).default(4),
  /**
   * `1`: one session browser is kept launched ahead of need, so a session of the default
   * shape goes live without waiting for Chromium (~150 MB more per worker, idle).
   */
  [ENV.sessionSpareBrowser]: z
    .enum(['0', '1'])
    .default('1')
    .transform((v) => v === '1'),
  /** On ECS: the worker's own cluster and service (see FLEET in the contracts). */
  [ENV.workerClusterName]: z.string().optional(),
  [ENV.workerServiceName]: z.string().optional(),
  [ENV.ecsAgentUri]: z.url().optional(),
  [ENV.ecsContainerMetadataUri]: z.url().optional(),
});

const ecsServiceFrom = (cluster: string | undefined, service: string | undefined) =>
  cluster === undefined || service === undefined ? undefined : { cluster, service };

export const loadWorkerConfig = (env: Env) => {
  const e = parseEnv(workerSchema, env, { oneOf: [TICKET_SECRET_ONE_OF] });
  return Object.freeze({
    ...runtimeFrom(e),
    ...engineFrom(e),
    stateTable: e[ENV.stateTable],
    fleetQueueUrl: e[ENV.fleetQueueUrl],
    artifactBucket: e[ENV.artifactBucket],
    chromiumPath: e[ENV.chromiumPath],
    workerId: e[ENV.workerId],
    concurrency: e[ENV.workerConcurrency],
    drainMs: e[ENV.drainMs],
    egressAllow: e[ENV.egressAllow],
    ticketSecret: requiredTicketSecret(e),
    websocketManagementUrl: e[ENV.websocketManagementUrl],
    inboxPort: e[ENV.workerInboxPort],
    advertiseHost: e[ENV.workerAdvertiseHost],
    sessionSlots: e[ENV.workerSessionSlots],
    sessionSpareBrowser: e[ENV.sessionSpareBrowser],
    ecsService: ecsServiceFrom(e[ENV.workerClusterName], e[ENV.workerServiceName]),
    /** On ECS only (its agent sets them): where task protection and the task's metadata live. */
    ecs: { agentUri: e[ENV.ecsAgentUri], metadataUri: e[ENV.ecsContainerMetadataUri] },
  });
};
export type WorkerConfig = ReturnType<typeof loadWorkerConfig>;

const sweeperSchema = z.object({
  ...runtimeSchema,
  ...engineSchema,
  ...fields(
    ENV.websocketManagementUrl,
    ENV.stateTable,
    ENV.fleetQueueUrl,
    ENV.lambdaQueueUrl,
    ENV.webhookQueueUrl,
  ),
});

export const loadSweeperConfig = (env: Env) => {
  const e = parseEnv(sweeperSchema, env);
  return Object.freeze({
    ...runtimeFrom(e),
    ...engineFrom(e),
    stateTable: e[ENV.stateTable],
    fleetQueueUrl: e[ENV.fleetQueueUrl],
    lambdaQueueUrl: e[ENV.lambdaQueueUrl],
    webhookQueueUrl: e[ENV.webhookQueueUrl],
    websocketManagementUrl: e[ENV.websocketManagementUrl],
  });
};
export type SweeperConfig = ReturnType<typeof loadSweeperConfig>;

const lambdaRunnerSchema = z.object({
  ...runtimeSchema,
  ...engineSchema,
  ...fields(ENV.stateTable, ENV.lambdaQueueUrl, ENV.artifactBucket, ENV.chromiumPath, ENV.egressAllow),
  /** Where @sparticuz/chromium's compressed binaries are (a Lambda layer: /opt). */
  [ENV.chromiumBinDir]: z.string().optional(),
  /** Set by Lambda: the execution environment's log stream, which names it as a worker. */
  AWS_LAMBDA_LOG_STREAM_NAME: z.string().optional(),
});

export const loadLambdaRunnerConfig = (env: Env) => {
  const e = parseEnv(lambdaRunnerSchema, env);
  return Object.freeze({
    ...runtimeFrom(e),
    ...engineFrom(e),
    stateTable: e[ENV.stateTable],
    lambdaQueueUrl: e[ENV.lambdaQueueUrl],
    artifactBucket: e[ENV.artifactBucket],
    chromiumPath: e[ENV.chromiumPath],
    chromiumBinDir: e[ENV.chromiumBinDir],
    logStreamName: e.AWS_LAMBDA_LOG_STREAM_NAME,
    egressAllow: e[ENV.egressAllow],
  });
};
export type LambdaRunnerConfig = ReturnType<typeof loadLambdaRunnerConfig>;

const webhookDelivererSchema = z.object({
  ...runtimeSchema,
  ...fields(ENV.stateTable, ENV.webhookQueueUrl, ENV.artifactBucket, ENV.egressAllow),
  [ENV.webhookDlqUrl]: z.url(),
  /** The event's task view carries artifact URLs that expire after this long. */
  [ENV.artifactUrlTtlSeconds]: z.coerce.number().int().min(60).max(604_800).default(3_600),
  [ENV.webhookRetryBaseMs]: z.coerce.number().int().min(1_000).max(900_000).default(10_000),
  /** SQS delays a message by at most 900 s. */
  [ENV.webhookRetryCapMs]: z.coerce.number().int().min(1_000).max(900_000).default(900_000),
  /** Well inside the deliverer's function timeout (WEBHOOK_DELIVERER.timeoutSeconds). */
  [ENV.webhookTimeoutMs]: z.coerce.number().int().min(100).max(30_000).default(10_000),
});

/** The webhook deliverer (`functions/sqs-deliver-webhook`). */
export const loadWebhookDelivererConfig = (env: Env) => {
  const e = parseEnv(webhookDelivererSchema, env);
  return Object.freeze({
    ...runtimeFrom(e),
    stateTable: e[ENV.stateTable],
    webhookQueueUrl: e[ENV.webhookQueueUrl],
    webhookDlqUrl: e[ENV.webhookDlqUrl],
    artifactBucket: e[ENV.artifactBucket],
    artifactUrlTtlSeconds: e[ENV.artifactUrlTtlSeconds],
    egressAllow: e[ENV.egressAllow],
    backoff: { baseMs: e[ENV.webhookRetryBaseMs], capMs: e[ENV.webhookRetryCapMs] },
    timeoutMs: e[ENV.webhookTimeoutMs],
  });
};
export type WebhookDelivererConfig = ReturnType<typeof loadWebhookDelivererConfig>;

const wsSchema = z.object({ ...runtimeSchema, ...fields(ENV.stateTable), ...ticketSecretSchema });

/** The WebSocket API's functions (`functions/ws-*`). */
export const loadWsConfig = (env: Env) => {
  const e = parseEnv(wsSchema, env, { oneOf: [TICKET_SECRET_ONE_OF] });
  return Object.freeze({
    ...runtimeFrom(e),
    stateTable: e[ENV.stateTable],
    ticketSecret: requiredTicketSecret(e),
  });
};
export type WsConfig = ReturnType<typeof loadWsConfig>;

/** A key that is obviously local, used when LOCAL_API_KEY is unset. */
export const DEFAULT_LOCAL_API_KEY = 'bf_local_dev_key_0123456789';

const localSchema = z.object({
  [ENV.port]: z.coerce.number().int().min(0).max(65_535).default(3000),
  [ENV.localApiKey]: z.string().min(16, 'must be at least 16 characters').default(DEFAULT_LOCAL_API_KEY),
  [ENV.localDataDir]: z.string().default('.data'),
  ...fields(ENV.chromiumPath, ENV.workerConcurrency, ENV.metricsEnabled, ENV.logLevel),
  /** Lambda-tier invocations the local cloud runs at once. */
  [ENV.lambdaConcurrency]: z.coerce.number().int().min(1).max(32).default(2),
  /** Unset: a random one per start (tickets from an earlier run stop working, as they should). */
  [ENV.sessionTicketSecret]: ticketSecret.optional(),
  // The fault front (local/fault-front.ts): off unless a rate is set; kinds are checked there.
  [ENV.localFaultRate]: z.coerce.number().min(0).max(1).default(0),
  [ENV.localFaultSeed]: z.coerce.number().int().min(0).max(0xffff_ffff).optional(),
  [ENV.localFaultKinds]: z
    .string()
    .optional()
    .transform((v) =>
      v
        ?.split(',')
        .map((k) => k.trim())
        .filter((k) => k !== ''),
    ),
  /** Well under a lease (30 s by default), so a slow answer is slow, not a lost lease. */
  [ENV.localFaultSlowMs]: z.coerce.number().int().min(0).max(30_000).default(400),
  /** The IAM front (local/iam-front.ts): on unless turned off. */
  [ENV.localIam]: z.enum(['on', 'off']).default('on'),
  [ENV.localIamDenialLog]: z.string().optional(),
});

export const loadLocalConfig = (env: Env) => {
  const e = parseEnv(localSchema, env);
  return Object.freeze({
    port: e[ENV.port],
    apiKey: e[ENV.localApiKey],
    dataDir: e[ENV.localDataDir],
    chromiumPath: e[ENV.chromiumPath],
    workerConcurrency: e[ENV.workerConcurrency],
    lambdaConcurrency: e[ENV.lambdaConcurrency],
    sessionTicketSecret: e[ENV.sessionTicketSecret] ?? randomBytes(32).toString('hex'),
    faults: Object.freeze({
      rate: e[ENV.localFaultRate],
      // Unset: a fresh one per start, printed, so a run that found something can be repeated.
      seed: e[ENV.localFaultSeed] ?? randomBytes(4).readUInt32BE(0),
      kinds: e[ENV.localFaultKinds],
      slowMs: e[ENV.localFaultSlowMs],
    }),
    iam: Object.freeze({ enabled: e[ENV.localIam] === 'on', denialLog: e[ENV.localIamDenialLog] }),
    metricsEnabled: e[ENV.metricsEnabled],
    logLevel: e[ENV.logLevel],
  });
};
export type LocalConfig = ReturnType<typeof loadLocalConfig>;

/**
 * `oneOf`: groups of names of which at least one must be set (reported with the schema's
 * own problems, so every problem is still reported at once).
 */
const parseEnv = <S extends z.ZodObject>(
  schema: S,
  env: Env,
  rules: { oneOf?: readonly (readonly string[])[] } = {},
): z.output<S> => {
  // Empty strings count as unset, so `FOO= npm start` means "use the default".
  const cleaned = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const missingGroups = (rules.oneOf ?? []).filter((names) => names.every((n) => cleaned[n] === undefined));
  const parsed = schema.safeParse(cleaned);
  if (parsed.success && missingGroups.length === 0) return parsed.data;
  const problems = [
    ...(parsed.success ? [] : parsed.error.issues).map(
      (issue) =>
        `  - ${issue.path.map(String).join('.')}: ${
          issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : issue.message
        }`,
    ),
    ...missingGroups.map((names) => `  - ${names.join(' or ')}: one of them is required`),
  ];
  throw new BrowserfleetError(
    ERROR_CODES.CONFIG_INVALID,
    `Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.join('\n')}`,
  );
};

/**
 * The env var names each runtime's config reads (each HTTP function's by its name), for the CDK assertion that a function is
 * given only variables its config knows.
 */
export const CONFIG_ENV_KEYS = /* @__PURE__ */ (() => ({
  ...mapHttpFunctions((name) => Object.keys(HTTP_SCHEMAS[name].shape)),
  worker: Object.keys(workerSchema.shape),
  sweeper: Object.keys(sweeperSchema.shape),
  lambdaRunner: Object.keys(lambdaRunnerSchema.shape),
  webhookDeliverer: Object.keys(webhookDelivererSchema.shape),
  ws: Object.keys(wsSchema.shape),
}))();

/** The names in `shape` whose schema refuses a missing value: no default, not optional. */
const requiredKeys = (shape: Record<string, z.ZodType>): string[] =>
  Object.entries(shape)
    .filter(([, schema]) => !schema.safeParse(undefined).success)
    .map(([name]) => name);

/**
 * What each runtime's config can't start without, for the CDK assertion that every
 * function is given what its code reads: `required` names each must be set; of each
 * `oneOf` group at least one. (AWS_REGION is set by Lambda and ECS themselves.)
 */
export const CONFIG_ENV_REQUIRED = /* @__PURE__ */ (() =>
  ({
    ...mapHttpFunctions((name) => ({
      required: requiredKeys(HTTP_SCHEMAS[name].shape),
      oneOf: oneOfFor(HTTP_FUNCTION_RESOURCES[name]),
    })),
    worker: { required: requiredKeys(workerSchema.shape), oneOf: [TICKET_SECRET_ONE_OF] },
    sweeper: { required: requiredKeys(sweeperSchema.shape), oneOf: [] },
    lambdaRunner: { required: requiredKeys(lambdaRunnerSchema.shape), oneOf: [] },
    webhookDeliverer: { required: requiredKeys(webhookDelivererSchema.shape), oneOf: [] },
    ws: { required: requiredKeys(wsSchema.shape), oneOf: [TICKET_SECRET_ONE_OF] },
  }) as const satisfies Record<
    keyof typeof CONFIG_ENV_KEYS,
    { required: string[]; oneOf: readonly (readonly string[])[] }
  >)();

/** Whether AWS endpoints point at emulators (then local placeholder credentials apply). */
export const usesLocalEndpoints = (aws: { endpoints: Record<string, string | undefined> }): boolean =>
  Object.values(aws.endpoints).some((e) => e !== undefined);
