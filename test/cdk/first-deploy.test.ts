/**
 * What only AWS checks, asserted on the synthesized templates: the rules a first
 * `cdk deploy` (or the first request after it) would be refused on, which no emulator
 * enforces. One test per rule, named after it. Grants are evaluated as IAM would
 * (test/cdk/iam-policies.ts), not looked up by action name.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactBucketName } from '../../cdk/artifact-bucket.js';
import { VPC_NETWORK_INTERFACE_ACTIONS } from '../../cdk/node-function.js';
import {
  ARTIFACT_KEYS,
  type ArtifactAccessor,
  type ArtifactKeyLayout,
  ENV,
  LAMBDA_RUNNER,
  METRIC_DIMENSIONS,
  METRICS,
} from '../../shared/contracts.js';
import { newSession } from '../../shared/session/session.js';
import { presentSession } from '../../shared/session/sessions-api.js';
import { CachedTicketKeys, fixedTicketSecret } from '../../shared/session/ticket-keys.js';
import {
  ACCOUNT,
  allows,
  functionRoleId,
  REGION,
  type Resource,
  referencedId,
  resolve,
  roleStatements,
  type Statement,
} from './iam-policies.js';
import { type BuiltStage, SYNTH_TIMEOUT_MS, type Synthesized, synthStages } from './synth.js';

const ROOT = resolvePath(import.meta.dirname, '../..');

type Built = BuiltStage;

describe('a first cdk deploy', { timeout: SYNTH_TIMEOUT_MS }, () => {
  let synthesized: Synthesized;
  let apps: Built[];
  /** Every stack of every stage's app, as templates. */
  let templates: Synthesized['templates'];

  beforeAll(() => {
    synthesized = synthStages(['dev', 'prod'], 'deploy-test');
    ({ apps, templates } = synthesized);
  }, SYNTH_TIMEOUT_MS);

  afterAll(() => synthesized?.dispose());

  const resourcesOf = (template: Template, type: string): [string, Resource][] =>
    Object.entries(template.findResources(type)) as [string, Resource][];

  /** Every statement the fleet worker's task role holds. */
  const workerStatements = (built: Built): Statement[] => {
    const template = Template.fromStack(built.fleet);
    const [[, taskDefinition] = ['', undefined]] = resourcesOf(template, 'AWS::ECS::TaskDefinition');
    return roleStatements(template, referencedId(taskDefinition?.Properties.TaskRoleArn) ?? '');
  };

  /** Every statement the role of the function from `functions/<name>.ts` holds (API or engine stack). */
  const apiFunctionStatements =
    (name: string) =>
    (built: Built): Statement[] => {
      const template = Template.fromStack(name === LAMBDA_RUNNER.functionName ? built.engine : built.api);
      const [fn] = Object.values(
        template.findResources('AWS::Lambda::Function', {
          Properties: { FunctionName: `browserfleet-${built.stage}-${name}` },
        }),
      ) as Resource[];
      if (fn === undefined) throw new Error(`No function ${name}`);
      return roleStatements(template, functionRoleId(fn));
    };

  it('every VPC function can create, find and delete its network interfaces (CreateFunction checks)', () => {
    let vpcFunctions = 0;
    for (const { stack, template } of templates) {
      for (const [id, fn] of resourcesOf(template, 'AWS::Lambda::Function')) {
        if (fn.Properties.VpcConfig === undefined) continue;
        vpcFunctions += 1;
        const statements = roleStatements(template, functionRoleId(fn));
        const missing = VPC_NETWORK_INTERFACE_ACTIONS.filter((action) => !allows(statements, action, '*'));
        expect({ fn: `${stack}/${id}`, missing }).toEqual({ fn: `${stack}/${id}`, missing: [] });
      }
    }
    // The WebSocket functions and the session close, in each stage.
    expect(vpcFunctions).toBeGreaterThanOrEqual(2 * 5);
  });

  it("every WebSocket stage with access logs has the account's API Gateway CloudWatch role set before it", () => {
    let logged = 0;
    for (const { stack, template } of templates) {
      const resources = template.toJSON().Resources as Record<string, Resource>;
      for (const [id, stage] of resourcesOf(template, 'AWS::ApiGatewayV2::Stage')) {
        const api = resources[referencedId(stage.Properties.ApiId) ?? ''];
        // HTTP APIs log through a service-linked role; WebSocket (and REST) stages need the account's.
        if (
          api?.Properties.ProtocolType !== 'WEBSOCKET' ||
          stage.Properties.AccessLogSettings === undefined
        ) {
          continue;
        }
        logged += 1;
        const accounts = resourcesOf(template, 'AWS::ApiGateway::Account');
        expect(accounts, `${stack}/${id}`).toHaveLength(1);
        const [accountId, account] = accounts[0] ?? ['', undefined];
        expect(dependsOn(resources, id, accountId), `${stack}/${id} waits for ${accountId}`).toBe(true);
        const roleId = referencedId(account?.Properties.CloudWatchRoleArn) ?? '';
        const role = resources[roleId];
        expect(JSON.stringify(role?.Properties.AssumeRolePolicyDocument)).toContain(
          'apigateway.amazonaws.com',
        );
        expect(allows(roleStatements(template, roleId), 'logs:PutLogEvents', '*')).toBe(true);
        // Another stage in the account may rely on it: it outlives this stack.
        expect((role as { DeletionPolicy?: string } | undefined)?.DeletionPolicy).toBe('Retain');
      }
    }
    expect(logged).toBe(2);
  });

  it('every function that runs the health check may make each of its pings (DescribeTable, GetQueueAttributes, HeadBucket)', () => {
    // The functions whose entry reaches the health check through its imports, read from the
    // code rather than listed here.
    const healthCheck = join(ROOT, 'shared/health/check-health.ts');
    const pinging = readdirSync(join(ROOT, 'functions'))
      .filter((file) => file.endsWith('.ts'))
      .filter((file) => imports(join(ROOT, 'functions', file)).has(healthCheck))
      .map((file) => file.replace(/\.ts$/, ''));
    expect(pinging.sort()).toEqual(['http-get-pressure', 'http-health']);
    for (const built of apps) {
      const template = Template.fromStack(built.api);
      const arnOf = (token: string) => resolve(built.api.resolve(token));
      const tableArn = arnOf(built.state.table.tableArn);
      const queueArn = arnOf(built.state.fleetQueue.queueArn);
      const bucketArn = `arn:aws:s3:::${artifactBucketName(built.stage, ACCOUNT, REGION)}`;
      for (const name of pinging) {
        const [fn] = Object.values(
          template.findResources('AWS::Lambda::Function', {
            Properties: { FunctionName: `browserfleet-${built.stage}-${name}` },
          }),
        ) as Resource[];
        expect(fn, name).toBeDefined();
        const statements = roleStatements(template, functionRoleId(fn as Resource));
        const refused = [
          ['dynamodb:DescribeTable', tableArn],
          ['sqs:GetQueueAttributes', queueArn],
          // HeadBucket is authorised as ListBucket.
          ['s3:ListBucket', bucketArn],
        ].filter(([action, arn]) => !allows(statements, action ?? '', arn ?? ''));
        expect({ name, refused }).toEqual({ name, refused: [] });
      }
    }
  });

  it('the fleet service waits for its capacity providers to be associated (and goes before them)', () => {
    for (const built of apps) {
      const template = Template.fromStack(built.fleet);
      const resources = template.toJSON().Resources as Record<string, Resource>;
      const [[serviceId, service] = ['', undefined]] = resourcesOf(template, 'AWS::ECS::Service');
      const strategy = (service?.Properties.CapacityProviderStrategy ?? []) as { CapacityProvider: string }[];
      const named = strategy.map((s) => s.CapacityProvider);
      expect(named.length).toBeGreaterThan(0);
      const associations = resourcesOf(template, 'AWS::ECS::ClusterCapacityProviderAssociations').filter(
        ([, a]) => JSON.stringify(a.Properties.Cluster) === JSON.stringify(service?.Properties.Cluster),
      );
      expect(associations).toHaveLength(1);
      const [[associationId, association] = ['', undefined]] = associations;
      expect(association?.Properties.CapacityProviders).toEqual(expect.arrayContaining(named));
      expect(dependsOn(resources, serviceId, associationId)).toBe(true);
    }
  });

  it('the public load balancer forwards only the CDP and Playwright paths: inbox and health answer 404', async () => {
    // The path a client is given, as the sessions API builds it.
    const session = newSession({
      id: 'sess-1',
      tenantId: 't',
      options: {
        timeoutMs: 60_000,
        idleTimeoutMs: 60_000,
        viewport: { width: 800, height: 600, deviceScaleFactor: 1 },
      },
      now: 0,
    });
    const { cdpUrl, playwrightUrl } = await presentSession(
      {
        ticketKeys: new CachedTicketKeys(fixedTicketSecret('x'.repeat(32)), { now: () => 0 }),
        cdpPublicUrl: 'ws://lb.example',
        websocketPublicUrl: 'wss://ws.example',
        clock: { now: () => 0 } as never,
      },
      session,
      'https://api.example',
    );
    const cdpPath = new URL(cdpUrl ?? '').pathname;
    const playwrightPath = new URL(playwrightUrl ?? '').pathname;
    for (const built of apps) {
      const template = Template.fromStack(built.fleet);
      const [[listenerId, listener] = ['', undefined]] = resourcesOf(
        template,
        'AWS::ElasticLoadBalancingV2::Listener',
      );
      expect(listener?.Properties.DefaultActions).toEqual([
        expect.objectContaining({
          Type: 'fixed-response',
          FixedResponseConfig: expect.objectContaining({ StatusCode: '404' }),
        }),
      ]);
      const rules = resourcesOf(template, 'AWS::ElasticLoadBalancingV2::ListenerRule').filter(
        ([, r]) => referencedId(r.Properties.ListenerArn) === listenerId,
      );
      const forwarded = (path: string) =>
        rules.some(([, rule]) =>
          (rule.Properties.Conditions as { Field: string; PathPatternConfig?: { Values: string[] } }[]).every(
            (c) =>
              c.Field === 'path-pattern' &&
              (c.PathPatternConfig?.Values ?? []).some((v) => albPathMatch(v, path)),
          ),
        );
      expect(forwarded(cdpPath)).toBe(true);
      // Playwright's protocol: the same listener, the same workers.
      expect(forwarded(playwrightPath)).toBe(true);
      for (const path of [
        '/health',
        '/inbox/sessions/sess-1',
        '/',
        '/v1/sessions/sess-1',
        '/v1/sessions/sess-1/cdpx',
        '/v1/sessions/sess-1/playwrightx',
      ]) {
        expect({ path, forwarded: forwarded(path) }).toEqual({ path, forwarded: false });
      }
    }
  });

  it('every artifact key layout is granted to whoever writes or presigns it, and nothing outside one is', () => {
    // A key of each layout, built by its own builder (a new layout without one doesn't compile).
    const samples: Record<keyof typeof ARTIFACT_KEYS, string> = {
      taskArtifact: ARTIFACT_KEYS.taskArtifact.key('task-1', 3, 'screenshot.png'),
      sessionScreenshot: ARTIFACT_KEYS.sessionScreenshot.key('sess-1', 'cmd/1', 1_700_000_000_000, 'png'),
      sessionDownload: ARTIFACT_KEYS.sessionDownload.key('sess-1', 1, 'report (1).csv'),
    };
    const layouts = Object.entries(ARTIFACT_KEYS) as [keyof typeof ARTIFACT_KEYS, ArtifactKeyLayout][];
    for (const [name, layout] of layouts) expect(samples[name].startsWith(layout.prefix)).toBe(true);
    // What each part of the code is, as the stacks wire it.
    const parts: { part: string; accessors: ArtifactAccessor[]; statements: (b: Built) => Statement[] }[] = [
      { part: 'fleet worker', accessors: ['taskRunner', 'sessionHost'], statements: workerStatements },
      {
        part: LAMBDA_RUNNER.functionName,
        accessors: ['taskRunner'],
        statements: apiFunctionStatements(LAMBDA_RUNNER.functionName),
      },
      ...(['http-create-task', 'http-get-task', 'http-cancel-task'] as const).map((fn) => ({
        part: fn,
        accessors: ['taskReader'] as ArtifactAccessor[],
        statements: apiFunctionStatements(fn),
      })),
    ];
    // The worker writes every kind of object there is: tasks' artifacts, sessions' screenshots and downloads.
    for (const [, layout] of layouts) {
      expect(layout.put.some((a) => parts[0]?.accessors.includes(a))).toBe(true);
    }
    for (const built of apps) {
      const objectArn = (key: string) =>
        `arn:aws:s3:::${artifactBucketName(built.stage, ACCOUNT, REGION)}/${key}`;
      for (const { part, accessors, statements: of } of parts) {
        const statements = of(built);
        const is = (list: readonly ArtifactAccessor[]) => list.some((a) => accessors.includes(a));
        for (const [name, layout] of layouts) {
          const arn = objectArn(samples[name]);
          expect({ part, name, put: allows(statements, 's3:PutObject', arn) }).toEqual({
            part,
            name,
            put: is(layout.put),
          });
          expect({ part, name, get: allows(statements, 's3:GetObject', arn) }).toEqual({
            part,
            name,
            get: is(layout.presign),
          });
        }
        expect(allows(statements, 's3:PutObject', objectArn('elsewhere/x'))).toBe(false);
        expect(allows(statements, 's3:GetObject', objectArn('elsewhere/x'))).toBe(false);
      }
    }
  });

  it("every alarm, dashboard graph and scaling metric of ours reads its own stage's series", () => {
    for (const built of apps) {
      const ours: { where: string; dimensions: Record<string, string> }[] = [];
      for (const stack of built.app.node.findAll().filter(Stack.isStack)) {
        const template = Template.fromStack(stack);
        for (const [id, alarm] of resourcesOf(template, 'AWS::CloudWatch::Alarm')) {
          collectOurMetrics(alarm.Properties, `${stack.stackName}/${id}`, ours);
        }
        // Target tracking's alarms are made by Application Auto Scaling, from the policy's metric.
        for (const [id, policy] of resourcesOf(template, 'AWS::ApplicationAutoScaling::ScalingPolicy')) {
          const metric = (
            policy.Properties.TargetTrackingScalingPolicyConfiguration as
              | {
                  CustomizedMetricSpecification?: {
                    Namespace: string;
                    Dimensions?: { Name: string; Value: string }[];
                  };
                }
              | undefined
          )?.CustomizedMetricSpecification;
          if (metric?.Namespace !== METRICS.namespace) continue;
          const dimensions = Object.fromEntries((metric.Dimensions ?? []).map((d) => [d.Name, d.Value]));
          ours.push({ where: `${stack.stackName}/${id}`, dimensions });
        }
        for (const [id, dashboard] of resourcesOf(template, 'AWS::CloudWatch::Dashboard')) {
          const body = JSON.parse(resolve(dashboard.Properties.DashboardBody)) as {
            widgets: { properties: { metrics?: unknown[][] } }[];
          };
          for (const line of body.widgets.flatMap((w) => w.properties.metrics ?? [])) {
            if (line[0] !== METRICS.namespace) continue;
            const pairs = line.slice(2).filter((v): v is string => typeof v === 'string');
            const dimensions = Object.fromEntries(
              pairs.flatMap((v, i) => (i % 2 === 0 ? [[v, pairs[i + 1] ?? '']] : [])),
            );
            ours.push({ where: `${stack.stackName}/${id} ${String(line[1])}`, dimensions });
          }
        }
      }
      // The alarms and graphs of our metrics, and the fleet's utilization scaling policy.
      expect(ours.length).toBeGreaterThan(20);
      expect(ours.some((m) => m.where.includes(built.fleet.stackName))).toBe(true);
      const wrong = ours.filter((m) => m.dimensions[METRIC_DIMENSIONS.stage] !== built.stage);
      expect(wrong).toEqual([]);
    }
  });

  it('the fleet worker and the Lambda tier are told their stage, which their metrics carry', () => {
    for (const built of apps) {
      const fleet = Template.fromStack(built.fleet);
      const [[, taskDefinition] = ['', undefined]] = resourcesOf(fleet, 'AWS::ECS::TaskDefinition');
      const containers = (taskDefinition?.Properties.ContainerDefinitions ?? []) as {
        Environment: { Name: string; Value: unknown }[];
      }[];
      const [container] = containers;
      expect(container?.Environment).toContainEqual({ Name: ENV.stage, Value: built.stage });
      Template.fromStack(built.engine).hasResourceProperties('AWS::Lambda::Function', {
        FunctionName: `browserfleet-${built.stage}-${LAMBDA_RUNNER.functionName}`,
        Environment: { Variables: Match.objectLike({ [ENV.stage]: built.stage }) },
      });
    }
  });

  it('every alarm notifies someone: ours an SNS topic only CloudWatch alarms of the account publish to', () => {
    for (const built of apps) {
      const observability = Template.fromStack(built.observability);
      const [[topicId] = ['']] = resourcesOf(observability, 'AWS::SNS::Topic');
      for (const stack of built.app.node.findAll().filter(Stack.isStack)) {
        const template = Template.fromStack(stack);
        for (const [id, alarm] of resourcesOf(template, 'AWS::CloudWatch::Alarm')) {
          const actions = (alarm.Properties.AlarmActions ?? []) as unknown[];
          expect({ alarm: `${stack.stackName}/${id}`, actions: actions.length > 0 }).toEqual({
            alarm: `${stack.stackName}/${id}`,
            actions: true,
          });
          // The fleet's scaling alarms act on scaling policies; every other alarm pages.
          if (stack === built.observability) expect(actions).toContainEqual({ Ref: topicId });
        }
      }
      const [[, policy] = ['', undefined]] = resourcesOf(observability, 'AWS::SNS::TopicPolicy');
      const document = (policy?.Properties.PolicyDocument ?? { Statement: [] }) as {
        Statement: Record<string, unknown>[];
      };
      const statements = document.Statement;
      expect(statements).toContainEqual(
        expect.objectContaining({
          Effect: 'Allow',
          Principal: { Service: 'cloudwatch.amazonaws.com' },
          Action: 'sns:Publish',
        }),
      );
    }
  });

  it("alarms cover every function's errors, the HTTP API's 5xx and unhealthy CDP workers", () => {
    for (const built of apps) {
      const observability = Template.fromStack(built.observability);
      const alarms = resourcesOf(observability, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
      // Every function any stack deploys, found in the templates, has its Errors alarm.
      const functionNames = [built.api, built.engine, built.sessions].flatMap((stack) =>
        resourcesOf(Template.fromStack(stack), 'AWS::Lambda::Function').map(
          ([, fn]) => fn.Properties.FunctionName,
        ),
      );
      expect(functionNames.length).toBeGreaterThan(15);
      for (const name of functionNames) {
        expect(
          alarms.some(
            (a) =>
              a.Namespace === 'AWS/Lambda' &&
              a.MetricName === 'Errors' &&
              JSON.stringify(a.Dimensions) === JSON.stringify([{ Name: 'FunctionName', Value: name }]),
          ),
          String(name),
        ).toBe(true);
      }
      expect(alarms.some((a) => a.Namespace === 'AWS/ApiGateway' && a.MetricName === '5xx')).toBe(true);
      expect(
        alarms.some((a) => a.Namespace === 'AWS/ApplicationELB' && a.MetricName === 'UnHealthyHostCount'),
      ).toBe(true);
    }
  });

  it('alarms notify an existing topic when one is given, and no topic is created', () => {
    const topicArn = 'arn:aws:sns:eu-west-1:123456789012:ops-pager';
    const own = synthStages(['dev'], 'deploy-test', { alarmTopicArn: topicArn });
    try {
      const observability = Template.fromStack((own.apps[0] as Built).observability);
      observability.resourceCountIs('AWS::SNS::Topic', 0);
      const alarms = resourcesOf(observability, 'AWS::CloudWatch::Alarm');
      expect(alarms.length).toBeGreaterThan(5);
      for (const [, alarm] of alarms) expect(alarm.Properties.AlarmActions).toEqual([topicArn]);
    } finally {
      own.dispose();
    }
  });

  it("the VPC's flow logs record refused traffic only, not every page the fleet loads", () => {
    for (const built of apps) {
      const flowLogs = resourcesOf(Template.fromStack(built.network), 'AWS::EC2::FlowLog');
      expect(flowLogs).toHaveLength(1);
      for (const [, flowLog] of flowLogs) expect(flowLog.Properties.TrafficType).toBe('REJECT');
    }
  });
});

/** Whether `from` waits for `to` at deploy time, through DependsOn or references, transitively. */
const dependsOn = (resources: Record<string, Resource>, from: string, to: string): boolean => {
  const seen = new Set<string>();
  const visit = (id: string): boolean => {
    if (id === to) return true;
    if (seen.has(id)) return false;
    seen.add(id);
    const resource = resources[id];
    if (resource === undefined) return false;
    const explicit = resource.DependsOn === undefined ? [] : [resource.DependsOn].flat();
    const referenced = [
      ...JSON.stringify(resource.Properties ?? {}).matchAll(/"(?:Ref|Fn::GetAtt)":\[?"([^"]+)"/g),
    ].map((m) => m[1] ?? '');
    return [...explicit, ...referenced].some(visit);
  };
  return visit(from);
};

/** An ALB path pattern (case-sensitive; `*` any characters, `?` one) against a path. */
const albPathMatch = (pattern: string, path: string): boolean =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  ).test(path);

/** Every metric of our namespace in an alarm's properties (plain or in metric math), with its dimensions. */
const collectOurMetrics = (
  node: unknown,
  where: string,
  out: { where: string; dimensions: Record<string, string> }[],
): void => {
  if (Array.isArray(node)) {
    for (const n of node) collectOurMetrics(n, where, out);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const record = node as Record<string, unknown>;
  if (record.Namespace === METRICS.namespace) {
    const dimensions = Object.fromEntries(
      ((record.Dimensions ?? []) as { Name: string; Value: unknown }[]).map((d) => [
        d.Name,
        resolve(d.Value),
      ]),
    );
    out.push({ where: `${where} ${String(record.MetricName)}`, dimensions });
  }
  for (const value of Object.values(record)) collectOurMetrics(value, where, out);
};

/** Every repository file `file` imports, directly or through other files (relative imports only). */
const imports = (file: string, seen = new Set<string>()): Set<string> => {
  for (const match of readFileSync(file, 'utf8').matchAll(/from '(\.{1,2}\/[^']+)\.js'/g)) {
    const target = join(dirname(file), `${match[1]}.ts`);
    if (seen.has(target) || !existsSync(target)) continue;
    seen.add(target);
    imports(target, seen);
  }
  return seen;
};
