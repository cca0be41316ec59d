/**
 * One way to make a Lambda function from `functions/<name>.ts`: Node 22 on arm64, bundled
 * locally by esbuild (a devDependency, so no Docker) as ESM, with its own log group and a
 * role that may write to it and nothing else until the wiring helpers grant more.
 */
import { join } from 'node:path';
import { type Duration, type RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { ISecurityGroup, IVpc, SubnetSelection } from 'aws-cdk-lib/aws-ec2';
import { Effect, PolicyDocument, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, type ILayerVersion, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { REPO_ROOT } from './repo-root.js';
import type { Stage } from './stage.js';

export interface NodeFunctionProps {
  readonly stage: Stage;
  readonly timeout: Duration;
  /** Of the log group. */
  readonly removalPolicy: RemovalPolicy;
  /** Retries of an asynchronous invocation (Lambda's default is 2). */
  readonly retryAttempts?: number;
  /** Default arm64; x86_64 where Chromium runs (the @sparticuz/chromium build here is x86-64). */
  readonly architecture?: Architecture;
  /** Default 512 MB. */
  readonly memorySize?: number;
  readonly layers?: ILayerVersion[];
  /**
   * Files the function reads from disk at run time, copied beside its bundle: `from` is a
   * path under node_modules, `to` the file name beside `index.mjs`.
   */
  readonly files?: readonly { readonly from: string; readonly to: string }[];
  /** For functions that call a worker's inbox (private addresses in the fleet's VPC). */
  readonly network?: { vpc: IVpc; subnets: SubnetSelection; securityGroup: ISecurityGroup };
}

/**
 * The EC2 actions Lambda calls with a VPC function's execution role to create, find and
 * delete its network interfaces: AWSLambdaVPCAccessExecutionRole's, minus its `logs:*` on
 * every log group. CreateFunction refuses a VPC function whose role lacks them.
 */
export const VPC_NETWORK_INTERFACE_ACTIONS = [
  'ec2:CreateNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:DeleteNetworkInterface',
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
] as const;

const vpcNetworkInterfaces = (): PolicyDocument =>
  new PolicyDocument({
    statements: [
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: [...VPC_NETWORK_INTERFACE_ACTIONS],
        resources: ['*'],
      }),
    ],
  });

/** The deployed name of the function from `functions/<name>.ts`: known before deployment. */
export const deployedFunctionName = (stage: Stage, name: string): string => `browserfleet-${stage}-${name}`;

/** `name` is the entry file's name in `functions/`, and the deployed name's suffix. */
export const nodeFunction = (scope: Construct, name: string, props: NodeFunctionProps): NodejsFunction => {
  const logGroup = new LogGroup(scope, `Logs-${name}`, {
    retention: RetentionDays.ONE_MONTH,
    removalPolicy: props.removalPolicy,
  });
  // Our own role instead of the default one with the AWSLambdaBasicExecutionRole managed
  // policy: it may write to this function's log group, not to every log group. aws-cdk-lib
  // adds the VPC permissions only to roles it creates, so a function in the VPC gets them
  // here, inline in the role (there from the role's creation, before CreateFunction checks
  // them), rather than as AWSLambdaVPCAccessExecutionRole, which also grants writes to
  // every log group.
  const role = new Role(scope, `Role-${name}`, {
    assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
    ...(props.network === undefined
      ? {}
      : { inlinePolicies: { VpcNetworkInterfaces: vpcNetworkInterfaces() } }),
  });
  logGroup.grantWrite(role);
  const fn = new NodejsFunction(scope, `Fn-${name}`, {
    functionName: deployedFunctionName(props.stage, name),
    entry: join(REPO_ROOT, 'functions', `${name}.ts`),
    handler: 'handler',
    projectRoot: REPO_ROOT,
    depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
    runtime: Runtime.NODEJS_22_X,
    architecture: props.architecture ?? Architecture.ARM_64,
    memorySize: props.memorySize ?? 512,
    ...(props.layers === undefined ? {} : { layers: props.layers }),
    timeout: props.timeout,
    ...(props.retryAttempts === undefined ? {} : { retryAttempts: props.retryAttempts }),
    ...(props.network === undefined
      ? {}
      : {
          vpc: props.network.vpc,
          vpcSubnets: props.network.subnets,
          // The created VPC has public subnets only; the function reaches AWS through its
          // endpoints (a Lambda ENI never has a public IP).
          allowPublicSubnet: true,
          securityGroups: [props.network.securityGroup],
        }),
    role,
    logGroup,
    // Stack traces name functions/ and shared/ lines, not the minified bundle's.
    environment: { NODE_OPTIONS: '--enable-source-maps' },
    bundling: {
      format: OutputFormat.ESM,
      target: 'node22',
      mainFields: ['module', 'main'],
      // Bundled CommonJS dependencies call require(); ESM has none until we make one.
      banner: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
      // The SDK is bundled too: the function then runs the SDK versions the tests ran,
      // not whichever copy the Lambda runtime carries.
      externalModules: [],
      minify: true,
      sourceMap: true,
      sourcesContent: false,
      ...(props.files === undefined || props.files.length === 0
        ? {}
        : {
            commandHooks: {
              beforeBundling: () => [],
              beforeInstall: () => [],
              afterBundling: (inputDir: string, outputDir: string) =>
                (props.files ?? []).map(
                  (file) => `cp "${join(inputDir, 'node_modules', file.from)}" "${join(outputDir, file.to)}"`,
                ),
            },
          }),
    },
  });
  if (props.network !== undefined) {
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'The network-interface actions Lambda takes to put the function in the VPC (those of ' +
        'AWSLambdaVPCAccessExecutionRole, without its logs grant); the Describe actions accept only "*".',
    });
  }
  Validations.of(fn).acknowledge({
    id: 'AwsSolutions-L1',
    reason:
      'Pinned to nodejs22.x on purpose: the toolchain, the local cloud and the fleet image all run Node 22; ' +
      'the runtime moves with them, in one change.',
  });
  return fn;
};
