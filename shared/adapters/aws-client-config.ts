/**
 * How every AWS SDK client is configured, whichever service it is for. A service with an
 * endpoint (the local cloud's emulators, or LocalStack) is reached there with placeholder
 * credentials; without one, the SDK's default credential chain, region resolution (unless
 * a region is given) and regional endpoints apply. No SDK import here: each service's
 * client has its own module (`dynamodb-client.ts`, …), so a function bundles only the
 * clients it builds (esbuild bundles the SDK's CommonJS build, which can't be tree-shaken).
 */

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

/** The SDK client options for one service: its endpoint and placeholder key when emulated. */
export const clientConfig = (
  region: string | undefined,
  endpoint: string | undefined,
  accessKeyId = 'S3RVER',
) =>
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
