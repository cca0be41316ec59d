/**
 * CDK assertions: one test per design decision, each named after it. The app is built
 * in-process as `cdk synth` builds it (esbuild bundles the functions; the worker image is
 * only staged, never built), once for dev and once for prod.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { FAIL_SYNTH_ON_VALIDATION_ERRORS_CONTEXT } from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserfleetApp, type BuildOptions, buildApp } from '../../cdk/build-app.js';
import {
  CONFIG_ENV_KEYS,
  loadHttpConfig,
  loadSweeperConfig,
  loadWorkerConfig,
  loadWsConfig,
} from '../../shared/config.js';
import {
  ENV,
  type FunctionResources,
  HTTP_FUNCTION_RESOURCES,
  HTTP_ROUTES,
  type HttpFunctionName,
  LAMBDA_RUNNER,
  QUEUES,
  RESULT_CACHE,
  resourceName,
  SESSIONS,
  STATE_TABLE,
  SWEEPER,
  WEBHOOK_DELIVERER,
  WEBSOCKET,
  WS_ROUTES,
} from '../../shared/contracts.js';

/**
 * These apps skip esbuild bundling (the `aws:cdk:bundling-stacks` context): the templates
 * are the same without it, and bundling some 25 functions per app took most of a minute
 * when other test files shared the cores. test/cdk/observability.test.ts builds one app
 * with bundling, so a function that can't bundle still fails the tests.
 */
const SYNTH_TIMEOUT_MS = 120_000;

/** A reason shorter than this is not a reason ("ok", "n/a", "TODO"). */
const MIN_ACKNOWLEDGEMENT_REASON = 10;

type Resource = { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string };

const outdirs: string[] = [];
const build = (options: BuildOptions): BrowserfleetApp => {
  const outdir = mkdtempSync(join(tmpdir(), 'browserfleet-cdk-test-'));
  outdirs.push(outdir);
  // Synthesis reports cdk-nag findings instead of throwing on them, so that the cdk-nag
  // test below names what it found rather than every test failing in beforeAll.
  const context = { [FAIL_SYNTH_ON_VALIDATION_ERRORS_CONTEXT]: false, 'aws:cdk:bundling-stacks': [] };
  return buildApp(options, new App({ outdir, context }));
};

describe('browserfleet CDK app', { timeout: SYNTH_TIMEOUT_MS }, () => {
  let dev: BrowserfleetApp;
  let prod: BrowserfleetApp;
  let state: Template;
  let api: Template;
  let engine: Template;
  let fleet: Template;
  let prodState: Template;

  beforeAll(() => {
    dev = build({ stage: 'dev' });
    prod = build({ stage: 'prod' });
    state = Template.fromStack(dev.state);
    api = Template.fromStack(dev.api);
    engine = Template.fromStack(dev.engine);
    fleet = Template.fromStack(dev.fleet);
    prodState = Template.fromStack(prod.state);
  }, SYNTH_TIMEOUT_MS);

  afterAll(() => {
    for (const outdir of outdirs) rmSync(outdir, { recursive: true, force: true });
  });

  it('fleet runs on FARGATE_SPOT above an on-demand FARGATE base of one task', () => {
    const [service] = Object.values(fleet.findResources('AWS::ECS::Service')) as Resource[];
    const strategy = service?.Properties.CapacityProviderStrategy as Array<Record<string, unknown>>;
    expect(strategy).toHaveLength(2);
    // One on-demand task that a Spot reclaim can't take; every task beyond it on Spot.
    expect(strategy).toContainEqual({ CapacityProvider: 'FARGATE', Base: 1, Weight: 0 });
    const spot = strategy.find((s) => s.CapacityProvider === 'FARGATE_SPOT');
    expect(spot?.Weight).toBeGreaterThan(0);
    expect(spot?.Base ?? 0).toBe(0);
  });

  it('fleet tasks are x86-64, because @sparticuz/chromium ships only an x86-64 Chromium', () => {
    fleet.hasResourceProperties('AWS::ECS::TaskDefinition', {
      RuntimePlatform: { CpuArchitecture: 'X86_64', OperatingSystemFamily: 'LINUX' },
      Cpu: '2048',
      Memory: '4096',
    });
  });

  it('worker gets 120 s between SIGTERM and SIGKILL to drain (Fargate maximum, Spot notice)', () => {
    fleet.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [Match.objectLike({ StopTimeout: 120 })],
    });
  });

  it("worker's drain on SIGTERM ends before ECS's stop timeout kills it", () => {
    const env = workerEnvironment();
    const [container] = workerContainers();
    const { drainMs } = loadWorkerConfig(withDeployTimeStandIns(env));
    // Room after the drain to write the handed-back rows and close Chromium.
    expect(drainMs + 10_000).toBeLessThanOrEqual((container?.StopTimeout ?? 0) * 1000);
  });

  it('worker runs under an init process, which reaps orphaned Chromium processes', () => {
    fleet.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({ LinuxParameters: Match.objectLike({ InitProcessEnabled: true }) }),
      ],
    });
  });

  it('fleet queue hands a message to its DLQ after QUEUES.maxReceiveCount receives', () => {
    const dlqs = state.findResources('AWS::SQS::Queue', {
      Properties: { QueueName: resourceName(QUEUES.fleet.dlqBaseName, 'dev') },
    });
    const [dlqLogicalId] = Object.keys(dlqs);
    expect(dlqLogicalId).toBeDefined();
    state.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: resourceName(QUEUES.fleet.baseName, 'dev'),
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': [dlqLogicalId, 'Arn'] },
        maxReceiveCount: QUEUES.maxReceiveCount,
      },
    });
  });

  it('fleet queue hides a received message for QUEUES.visibilityTimeoutSeconds', () => {
    state.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: resourceName(QUEUES.fleet.baseName, 'dev'),
      VisibilityTimeout: QUEUES.visibilityTimeoutSeconds,
    });
  });

  it('webhook queue has a DLQ, for events out of attempts and copies whose invocation crashed', () => {
    state.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: resourceName(QUEUES.webhooks.baseName, 'dev'),
      VisibilityTimeout: QUEUES.webhookVisibilityTimeoutSeconds,
      RedrivePolicy: Match.objectLike({ maxReceiveCount: QUEUES.maxReceiveCount }),
    });
  });

  it('queues are encrypted and refuse requests without TLS', () => {
    state.resourcePropertiesCountIs('AWS::SQS::Queue', { SqsManagedSseEnabled: true }, 6);
    state.resourcePropertiesCountIs('AWS::SQS::QueuePolicy', { PolicyDocument: denyWithoutTls() }, 6);
  });

  it('state table has point-in-time recovery and the TTL attribute from contracts', () => {
    state.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: resourceName(STATE_TABLE.baseName, 'dev'),
      KeySchema: [
        { AttributeName: STATE_TABLE.partitionKey, KeyType: 'HASH' },
        { AttributeName: STATE_TABLE.sortKey, KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: STATE_TABLE.ttlAttribute, Enabled: true },
    });
  });

  it('state table has the sparse sweep index from contracts, so the sweeper never scans', () => {
    const { sweepIndex } = STATE_TABLE;
    state.hasResourceProperties('AWS::DynamoDB::Table', {
      AttributeDefinitions: Match.arrayWith([
        { AttributeName: sweepIndex.partitionKey, AttributeType: 'S' },
        { AttributeName: sweepIndex.sortKey, AttributeType: 'N' },
      ]),
      GlobalSecondaryIndexes: Match.arrayWith([
        Match.objectLike({
          IndexName: sweepIndex.name,
          KeySchema: [
            { AttributeName: sweepIndex.partitionKey, KeyType: 'HASH' },
            { AttributeName: sweepIndex.sortKey, KeyType: 'RANGE' },
          ],
        }),
      ]),
    });
  });

  it('prod state table has deletion protection and is retained; dev is not', () => {
    prodState.hasResource('AWS::DynamoDB::Table', {
      Properties: Match.objectLike({ DeletionProtectionEnabled: true }),
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
    state.hasResource('AWS::DynamoDB::Table', {
      Properties: Match.objectLike({ DeletionProtectionEnabled: false }),
      DeletionPolicy: 'Delete',
    });
  });

  it('artifact bucket blocks all public access and refuses requests without TLS', () => {
    state.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
    state.hasResourceProperties('AWS::S3::BucketPolicy', { PolicyDocument: denyWithoutTls() });
  });

  it('artifacts outlive every result-cache entry that points at them, and its last presigned URL', () => {
    // A hit presigns its source's object up to RESULT_CACHE.maxTtlSeconds after the source
    // ended, for a URL that lives up to SigV4's 7 days (ARTIFACT_URL_TTL_SECONDS's bound).
    const longestPresignedUrlSeconds = 7 * 86_400;
    const [bucket] = Object.values(state.findResources('AWS::S3::Bucket')) as Resource[];
    const lifecycle = bucket?.Properties.LifecycleConfiguration as
      | { Rules: { ExpirationInDays?: number; Status: string }[] }
      | undefined;
    const rules = (lifecycle?.Rules ?? []).filter(
      (r) => r.Status === 'Enabled' && r.ExpirationInDays !== undefined,
    );
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) {
      expect((rule.ExpirationInDays ?? 0) * 86_400).toBeGreaterThanOrEqual(
        RESULT_CACHE.maxTtlSeconds + longestPresignedUrlSeconds,
      );
    }
  });

  it('every route in HTTP_ROUTES exists on the HTTP API, served by its own function', () => {
    const routes = api.findResources('AWS::ApiGatewayV2::Route') as Record<string, Resource>;
    expect(Object.values(routes).map((r) => r.Properties.RouteKey)).toEqual(
      expect.arrayContaining(HTTP_ROUTES.map((r) => r.routeKey)),
    );
    expect(Object.keys(routes)).toHaveLength(HTTP_ROUTES.length);
    for (const route of HTTP_ROUTES) {
      const served = Object.values(routes).find((r) => r.Properties.RouteKey === route.routeKey);
      const integrationId = JSON.stringify(served?.Properties.Target).match(/"Ref":"([^"]+)"/)?.[1] ?? '';
      const integration = api.toJSON().Resources[integrationId] as Resource;
      const functionId = (integration.Properties.IntegrationUri as { 'Fn::GetAtt': [string, string] })[
        'Fn::GetAtt'
      ][0];
      expect(functionId).toBe(functionLogicalId(route.functionName));
    }
  });

  it('HTTP functions get every env var their config requires, named from ENV', () => {
    for (const route of HTTP_ROUTES) {
      const env = functionEnvironment(route.functionName);
      expect(Object.keys(env)).toEqual(expect.arrayContaining([ENV.stage, ENV.logLevel]));
      // The runtime's own config accepts what CDK sets (deploy-time values stood in for).
      expect(() => loadHttpConfig(route.functionName, withDeployTimeStandIns(env))).not.toThrow();
    }
  });

  it('an HTTP function is told only of the resources it declares (HTTP_FUNCTION_RESOURCES)', () => {
    const envOf: Record<string, keyof FunctionResources> = {
      [ENV.stateTable]: 'table',
      [ENV.fleetQueueUrl]: 'fleetQueue',
      [ENV.lambdaQueueUrl]: 'lambdaQueue',
      [ENV.artifactBucket]: 'artifacts',
      [ENV.sessionTicketSecretId]: 'tickets',
    };
    for (const route of HTTP_ROUTES) {
      const env = functionEnvironment(route.functionName);
      const uses: FunctionResources = HTTP_FUNCTION_RESOURCES[route.functionName];
      for (const [name, resource] of Object.entries(envOf)) {
        expect({ fn: route.functionName, name, set: name in env }).toEqual({
          fn: route.functionName,
          name,
          set: uses[resource] !== undefined,
        });
      }
    }
    // A route that reads a task gets no queue, and a session route no bucket.
    expect(Object.keys(functionEnvironment('http-get-task'))).not.toContain(ENV.fleetQueueUrl);
    expect(Object.keys(functionEnvironment('http-get-session'))).not.toContain(ENV.artifactBucket);
    expect(Object.keys(functionEnvironment('http-live-view'))).not.toContain(ENV.stateTable);
  });

  it('fleet worker gets every env var its config requires, named from ENV', () => {
    const env = workerEnvironment();
    expect(Object.keys(env)).toEqual(
      expect.arrayContaining([
        ENV.stateTable,
        ENV.fleetQueueUrl,
        ENV.artifactBucket,
        ENV.workerConcurrency,
        ENV.logLevel,
      ]),
    );
    expect(() => loadWorkerConfig(withDeployTimeStandIns(env))).not.toThrow();
  });

  it('sweeper runs every SWEEPER.rateMinutes with the env vars its config requires', () => {
    engine.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: `rate(${SWEEPER.rateMinutes} minute${SWEEPER.rateMinutes === 1 ? '' : 's'})`,
      Targets: [
        Match.objectLike({ Arn: { 'Fn::GetAtt': [functionLogicalId(SWEEPER.functionName), 'Arn'] } }),
      ],
    });
    const env = functionEnvironment(SWEEPER.functionName);
    expect(Object.keys(env)).toEqual(
      expect.arrayContaining([ENV.stateTable, ENV.fleetQueueUrl, ENV.logLevel]),
    );
    expect(() => loadSweeperConfig(withDeployTimeStandIns(env))).not.toThrow();
  });

  it('each HTTP function may do only what its route needs', () => {
    const writes = /^(dynamodb:(Put|Update|Delete|BatchWrite)|s3:Put|sqs:SendMessage)/;
    const create = functionActions('http-create-task');
    expect(create).toEqual(expect.arrayContaining(['dynamodb:PutItem', 'sqs:SendMessage', 's3:GetObject']));
    expect(create.filter((a) => a.startsWith('s3:Put'))).toEqual([]);

    // Reads, plus the tenant's rate-limit bucket every authenticated request writes.
    const get = functionActions('http-get-task');
    expect(get).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:PutItem', 's3:GetObject']));
    expect(get.filter((a) => (writes.test(a) && !a.startsWith('dynamodb:')) || a.startsWith('sqs:'))).toEqual(
      [],
    );

    const cancel = functionActions('http-cancel-task');
    expect(cancel).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:PutItem']));
    expect(cancel.filter((a) => a.startsWith('sqs:') || a.startsWith('s3:Put'))).toEqual([]);

    expect(functionActions('http-health').sort()).toEqual(
      [
        'dynamodb:DescribeTable',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        's3:ListBucket',
        'sqs:GetQueueAttributes',
      ].sort(),
    );
  });

  it('cdk-nag (AwsSolutions) reports no unacknowledged finding, error or warning', () => {
    for (const built of [dev, prod]) {
      const report = new AwsSolutionsChecks().validateScope(built.app);
      const findings = report.violations.map(
        (v) =>
          `${v.severity} ${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
      );
      expect(findings).toEqual([]);
      // Nothing else warns either (CDK's own annotations, which `cdk synth --strict` fails on).
      for (const stack of built.app.node.findAll().filter(Stack.isStack)) {
        const warnings = Annotations.fromStack(stack).findWarning('*', Match.anyValue());
        expect(warnings.map((w) => `${w.id}: ${String(w.entry.data)}`)).toEqual([]);
      }
    }
  });

  it('every acknowledged finding says why, in words (at least 10 characters)', () => {
    const acknowledgements: { path: string; id: string; reason: unknown }[] = [];
    const walk = (construct: IConstruct): void => {
      for (const entry of construct.node.metadata) {
        if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        for (const [id, reason] of Object.entries(entry.data as Record<string, unknown>)) {
          acknowledgements.push({ path: construct.node.path, id, reason });
        }
      }
      for (const child of construct.node.children) walk(child);
    };
    for (const built of [dev, prod]) walk(built.app);
    expect(acknowledgements.length).toBeGreaterThan(10);
    const unexplained = acknowledgements.filter(
      (a) => typeof a.reason !== 'string' || a.reason.trim().length < MIN_ACKNOWLEDGEMENT_REASON,
    );
    expect(unexplained).toEqual([]);
  });

  it('an unknown stage fails synth instead of deploying something unnamed', () => {
    expect(() => build({ stage: 'staging' as 'dev' })).toThrow(/stage/);
  });

  /** The logical ID of the Lambda function from `functions/<name>.ts` (deployed as `browserfleet-dev-<name>`). */
  /** The engine stack holds the Lambda tier's runner and the sweeper; the API stack the rest. */
  const templateOf = (name: string): Template =>
    name === LAMBDA_RUNNER.functionName || name === SWEEPER.functionName ? engine : api;

  const functionLogicalId = (name: string): string => {
    const found = Object.keys(
      templateOf(name).findResources('AWS::Lambda::Function', {
        Properties: { FunctionName: `browserfleet-dev-${name}` },
      }),
    );
    expect(found).toHaveLength(1);
    return found[0] ?? '';
  };

  const functionEnvironment = (name: string): Record<string, unknown> => {
    const fn = templateOf(name).toJSON().Resources[functionLogicalId(name)] as Resource;
    return (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
  };

  it('WebSocket API: one route per WS_ROUTES entry, selected by $request.body.action', () => {
    const sessions = Template.fromStack(dev.sessions);
    sessions.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'WEBSOCKET',
      RouteSelectionExpression: WEBSOCKET.routeSelectionExpression,
    });
    const routeKeys = Object.values(sessions.findResources('AWS::ApiGatewayV2::Route')).map(
      (r) => (r as Resource).Properties.RouteKey,
    );
    expect(routeKeys.sort()).toEqual(WS_ROUTES.map((r) => r.routeKey).sort());
    // Message routes are two-way: the in-VPC functions answer through route responses.
    const twoWay = Object.values(sessions.findResources('AWS::ApiGatewayV2::Route'))
      .filter((r) => (r as Resource).Properties.RouteResponseSelectionExpression === '$default')
      .map((r) => (r as Resource).Properties.RouteKey);
    expect(twoWay.sort()).toEqual(
      WS_ROUTES.map((r) => r.routeKey)
        .filter((k) => k !== '$connect' && k !== '$disconnect')
        .sort(),
    );
  });

  it('WebSocket functions run in the VPC (they call worker inboxes) with exactly their config keys', () => {
    const sessions = Template.fromStack(dev.sessions);
    for (const name of new Set(WS_ROUTES.map((r) => r.functionName))) {
      const [fn] = Object.values(
        sessions.findResources('AWS::Lambda::Function', {
          Properties: { FunctionName: `browserfleet-dev-${name}` },
        }),
      ) as Resource[];
      expect(fn?.Properties.VpcConfig).toBeDefined();
      const env =
        (fn?.Properties.Environment as { Variables: Record<string, unknown> } | undefined)?.Variables ?? {};
      const keys = Object.keys(env).filter((k) => k !== 'NODE_OPTIONS');
      expect(keys.filter((k) => !(CONFIG_ENV_KEYS.ws as readonly string[]).includes(k))).toEqual([]);
      expect(() => loadWsConfig(withDeployTimeStandIns(env))).not.toThrow();
    }
  });

  it('worker inbox port is open only to the session functions and other workers', () => {
    const [container] = workerContainers();
    expect(container?.PortMappings?.map((p) => p.ContainerPort)).toEqual([SESSIONS.inboxPort]);
    const ingress = Object.values(fleet.findResources('AWS::EC2::SecurityGroupIngress')) as Resource[];
    const toWorkers = ingress.filter((r) => r.Properties.FromPort === SESSIONS.inboxPort);
    // Session functions, other workers (CDP routing) and the CDP load balancer; no CIDR.
    expect(toWorkers.length).toBe(3);
    for (const rule of toWorkers) {
      expect(rule.Properties.CidrIp).toBeUndefined();
      expect(rule.Properties.SourceSecurityGroupId).toBeDefined();
    }
  });

  it('CDP goes to the workers through a load balancer, not API Gateway, held open an hour', () => {
    fleet.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internet-facing',
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'idle_timeout.timeout_seconds', Value: '3600' }]),
    });
    fleet.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Port: SESSIONS.inboxPort,
      HealthCheckPath: '/health',
      TargetType: 'ip',
    });
    const env = functionEnvironment('http-get-session');
    expect(JSON.stringify(env[ENV.cdpPublicUrl])).toContain('ws://');
  });

  const workerContainers = () => {
    const [taskDefinition] = Object.values(fleet.findResources('AWS::ECS::TaskDefinition')) as Resource[];
    return taskDefinition?.Properties.ContainerDefinitions as Array<{
      StopTimeout?: number;
      Environment?: Array<{ Name: string; Value: unknown }>;
      Secrets?: Array<{ Name: string; ValueFrom: unknown }>;
      PortMappings?: Array<{ ContainerPort: number }>;
    }>;
  };

  const workerEnvironment = (): Record<string, unknown> => {
    const [container] = workerContainers();
    // Secrets reach the container as env vars too, resolved by ECS at start.
    return Object.fromEntries([
      ...(container?.Environment ?? []).map((e) => [e.Name, e.Value]),
      ...(container?.Secrets ?? []).map((e) => [e.Name, e.ValueFrom]),
    ]);
  };

  /** Every IAM action granted to the role of the function serving `name`. */
  const functionActions = (name: HttpFunctionName): string[] => {
    const fn = api.toJSON().Resources[functionLogicalId(name)] as Resource;
    const roleId = (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const policies = Object.values(
      api.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } }),
    ) as Resource[];
    return policies.flatMap((p) =>
      (p.Properties.PolicyDocument as { Statement: Array<{ Action: string | string[] }> }).Statement.flatMap(
        (s) => s.Action,
      ),
    );
  };
});

/** A bucket or queue policy statement that denies every request made without TLS. */
const denyWithoutTls = () =>
  Match.objectLike({
    Statement: Match.arrayWith([
      Match.objectLike({
        Effect: 'Deny',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    ]),
  });

/**
 * CloudFormation resolves some values only at deploy time (a queue URL, a table name): a
 * value of each shape the configs accept stands in for them.
 */
/** Stand-ins for values CloudFormation resolves at deploy time (refs, joins, secrets). */
const withDeployTimeStandIns = (env: Record<string, unknown>): Record<string, string> =>
  Object.fromEntries(
    Object.entries(env).map(([name, value]) => [
      name,
      typeof value === 'string' && !value.startsWith('{{resolve:')
        ? value
        : name === ENV.websocketPublicUrl || name === ENV.cdpPublicUrl
          ? 'wss://resolved-at-deploy-time.example'
          : 'https://resolved-at-deploy-time.example/value',
    ]),
  );

describe('env vars and config agree', () => {
  it.each([
    ...HTTP_ROUTES.map((r) => [r.functionName, CONFIG_ENV_KEYS[r.functionName]] as const),
    [SWEEPER.functionName, CONFIG_ENV_KEYS.sweeper],
    [LAMBDA_RUNNER.functionName, CONFIG_ENV_KEYS.lambdaRunner],
    [WEBHOOK_DELIVERER.functionName, CONFIG_ENV_KEYS.webhookDeliverer],
  ] as const)('%s is given only variables its config reads', (name, keys) => {
    const app = build({ stage: 'dev' });
    const inEngine =
      name === SWEEPER.functionName ||
      name === LAMBDA_RUNNER.functionName ||
      name === WEBHOOK_DELIVERER.functionName;
    const resources = Template.fromStack(inEngine ? app.engine : app.api).findResources(
      'AWS::Lambda::Function',
      {
        Properties: { FunctionName: `browserfleet-dev-${name}` },
      },
    );
    const [fn] = Object.values(resources) as {
      Properties: { Environment: { Variables: Record<string, unknown> } };
    }[];
    const set = Object.keys(fn?.Properties.Environment.Variables ?? {}).filter((k) => k !== 'NODE_OPTIONS');
    // The function was found, and given what every function gets.
    expect(set).toEqual(expect.arrayContaining([ENV.stage, ENV.logLevel]));
    expect(set.filter((k) => !(keys as readonly string[]).includes(k))).toEqual([]);
  });
});

describe('the Lambda tier', () => {
  it('runs sqs-run-task from the Lambda queue: batch 1, partial batch responses, bounded concurrency', () => {
    const template = Template.fromStack(build({ stage: 'dev' }).engine);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: LAMBDA_RUNNER.batchSize,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: LAMBDA_RUNNER.maxConcurrency },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: `browserfleet-dev-${LAMBDA_RUNNER.functionName}`,
      Architectures: ['x86_64'],
      MemorySize: LAMBDA_RUNNER.memoryMb,
      Timeout: QUEUES.lambdaFunctionTimeoutSeconds,
      Layers: Match.anyValue(),
      Environment: { Variables: Match.objectLike({ [ENV.chromiumBinDir]: '/opt' }) },
    });
  });

  it("the Lambda queue's visibility is at least 6x the runner's timeout", () => {
    expect(QUEUES.lambdaVisibilityTimeoutSeconds).toBeGreaterThanOrEqual(
      6 * QUEUES.lambdaFunctionTimeoutSeconds,
    );
    Template.fromStack(build({ stage: 'dev' }).state).hasResourceProperties('AWS::SQS::Queue', {
      QueueName: 'browserfleet-tasks-lambda-dev',
      VisibilityTimeout: QUEUES.lambdaVisibilityTimeoutSeconds,
      RedrivePolicy: Match.objectLike({ maxReceiveCount: QUEUES.maxReceiveCount }),
    });
  });
});
