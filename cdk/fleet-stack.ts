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
import type { WebSocketStage } from 'aws-cdk-lib/aws-apigatewayv2';
import type { ICertificate } from 'aws-cdk-lib/aws-certificatemanager';
import { Metric } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { type ISecurityGroup, Peer, Port, SecurityGroup } from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import {
  CfnClusterCapacityProviderAssociations,
  Cluster,
  ContainerImage,
  ContainerInsights,
  CpuArchitecture,
  FargateService,
  FargateTaskDefinition,
  LinuxParameters,
  LogDrivers,
  OperatingSystemFamily,
  Protocol,
} from 'aws-cdk-lib/aws-ecs';
import {
  ApplicationLoadBalancer,
  ApplicationProtocol,
  type ApplicationTargetGroup,
  ListenerAction,
  ListenerCondition,
  SslPolicy,
} from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import {
  CDP_ROUTE,
  ENV,
  FLEET,
  METRIC_DIMENSIONS,
  METRICS,
  PLAYWRIGHT_ROUTE,
  SESSIONS,
} from '../shared/contracts.js';
import { importArtifactBucket } from './artifact-bucket.js';
import type { FleetNetwork } from './network-stack.js';
import { REPO_ROOT } from './repo-root.js';
import { webSocketStageName } from './sessions-stack.js';
import type { Stage } from './stage.js';
import { clusterAsICluster } from './upcasts.js';
import {
  containerConsumer,
  grantPostToConnections,
  wireBucket,
  wireQueue,
  wireTable,
  wireTicketSecret,
} from './wiring.js';

/**
 * Browser pages one worker runs at once. Measured on 2 cores: ~10.7 tasks/s with 4 pages
 * on one browser at ~150 MB, so 4 slots fit 2 vCPU / 4 GB with headroom for heavy pages.
 */
const WORKER_CONCURRENCY = 4;

/** Live sessions per worker: each has its own Chromium (~150 MB idle, more when busy). */
const WORKER_SESSION_SLOTS = 4;
/**
 * The fleet's average share of slots at work that autoscaling keeps it near: headroom for a
 * burst while a new task starts (a minute or two), without paying for idle workers.
 */
export const FLEET_TARGET_UTILIZATION = 60;

/**
 * CDP connections are long-lived WebSockets: the load balancer keeps an idle one open an
 * hour (its maximum is 4000 s); the session's own idle timeout usually ends it first.
 */
const CDP_IDLE_TIMEOUT = Duration.hours(1);

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

/** The Fargate capacity providers the service's strategy spreads its tasks over. */
const FLEET_CAPACITY_PROVIDERS = ['FARGATE', 'FARGATE_SPOT'] as const;

/** ECS gives a stopping container this long between SIGTERM and SIGKILL; 120 s is Fargate's maximum and a Spot reclaim's notice. */
const STOP_TIMEOUT = Duration.seconds(120);

export interface FleetStackProps extends StackProps {
  readonly stage: Stage;
  readonly table: ITable;
  readonly fleetQueue: IQueue;
  readonly lambdaQueue: IQueue;
  readonly network: FleetNetwork;
  /** Functions allowed to call a worker's inbox. */
  readonly inboxCallers: ISecurityGroup;
  readonly ticketSecret: ISecret;
  /** The WebSocket API stage the worker posts session results and events to. */
  readonly webSocketStage: WebSocketStage;
  /**
   * TLS for CDP: the load balancer listens on 443 with this certificate and `cdpUrl` is
   * `wss://<domainName>` (point the name at the `CdpLoadBalancerDns` output). Without it,
   * plain `ws://` on 80.
   */
  readonly cdpTls?: { readonly certificate: ICertificate; readonly domainName: string };
}

export class FleetStack extends Stack {
  readonly service: FargateService;
  /** `ws://<load balancer>`: the CDP router's public base URL. */
  readonly cdpPublicUrl: string;
  /** The workers behind the CDP load balancer (its unhealthy-host alarm reads it). */
  readonly cdpTargetGroup: ApplicationTargetGroup;

  constructor(scope: Construct, id: string, props: FleetStackProps) {
    super(scope, id, props);
    const { stage } = props;
    const removalPolicy = stage === 'prod' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    const { vpc } = props.network;

    // Named, so grants on its tasks (scale-in protection) can say which cluster.
    const clusterName = FLEET.clusterName(stage);
    const cluster = new Cluster(this, 'Cluster', {
      clusterName,
      vpc,
      containerInsightsV2: ContainerInsights.ENABLED,
    });
    // The capacity providers the service's strategy names, associated here rather than with
    // `enableFargateCapacityProviders`, whose association CDK adds in an aspect during
    // synthesis, where nothing can depend on it. The service must: else CloudFormation may
    // create it before the association (refused: provider not associated), and `cdk destroy`
    // removes the association while the service still runs on it (refused: in use).
    const capacityProviders = new CfnClusterCapacityProviderAssociations(this, 'CapacityProviders', {
      cluster: cluster.clusterName,
      capacityProviders: [...FLEET_CAPACITY_PROVIDERS],
      defaultCapacityProviderStrategy: [],
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
      // The inbox (from the session functions) and the CDP router (from the load balancer).
      portMappings: [{ containerPort: SESSIONS.inboxPort, protocol: Protocol.TCP }],
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
    // Fargate sets AWS_REGION too; said here so the worker's region is visibly the stack's.
    worker.addEnvironment(ENV.awsRegion, this.region);
    // Its metrics carry the stage, which the session-slot scaling below reads by.
    worker.addEnvironment(ENV.stage, stage);
    worker.addEnvironment(ENV.workerConcurrency, String(WORKER_CONCURRENCY));
    worker.addEnvironment(ENV.logLevel, stage === 'prod' ? 'INFO' : 'DEBUG');
    worker.addEnvironment(ENV.workerInboxPort, String(SESSIONS.inboxPort));
    worker.addEnvironment(ENV.workerSessionSlots, String(WORKER_SESSION_SLOTS));
    // WORKER_ADVERTISE_HOST is the task's private IP, read from the ECS metadata at start.
    worker.addEnvironment(ENV.websocketManagementUrl, props.webSocketStage.callbackUrl);
    grantPostToConnections(webSocketStageName(stage), taskDefinition.taskRole);
    // ECS task scale-in protection while sessions are hosted (the agent calls it with this role).
    taskDefinition.taskRole.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['ecs:UpdateTaskProtection', 'ecs:GetTaskProtection'],
        resources: [this.formatArn({ service: 'ecs', resource: 'task', resourceName: `${clusterName}/*` })],
      }),
    );
    // Its own service, to learn that a deployment superseded it (container/deployment-watch.ts).
    worker.addEnvironment(ENV.workerClusterName, clusterName);
    worker.addEnvironment(ENV.workerServiceName, FLEET.serviceName(stage));
    taskDefinition.taskRole.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['ecs:DescribeServices'],
        resources: [
          this.formatArn({
            service: 'ecs',
            resource: 'service',
            resourceName: `${clusterName}/${FLEET.serviceName(stage)}`,
          }),
        ],
      }),
    );
    Validations.of(taskDefinition.taskRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:task/${clusterName}/*]`,
      reason:
        "Task ids exist only at run time; the grant covers this cluster's tasks and the protection actions only.",
    });
    // Read at run time (cached), so a rotation reaches running workers, not only new ones.
    wireTicketSecret(worker, props.ticketSecret);
    wireTable(worker, props.table, 'readWrite');
    wireQueue(worker, props.fleetQueue, 'run');
    // Task artifacts, and the screenshots of the live sessions it hosts (put, then presigned).
    wireBucket(worker, importArtifactBucket(this, stage), ['taskRunner', 'sessionHost']);
    Validations.of(taskDefinition.obtainExecutionRole()).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'CDK grants the execution role ecr:GetAuthorizationToken, which IAM only accepts on "*"; ' +
        'image pulls themselves are scoped to the asset repository.',
    });
    Validations.of(taskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason:
        'The environment holds resource names, a queue URL and tuning knobs; the one secret (the ' +
        'session ticket key) is read from Secrets Manager at run time, by the ARN in the environment.',
    });

    // Inbound only on the inbox port, only from the session functions and the CDP load balancer.
    const securityGroup = new SecurityGroup(this, 'WorkerSecurityGroup', {
      vpc,
      description: 'browserfleet workers: inbox and CDP from inside only',
      allowAllOutbound: true,
    });
    securityGroup.addIngressRule(props.inboxCallers, Port.tcp(SESSIONS.inboxPort), 'session inbox calls');
    // Workers route a CDP client to the worker that hosts its session.
    securityGroup.addIngressRule(securityGroup, Port.tcp(SESSIONS.inboxPort), 'CDP routed between workers');

    this.service = new FargateService(this, 'WorkerService', {
      cluster: clusterAsICluster(cluster),
      taskDefinition,
      vpcSubnets: props.network.workerSubnets,
      assignPublicIp: props.network.workerPublicIp,
      securityGroups: [securityGroup],
      // The first task is on-demand, so the fleet never drops to zero when Spot capacity
      // is reclaimed; every task beyond it is Spot (up to ~70% cheaper, 2 min notice).
      capacityProviderStrategies: [
        { capacityProvider: 'FARGATE', base: 1, weight: 0 },
        { capacityProvider: 'FARGATE_SPOT', weight: 1 },
      ],
      // Named, so its own workers can be told which service to watch for a deployment.
      serviceName: FLEET.serviceName(stage),
      // Deployments start new workers before old ones drain, and roll back if they don't
      // start. A protected old worker lets go at most SUPERSEDED_GRACE_MS after it sees the
      // new deployment, so a rollout waits minutes for it, not a session's hours.
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { rollback: true },
    });
    this.service.node.addDependency(capacityProviders);

    // One scaling policy, on the one signal that sees work in flight: messages are deleted
    // at claim, so the queue empties while workers are busy, and scaling in on an empty queue
    // stopped busy workers. Each worker reports the share of its slots at work (tasks plus
    // sessions); target tracking keeps the fleet's average near the target, out quickly, in
    // slowly. A queue backlog only builds once every slot is busy, so it shows as 100%.
    const scaling = this.service.autoScaleTaskCount({
      minCapacity: 1,
      maxCapacity: stage === 'prod' ? 20 : 4,
    });
    scaling.scaleToTrackCustomMetric('ScaleOnUtilization', {
      // This stage's workers only: another stage's in the same account must not scale this one.
      metric: new Metric({
        namespace: METRICS.namespace,
        metricName: METRICS.workerUtilization,
        dimensionsMap: { [METRIC_DIMENSIONS.stage]: stage },
        statistic: 'Average',
        period: Duration.minutes(1),
      }),
      targetValue: FLEET_TARGET_UTILIZATION,
      // A new task needs a minute or two to pull the image and start Chromium.
      scaleOutCooldown: Duration.minutes(2),
      scaleInCooldown: Duration.minutes(5),
    });
    // Scale-in stops only idle workers: a busy one holds ECS task protection, which it drops
    // after a minute idle or once a deployment superseded it (container/task-protection.ts).

    // The CDP router: CDP can't go through API Gateway (frame and message limits), so a load
    // balancer sends each CDP client to a worker; the worker checks the ticket and bridges to
    // the session's browser, here or on the worker that hosts it.
    const albSecurityGroup = new SecurityGroup(this, 'CdpLoadBalancerSecurityGroup', {
      vpc,
      description: 'browserfleet CDP load balancer',
      allowAllOutbound: false,
    });
    albSecurityGroup.addIngressRule(
      Peer.anyIpv4(),
      Port.tcp(props.cdpTls === undefined ? 80 : 443),
      'CDP clients (puppeteer.connect), ticket-checked',
    );
    Validations.of(albSecurityGroup).acknowledge({
      id: 'AwsSolutions-EC23',
      reason:
        'Public on purpose: CDP clients connect from anywhere; every connection needs a signed, expiring ticket.',
    });
    const alb = new ApplicationLoadBalancer(this, 'CdpLoadBalancer', {
      vpc,
      internetFacing: true,
      securityGroup: albSecurityGroup,
      idleTimeout: CDP_IDLE_TIMEOUT,
      dropInvalidHeaderFields: true,
    });
    // The workers serve their inbox and health check on the CDP port too: the listener
    // forwards only the CDP and Playwright paths and answers anything else 404 itself. (The target group's
    // health checks go to the targets directly, not through the listener.)
    const listener = alb.addListener('Cdp', {
      ...(props.cdpTls === undefined
        ? { port: 80, protocol: ApplicationProtocol.HTTP }
        : {
            port: 443,
            protocol: ApplicationProtocol.HTTPS,
            certificates: [props.cdpTls.certificate],
            sslPolicy: SslPolicy.RECOMMENDED_TLS,
          }),
      open: false,
      defaultAction: ListenerAction.fixedResponse(404, {
        contentType: 'text/plain',
        messageBody: 'Not Found',
      }),
    });
    this.cdpTargetGroup = listener.addTargets('Workers', {
      priority: 1,
      // CDP and Playwright's own protocol: the same workers, ticket and router port.
      conditions: [
        ListenerCondition.pathPatterns([
          CDP_ROUTE.loadBalancerPathPattern,
          PLAYWRIGHT_ROUTE.loadBalancerPathPattern,
        ]),
      ],
      port: SESSIONS.inboxPort,
      protocol: ApplicationProtocol.HTTP,
      targets: [this.service],
      healthCheck: { path: '/health', interval: Duration.seconds(30) },
      deregistrationDelay: Duration.seconds(30),
    });
    Validations.of(alb).acknowledge({
      id: 'AwsSolutions-ELB2',
      reason: 'Access logs need a dedicated log bucket; the workers log every CDP connect with its session.',
    });
    this.cdpPublicUrl =
      props.cdpTls === undefined ? `ws://${alb.loadBalancerDnsName}` : `wss://${props.cdpTls.domainName}`;
    new CfnOutput(this, 'CdpLoadBalancerDns', { value: alb.loadBalancerDnsName });

    new CfnOutput(this, 'CdpUrl', { value: this.cdpPublicUrl });
    new CfnOutput(this, 'ClusterName', { value: cluster.clusterName });
    new CfnOutput(this, 'WorkerServiceName', { value: this.service.serviceName });
  }
}
