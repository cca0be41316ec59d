/**
 * The AWS services under the local cloud: the embedded emulators (or LocalStack), then the
 * fronts the platform's parts reach them through — the IAM front that judges each call by
 * the caller's role, and the fault front that fails calls as AWS does under pressure.
 */
import { join } from 'node:path';
import type { LocalConfig } from '../shared/config.js';
import { type Emulator, startDynamoDbLocal, startS3, startSqs } from './emulators.js';
import { type FaultFronts, type ServiceEndpoints, startFaultFronts } from './fault-front.js';
import { createIamFront, type IamFront } from './iam-front.js';
import { localizePolicies, type RolePolicySet } from './iam-policies.js';
import type { StopStack } from './stop-stack.js';
import { loadRolePolicies } from './synthesized-policies.js';

/**
 * The emulators on these ports, keeping their data under `dataDir`; or, with `awsEndpoint`
 * (LocalStack, any AWS-compatible endpoint), nothing to start. Answers where they listen.
 */
export const startEmulators = async (
  options: {
    awsEndpoint?: string | undefined;
    dataDir: string;
    ports: Record<keyof ServiceEndpoints, number>;
  },
  stops: StopStack,
): Promise<ServiceEndpoints> => {
  if (options.awsEndpoint !== undefined) {
    return { dynamodb: options.awsEndpoint, sqs: options.awsEndpoint, s3: options.awsEndpoint };
  }
  const { ports, dataDir } = options;
  const started = await Promise.allSettled([
    startDynamoDbLocal({ port: ports.dynamodb, dataDir: join(dataDir, 'dynamodb') }),
    startSqs({ port: ports.sqs }),
    startS3({ port: ports.s3, dataDir: join(dataDir, 's3') }),
  ]);
  // Those that did start are stopped with the rest if one didn't (then the start fails).
  for (const r of started) if (r.status === 'fulfilled') stops.push(() => r.value.stop());
  const failed = started.find((r) => r.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
  const emulators = started.map((r) => (r as PromiseFulfilledResult<Emulator>).value);
  const [dynamodb, sqs, s3] = emulators.map((e) => e.endpoint) as [string, string, string];
  return { dynamodb, sqs, s3 };
};

export interface Fronts {
  /** Where the platform's parts send their calls: the fronts', when any runs. */
  endpoints: ServiceEndpoints;
  /** The IAM front, unless it is off. */
  iam: IamFront | undefined;
  /** The fault front, when faults are asked for (it also carries the IAM front's checks). */
  faults: FaultFronts | undefined;
}

/**
 * The fronts between the parts and the emulators. Each part signs with its own role's key
 * (`accessKeyFor`), and the IAM front judges it by that role's policies: those of the
 * synthesized app for `stage`, or `iamPolicies` (tests).
 */
export const startFronts = async (
  options: {
    emulators: ServiceEndpoints;
    stage: string;
    iam: LocalConfig['iam'];
    faults: LocalConfig['faults'];
    iamPolicies?: RolePolicySet | undefined;
  },
  stops: StopStack,
): Promise<Fronts> => {
  const iam = options.iam.enabled
    ? createIamFront({
        policies: await localizePolicies(options.iamPolicies ?? (await loadRolePolicies()), options.stage),
        denialLog: options.iam.denialLog,
      })
    : undefined;
  let fronts: FaultFronts | undefined;
  if (options.faults.rate > 0 || iam !== undefined) {
    fronts = await startFaultFronts(options.emulators, options.faults, iam?.admit);
    stops.push(async () => fronts?.stop());
  }
  return {
    endpoints: fronts?.endpoints ?? options.emulators,
    iam,
    faults: options.faults.rate > 0 ? fronts : undefined,
  };
};
