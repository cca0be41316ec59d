/**
 * The fleet: Fargate tasks running `container/main.ts`, each with its own Chromium and N
 * browser slots, pulling from the fleet queue. Mostly Spot, with one on-demand task as a
 * floor that a Spot reclaim can't take away.
 */
import {
  CfnOutput,
  Duration,
  IgnoreMode,
  RemovalPolicy,
  Stack,
  type StackProps,
  Validations,
} from 'aws-cdk-lib';
import { AdjustmentType, MetricAggregationType } from 'aws-cdk-lib/aws-applicationautoscaling';
import { MathExpression } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import {
  FlowLogDestination,
  FlowLogTrafficType,
  GatewayVpcEndpointAwsService,
  SecurityGroup,
  SubnetType,
  Vpc,
} from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import {
  Cluster,
  ContainerImage,
  ContainerInsights,
  CpuArchitecture,
  FargateService,
  FargateTaskDefinition,
  LinuxParameters,
  LogDrivers,
  OperatingSystemFamily,
} from 'aws-cdk-lib/aws-ecs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { ENV } from '../shared/contracts.js';
import { acknowledgeArtifactObjectGrants, importArtifactBucket } from './artifact-bucket.js';
import { REPO_ROOT } from './repo-root.js';
import type { Stage } from './stage.js';
import { containerConsumer, wireBucket, wireQueue, wireTable } from './wiring.js';

/**
 * Browser pages one worker runs at once. Measured on 2 cores: ~10.7 tasks/s with 4 pages
 * on one browser at ~150 MB, so 4 slots fit 2 vCPU / 4 GB with headroom for heavy pages.
 */
const WORKER_CONCURRENCY = 4;

/**
 * What goes into the image's build context: only what the Dockerfile copies. An allowlist
 * (Docker ignore syntax), so node_modules, .data, cdk.out and .git never reach the asset
 * hash or the build, and a new top-level folder doesn't either until it is wanted.
 * `functions/` stays out: the worker must not import it.
 */
const IMAGE_CONTEXT_EXCLUDE = [
  '*',
  '!package.json',
  '!package-lock.json',
  '!tsconfig.json',
  '!shared',
  '!container',
];

/** ECS gives a stopping container this long between SIGTERM and SIGKILL; 120 s is Fargate's maximum and a Spot reclaim's notice. */
const STOP_TIMEOUT = Duration.seconds(120);

export interface FleetStackProps extends StackProps {
  readonly stage: Stage;
  readonly table: ITable;
  readonly fleetQueue: IQueue;
  readonly lambdaQueue: IQueue;
}

export class FleetStack extends Stack {
  readonly service: FargateService;

  constructor(scope: Construct, id: string, props: FleetStackProps) {
    super(scope, id, props);
    const { stage } = props;
    const removalPolicy = stage === 'prod' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    // Public subnets only, no NAT gateway: workers need egress to the web (that is their
    // job) and accept no inbound traffic, so a public IP behind an ingress-free security
    // group costs nothing and saves a NAT gateway per AZ. S3 and DynamoDB traffic stays on
    // the free gateway endpoints.
    const vpc = new Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'public', subnetType: SubnetType.PUBLIC, cidrMask: 20 }],
      gatewayEndpoints: {
        s3: { service: GatewayVpcEndpointAwsService.S3 },
        dynamodb: { service: GatewayVpcEndpointAwsService.DYNAMODB },
      },
      flowLogs: {
        all: {
          destination: FlowLogDestination.toCloudWatchLogs(
            new LogGroup(this, 'FlowLogs', { retention: RetentionDays.ONE_MONTH, removalPolicy }),
          ),
          trafficType: FlowLogTrafficType.ALL,
        },
      },
    });

    const cluster = new Cluster(this, 'Cluster', {
      vpc,
      enableFargateCapacityProviders: true,
      containerInsightsV2: ContainerInsights.ENABLED,
    });

    const taskDefinition = new FargateTaskDefinition(this, 'WorkerTask', {
      cpu: 2048,
      memoryLimitMiB: 4096,
      // Not ARM64: the @sparticuz/chromium binary is x86-64 only.
      runtimePlatform: {
        cpuArchitecture: CpuArchitecture.X86_64,
        operatingSystemFamily: OperatingSystemFamily.LINUX,
      },
    });
    const container = taskDefinition.addContainer('worker', {
      image: ContainerImage.fromAsset(REPO_ROOT, {
        file: 'container/Dockerfile',
        platform: Platform.LINUX_AMD64,
        ignoreMode: IgnoreMode.DOCKER,
        exclude: IMAGE_CONTEXT_EXCLUDE,
      }),
      logging: LogDrivers.awsLogs({
        streamPrefix: 'worker',
        logGroup: new LogGroup(this, 'WorkerLogs', { retention: RetentionDays.ONE_MONTH, removalPolicy }),
      }),
      stopTimeout: STOP_TIMEOUT,
      // An init process as PID 1 reaps Chromium's orphaned children, which node would not.
      linuxParameters: new LinuxParameters(this, 'WorkerLinuxParameters', { initProcessEnabled: true }),
      // The worker process is alive. Exec form, so no shell whose command line would match too.
      healthCheck: {
        command: ['CMD', 'pgrep', '-f', '^node .*worker[.]mjs'],
        interval: Duration.seconds(30),
        timeout: Duration.seconds(5),
        retries: 3,
        startPeriod: Duration.seconds(30),
      },
    });
    const worker = containerConsumer(container, taskDefinition.taskRole);
    // Set explicitly rather than trusting the platform: the config falls back to us-east-1.
    worker.addEnvironment(ENV.awsRegion, this.region);
    worker.addEnvironment(ENV.workerConcurrency, String(WORKER_CONCURRENCY));
    worker.addEnvironment(ENV.logLevel, stage === 'prod' ? 'INFO' : 'DEBUG');
    wireTable(worker, props.table, 'readWrite');
    wireQueue(worker, props.fleetQueue, 'run');
    wireQueue(worker, props.lambdaQueue, 'urlOnly', ENV.lambdaQueueUrl);
    wireBucket(worker, importArtifactBucket(this, stage), 'putArtifacts');
    acknowledgeArtifactObjectGrants(this, stage);
    Validations.of(taskDefinition.obtainExecutionRole()).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'CDK grants the execution role ecr:GetAuthorizationToken, which IAM only accepts on "*"; ' +
        'image pulls themselves are scoped to the asset repository.',
    });
    Validations.of(taskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason:
        'The environment holds resource names, a queue URL and tuning knobs, no secrets; ' +
        'the worker reads no credentials from its environment (it uses the task role).',
    });

    // Egress only: nothing connects to a worker.
    const securityGroup = new SecurityGroup(this, 'WorkerSecurityGroup', {
      vpc,
      description: 'browserfleet workers: egress only',
      allowAllOutbound: true,
    });

    this.service = new FargateService(this, 'WorkerService', {
      cluster,
      taskDefinition,
      vpcSubnets: { subnetType: SubnetType.PUBLIC },
      assignPublicIp: true,
      securityGroups: [securityGroup],
      // The first task is on-demand, so the fleet never drops to zero when Spot capacity
      // is reclaimed; every task beyond it is Spot (up to ~70% cheaper, 2 min notice).
      capacityProviderStrategies: [
        { capacityProvider: 'FARGATE', base: 1, weight: 0 },
        { capacityProvider: 'FARGATE_SPOT', weight: 1 },
      ],
      // Deployments start new workers before old ones drain, and roll back if they don't start.
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { rollback: true },
    });

    // Scale on the backlog: messages waiting plus messages being worked on. Out when it is
    // more than two workers' worth of slots; in, one task at a time, only when it is empty,
    // so a busy worker is not stopped while work is in flight.
    const scaling = this.service.autoScaleTaskCount({
      minCapacity: 1,
      maxCapacity: stage === 'prod' ? 20 : 4,
    });
    const backlog = new MathExpression({
      label: 'Fleet backlog (visible + in flight)',
      expression: 'visible + inFlight',
      period: Duration.minutes(1),
      usingMetrics: {
        visible: props.fleetQueue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(1),
          statistic: 'Maximum',
        }),
        inFlight: props.fleetQueue.metricApproximateNumberOfMessagesNotVisible({
          period: Duration.minutes(1),
          statistic: 'Maximum',
        }),
      },
    });
    scaling.scaleOnMetric('ScaleOnBacklog', {
      metric: backlog,
      adjustmentType: AdjustmentType.CHANGE_IN_CAPACITY,
      metricAggregationType: MetricAggregationType.MAXIMUM,
      scalingSteps: [
        { upper: 0, change: -1 },
        { lower: 2 * WORKER_CONCURRENCY, change: +1 },
        { lower: 10 * WORKER_CONCURRENCY, change: +3 },
      ],
      // A new task needs a minute or two to pull the image and start Chromium.
      cooldown: Duration.minutes(2),
      evaluationPeriods: 3,
    });

    new CfnOutput(this, 'ClusterName', { value: cluster.clusterName });
    new CfnOutput(this, 'WorkerServiceName', { value: this.service.serviceName });
  }
}
