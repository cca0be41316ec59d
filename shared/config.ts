/**
 * The one config module. Each runtime (HTTP functions, worker, local cloud) has a zod
 * schema over the environment; empty strings count as unset, every problem is reported at
 * once, and the result is frozen. Only composition roots call these, with `process.env`.
 */
import { z } from 'zod';
import { ENV } from './contracts.js';
import { BrowserfleetError, ERROR_CODES } from './errors.js';

type Env = Readonly<Record<string, string | undefined>>;

const optionalUrl = z.url().optional();

const awsSchema = {
  [ENV.awsRegion]: z.string().default('us-east-1'),
  [ENV.awsEndpointUrl]: optionalUrl,
  AWS_ENDPOINT_URL_DYNAMODB: optionalUrl,
  AWS_ENDPOINT_URL_SQS: optionalUrl,
  AWS_ENDPOINT_URL_S3: optionalUrl,
};

const awsFrom = (e: z.output<z.ZodObject<typeof awsSchema>>) => ({
  region: e[ENV.awsRegion],
  endpoints: {
    dynamodb: e.AWS_ENDPOINT_URL_DYNAMODB ?? e[ENV.awsEndpointUrl],
    sqs: e.AWS_ENDPOINT_URL_SQS ?? e[ENV.awsEndpointUrl],
    s3: e.AWS_ENDPOINT_URL_S3 ?? e[ENV.awsEndpointUrl],
  },
});

const logLevel = z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT']).default('INFO');

const httpSchema = z.object({
  ...awsSchema,
  [ENV.stage]: z.string().default('dev'),
  [ENV.stateTable]: z.string(),
  [ENV.fleetQueueUrl]: z.url(),
  [ENV.artifactBucket]: z.string().min(3),
  /** Presigned artifact URLs expire after this long (S3 allows up to 7 days). */
  [ENV.artifactUrlTtlSeconds]: z.coerce.number().int().min(60).max(604_800).default(3_600),
  [ENV.apiKey]: z.string().min(16, 'must be at least 16 characters'),
  [ENV.logLevel]: logLevel,
});

export const loadHttpConfig = (env: Env) => {
  const e = parseEnv(httpSchema, env);
  return Object.freeze({
    stage: e[ENV.stage],
    aws: awsFrom(e),
    stateTable: e[ENV.stateTable],
    fleetQueueUrl: e[ENV.fleetQueueUrl],
    artifactBucket: e[ENV.artifactBucket],
    artifactUrlTtlSeconds: e[ENV.artifactUrlTtlSeconds],
    apiKey: e[ENV.apiKey],
    logLevel: e[ENV.logLevel],
  });
};
export type HttpConfig = ReturnType<typeof loadHttpConfig>;

const workerSchema = z.object({
  ...awsSchema,
  [ENV.stateTable]: z.string(),
  [ENV.fleetQueueUrl]: z.url(),
  [ENV.artifactBucket]: z.string().min(3),
  [ENV.chromiumPath]: z.string().optional(),
  [ENV.workerId]: z.string().optional(),
  /** Browser pages this worker runs at once. */
  [ENV.workerConcurrency]: z.coerce.number().int().min(1).max(32).default(2),
  /** Lease slack beyond a task's own timeout: time to store the artifact and complete. */
  [ENV.leaseMs]: z.coerce.number().int().min(1_000).max(600_000).default(30_000),
  [ENV.logLevel]: logLevel,
});

export const loadWorkerConfig = (env: Env) => {
  const e = parseEnv(workerSchema, env);
  return Object.freeze({
    aws: awsFrom(e),
    stateTable: e[ENV.stateTable],
    fleetQueueUrl: e[ENV.fleetQueueUrl],
    artifactBucket: e[ENV.artifactBucket],
    chromiumPath: e[ENV.chromiumPath],
    workerId: e[ENV.workerId],
    concurrency: e[ENV.workerConcurrency],
    leaseGraceMs: e[ENV.leaseMs],
    logLevel: e[ENV.logLevel],
  });
};
export type WorkerConfig = ReturnType<typeof loadWorkerConfig>;

/** A key that is obviously local, used when LOCAL_API_KEY is unset. */
export const DEFAULT_LOCAL_API_KEY = 'bf_local_dev_key_0123456789';

const localSchema = z.object({
  [ENV.port]: z.coerce.number().int().min(0).max(65_535).default(3000),
  [ENV.localApiKey]: z.string().min(16, 'must be at least 16 characters').default(DEFAULT_LOCAL_API_KEY),
  [ENV.localDataDir]: z.string().default('.data'),
  [ENV.chromiumPath]: z.string().optional(),
  [ENV.workerConcurrency]: z.coerce.number().int().min(1).max(32).default(2),
  [ENV.logLevel]: logLevel,
});

export const loadLocalConfig = (env: Env) => {
  const e = parseEnv(localSchema, env);
  return Object.freeze({
    port: e[ENV.port],
    apiKey: e[ENV.localApiKey],
    dataDir: e[ENV.localDataDir],
    chromiumPath: e[ENV.chromiumPath],
    workerConcurrency: e[ENV.workerConcurrency],
    logLevel: e[ENV.logLevel],
  });
};
export type LocalConfig = ReturnType<typeof loadLocalConfig>;

const parseEnv = <S extends z.ZodObject>(schema: S, env: Env): z.output<S> => {
  // Empty strings count as unset, so `FOO= npm start` means "use the default".
  const cleaned = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const parsed = schema.safeParse(cleaned);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map(
    (issue) =>
      `  - ${issue.path.map(String).join('.')}: ${
        issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : issue.message
      }`,
  );
  throw new BrowserfleetError(
    ERROR_CODES.CONFIG_INVALID,
    `Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.join('\n')}`,
  );
};
