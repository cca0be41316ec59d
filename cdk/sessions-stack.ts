/**
 * The WebSocket API of live sessions: one route per entry of `WS_ROUTES`, each served by
 * its function from `functions/ws-*.ts`. The functions run in the fleet's VPC: they forward
 * commands to the worker that hosts a session, at its private address (the per-worker inbox).
 * The VPC has no NAT and API Gateway's @connections API can't be reached through a VPC
 * endpoint, so the functions answer through two-way route responses; the workers (public
 * IPs) post results and events with PostToConnection.
 */
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { AccessLogFormat, CfnAccount } from 'aws-cdk-lib/aws-apigateway';
import { LogGroupLogDestination, WebSocketApi, WebSocketStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { ISecurityGroup } from 'aws-cdk-lib/aws-ec2';
import { ManagedPolicy, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { ENV, WEBSOCKET, WS_ROUTES, type WsFunctionName } from '../shared/contracts.js';
import { type CustomDomain, mapCustomDomain } from './custom-domain.js';
import type { FleetNetwork } from './network-stack.js';
import { nodeFunction } from './node-function.js';
import type { Stage } from './stage.js';
import { wireTable, wireTicketSecret } from './wiring.js';

/** The WebSocket stage's name (part of its URLs), unique per deployment: grants name it. */
export const webSocketStageName = (stage: Stage): string => `browserfleet-${stage}`;

/** Messages per second (and burst) for the whole WebSocket API: a ceiling on a runaway client. */
const THROTTLE = { rateLimit: 200, burstLimit: 400 } as const;

export interface SessionsStackProps extends StackProps {
  readonly stage: Stage;
  readonly table: ITable;
  readonly network: FleetNetwork;
  readonly inboxCallers: ISecurityGroup;
  /** The session ticket secret, read by the functions at run time. */
  readonly ticketSecret: ISecret;
  /** Serves the WebSocket API at `wss://<domainName>` instead of its execute-api name. */
  readonly domain?: CustomDomain;
}

/**
 * API Gateway's account-level CloudWatch Logs role (one per account and region), which
 * WebSocket (and REST) stages need before they can have access logs; HTTP APIs don't.
 * A fresh account has none, and CreateStage then fails. The role is retained: another
 * stage in the same account and region uses the same setting, so tearing this one down
 * must not take the role from under it (each stage's stack sets the setting to its own
 * retained role, and either one works).
 */
const apiGatewayCloudWatchRole = (scope: Construct): CfnAccount => {
  const role = new Role(scope, 'ApiGatewayCloudWatchRole', {
    assumedBy: new ServicePrincipal('apigateway.amazonaws.com'),
    managedPolicies: [
      ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonAPIGatewayPushToCloudWatchLogs'),
    ],
  });
  role.applyRemovalPolicy(RemovalPolicy.RETAIN);
  Validations.of(role).acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
    reason:
      "The AWS-managed policy API Gateway's account setting is documented with: it lets API Gateway " +
      'write access and execution logs to CloudWatch Logs, which only this service principal can use.',
  });
  const account = new CfnAccount(scope, 'ApiGatewayAccount', { cloudWatchRoleArn: role.roleArn });
  account.applyRemovalPolicy(RemovalPolicy.RETAIN);
  return account;
};

export class SessionsStack extends Stack {
  readonly webSocketApi: WebSocketApi;
  readonly webSocketStage: WebSocketStage;
  /** The URL clients connect to: the custom domain's when one is given. */
  readonly webSocketPublicUrl: string;
  readonly functions: Readonly<Record<WsFunctionName, NodejsFunction>>;

  constructor(scope: Construct, id: string, props: SessionsStackProps) {
    super(scope, id, props);
    const { stage } = props;
    const removalPolicy = stage === 'prod' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    const functions = {} as Record<WsFunctionName, NodejsFunction>;
    for (const name of new Set(WS_ROUTES.map((r) => r.functionName))) {
      const fn = nodeFunction(this, name, {
        stage,
        removalPolicy,
        // An inbox call answers at once; the worker replies to the client itself.
        timeout: Duration.seconds(10),
        network: {
          vpc: props.network.vpc,
          subnets: props.network.functionSubnets,
          securityGroup: props.inboxCallers,
        },
      });
      fn.addEnvironment(ENV.stage, stage);
      fn.addEnvironment(ENV.logLevel, stage === 'prod' ? 'INFO' : 'DEBUG');
      // Every ws-* function checks or signs tickets, or signs inbox calls.
      wireTicketSecret(fn, props.ticketSecret);
      wireTable(fn, props.table, 'readWrite');
      functions[name] = fn;
    }
    this.functions = functions;

    const integration = (route: (typeof WS_ROUTES)[number]) =>
      new WebSocketLambdaIntegration(
        `Integration-${route.routeKey.replace('$', '')}`,
        functions[route.functionName],
      );
    const routeOf = (key: string) => {
      const route = WS_ROUTES.find((r) => r.routeKey === key);
      if (route === undefined) throw new Error(`WS_ROUTES has no ${key} route.`);
      return route;
    };
    this.webSocketApi = new WebSocketApi(this, 'WebSocketApi', {
      apiName: `browserfleet-${stage}-sessions`,
      routeSelectionExpression: WEBSOCKET.routeSelectionExpression,
      connectRouteOptions: { integration: integration(routeOf('$connect')) },
      disconnectRouteOptions: { integration: integration(routeOf('$disconnect')) },
      // Two-way: the function's answer is the reply (it has no way out to @connections).
      defaultRouteOptions: { integration: integration(routeOf('$default')), returnResponse: true },
    });
    for (const route of WS_ROUTES) {
      if (route.routeKey.startsWith('$')) continue;
      this.webSocketApi.addRoute(route.routeKey, { integration: integration(route), returnResponse: true });
    }
    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy,
    });
    const account = apiGatewayCloudWatchRole(this);
    this.webSocketStage = new WebSocketStage(this, 'Stage', {
      webSocketApi: this.webSocketApi,
      stageName: webSocketStageName(stage),
      autoDeploy: true,
      throttle: THROTTLE,
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            connectionId: '$context.connectionId',
            routeKey: '$context.routeKey',
            eventType: '$context.eventType',
            status: '$context.status',
            error: '$context.error.message',
            integrationError: '$context.integrationErrorMessage',
          }),
        ),
      },
    });

    // CreateStage with access logs fails until the account has its CloudWatch role.
    this.webSocketStage.node.addDependency(account);

    Validations.of(this.webSocketApi).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        'ws-connect authenticates the API key (or a live-view ticket) itself and refuses the handshake ' +
        'with 401; later messages belong to an authenticated connection.',
    });

    this.webSocketPublicUrl =
      props.domain === undefined
        ? this.webSocketStage.url
        : `wss://${mapCustomDomain(this, 'WebSocketDomain', props.domain, this.webSocketApi, this.webSocketStage)}`;
    new CfnOutput(this, 'WebSocketUrl', { value: this.webSocketPublicUrl });
  }
}
