/**
 * The HTTP API: one route per entry of `HTTP_ROUTES`, each served by its own function
 * bundled from `functions/<functionName>.ts`, wired to what its `HTTP_FUNCTION_RESOURCES`
 * entry declares. (The Lambda tier's runner and the sweeper are in engine-stack.ts.)
 */
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import type { WebSocketStage } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  HttpApi,
  HttpMethod,
  HttpRoute,
  HttpRouteKey,
  HttpStage,
  LogGroupLogDestination,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { ISecurityGroup } from 'aws-cdk-lib/aws-ec2';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import {
  DOCS_RENDERER,
  ENV,
  type FunctionResources,
  HTTP_FUNCTION_RESOURCES,
  HTTP_ROUTES,
  type HttpFunctionName,
} from '../shared/contracts.js';
import { importArtifactBucket } from './artifact-bucket.js';
import { type CustomDomain, mapCustomDomain } from './custom-domain.js';
import type { FleetNetwork } from './network-stack.js';
import { nodeFunction } from './node-function.js';
import type { Stage } from './stage.js';
import { type WiredResources, wireResources } from './wiring.js';

type PublicFunctionName = Extract<(typeof HTTP_ROUTES)[number], { auth: false }>['functionName'];

/** Why each route without the API key is open (cdk-nag AwsSolutions-APIG4): each its own reason. */
const PUBLIC_ROUTE_REASONS: Record<PublicFunctionName, string> = {
  'http-health': 'Public on purpose: an unauthenticated health check for load balancers and uptime probes.',
  'http-get-pressure':
    'Public on purpose, like /health: queue depths and a count of running tasks, no tenant data, ' +
    'for load balancers, autoscaling and humans.',
  'http-live-view':
    "A browser tab can't send the API key: the function checks the signed, expiring live-view " +
    'ticket in the query string, valid for this one session only.',
  'http-get-openapi':
    'Public on purpose: the description of the API, the same for every caller, no tenant data.',
  'http-docs': 'Public on purpose: the API reference page and its script, static, no tenant data.',
};

/**
 * How long each function may run (what it may touch is its `HTTP_FUNCTION_RESOURCES` entry
 * in the contracts). Keyed by the contracts' function names, so a route added there
 * without an entry here does not compile.
 */
const TIMEOUTS: Record<HttpFunctionName, Duration> = {
  // `?wait=N` holds at most 25 s; API Gateway gives up on an integration after 30 s.
  'http-create-task': Duration.seconds(29),
  'http-get-task': Duration.seconds(29),
  // At most 1,000 rows read in 10 queries, and a presigned URL per artifact.
  'http-list-tasks': Duration.seconds(10),
  // Up to 100 submits one after another, each a few writes and a send.
  'http-create-task-batch': Duration.seconds(29),
  'http-cancel-task': Duration.seconds(10),
  'http-get-limits': Duration.seconds(10),
  'http-get-pressure': Duration.seconds(10),
  'http-create-session': Duration.seconds(10),
  'http-list-sessions': Duration.seconds(10),
  'http-get-session': Duration.seconds(10),
  'http-close-session': Duration.seconds(10),
  // Only checks the ticket and renders a page.
  'http-live-view': Duration.seconds(5),
  // Each dependency's ping has its own 2 s deadline; they run at once.
  'http-health': Duration.seconds(10),
  // A one-shot tool holds up to 20 s for its task, a session command runs up to 25 s.
  'http-mcp': Duration.seconds(29),
  // Both answer from memory (the document is built, the renderer read, once per instance).
  'http-get-openapi': Duration.seconds(10),
  'http-docs': Duration.seconds(10),
};

/**
 * Requests per second (and burst) for the whole API until per-tenant rate limits exist: a
 * ceiling on what a leaked key or a runaway client can cost.
 */
const THROTTLE = { rateLimit: 50, burstLimit: 100 } as const;

/** One JSON line per request, with the HTTP API's own context variables. */
const HTTP_ACCESS_LOG_FORMAT = AccessLogFormat.custom(
  JSON.stringify({
    requestId: '$context.requestId',
    requestTime: '$context.requestTime',
    sourceIp: '$context.identity.sourceIp',
    userAgent: '$context.identity.userAgent',
    routeKey: '$context.routeKey',
    path: '$context.path',
    status: '$context.status',
    protocol: '$context.protocol',
    responseLength: '$context.responseLength',
    responseLatencyMs: '$context.responseLatency',
    integrationLatencyMs: '$context.integrationLatency',
    integrationError: '$context.integrationErrorMessage',
    error: '$context.error.message',
  }),
);

export interface ApiStackProps extends StackProps {
  readonly stage: Stage;
  readonly table: ITable;
  readonly fleetQueue: IQueue;
  readonly lambdaQueue: IQueue;
  readonly network: FleetNetwork;
  readonly inboxCallers: ISecurityGroup;
  readonly ticketSecret: ISecret;
  readonly webSocketStage: WebSocketStage;
  /** What clients connect to for sessions (the stage's URL, or its custom domain's). */
  readonly webSocketPublicUrl: string;
  readonly cdpPublicUrl: string;
  /** Serves the HTTP API at `https://<domainName>` instead of its execute-api name. */
  readonly domain?: CustomDomain;
}

export class ApiStack extends Stack {
  readonly httpApi: HttpApi;
  /** The API's one stage (`$default`), which its 5xx alarm reads. */
  readonly httpStage: HttpStage;
  readonly functions: Readonly<Record<HttpFunctionName, NodejsFunction>>;

  constructor(scope: Construct, id: string, props: ApiStackProps) {
    super(scope, id, props);
    const { stage } = props;
    const removalPolicy = stage === 'prod' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    this.httpApi = new HttpApi(this, 'HttpApi', {
      apiName: `browserfleet-${stage}`,
      // The stage below carries access logs and throttling, which the default one can't.
      createDefaultStage: false,
    });
    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy,
    });
    this.httpStage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: THROTTLE,
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: HTTP_ACCESS_LOG_FORMAT,
      },
    });

    const artifactBucket = importArtifactBucket(this, stage);
    const resources: WiredResources = {
      table: props.table,
      fleetQueue: props.fleetQueue,
      lambdaQueue: props.lambdaQueue,
      artifacts: artifactBucket,
      ticketSecret: props.ticketSecret,
      publicUrls: { websocket: props.webSocketPublicUrl, cdp: props.cdpPublicUrl },
    };
    const functions = {} as Record<HttpFunctionName, NodejsFunction>;
    const makeFunction = (name: HttpFunctionName): NodejsFunction => {
      const uses: FunctionResources = HTTP_FUNCTION_RESOURCES[name];
      const fn = nodeFunction(this, name, {
        stage,
        removalPolicy,
        timeout: TIMEOUTS[name],
        ...(name === 'http-docs'
          ? { files: [{ from: DOCS_RENDERER.packageFile, to: DOCS_RENDERER.bundledFile }] }
          : {}),
        // A worker's inbox is reachable only inside the fleet's VPC.
        ...(uses.workerInbox === true
          ? {
              network: {
                vpc: props.network.vpc,
                subnets: props.network.functionSubnets,
                securityGroup: props.inboxCallers,
              },
            }
          : {}),
      });
      fn.addEnvironment(ENV.stage, stage);
      fn.addEnvironment(ENV.logLevel, stage === 'prod' ? 'INFO' : 'DEBUG');
      // The env var and grant of each resource the function declares, and of nothing else.
      wireResources(fn, uses, resources);
      return fn;
    };
    for (const route of HTTP_ROUTES) {
      // A function serves every route naming it (MCP's POST, GET and DELETE on `/mcp`).
      const known = functions[route.functionName] !== undefined;
      const fn = known ? functions[route.functionName] : makeFunction(route.functionName);
      functions[route.functionName] = fn;

      const [method, path] = parseRouteKey(route.routeKey);
      // The first route of a function keeps the ids it always had.
      const suffix = known ? `${route.functionName}-${method}` : route.functionName;
      const httpRoute = new HttpRoute(this, `Route-${suffix}`, {
        httpApi: this.httpApi,
        routeKey: HttpRouteKey.with(path, method),
        integration: new HttpLambdaIntegration(`Integration-${suffix}`, fn),
      });
      Validations.of(httpRoute).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason: route.auth
          ? 'The function authenticates the API key itself (one place maps auth failures to 401 bodies); ' +
            'an API Gateway Lambda authorizer arrives with per-tenant keys.'
          : PUBLIC_ROUTE_REASONS[route.functionName],
      });
    }
    this.functions = functions;

    const url =
      props.domain === undefined
        ? this.httpStage.url
        : `https://${mapCustomDomain(this, 'HttpApiDomain', props.domain, this.httpApi, this.httpStage)}/`;
    new CfnOutput(this, 'HttpApiUrl', { value: url });
  }
}

/** `'POST /v1/tasks'` → `[HttpMethod.POST, '/v1/tasks']`; a typo in the contracts fails synth. */
export const parseRouteKey = (routeKey: string): [HttpMethod, string] => {
  const [method, path, ...rest] = routeKey.split(' ');
  const httpMethod = Object.values(HttpMethod).find((m) => m === method);
  if (httpMethod === undefined || path === undefined || !path.startsWith('/') || rest.length > 0) {
    throw new Error(`Route key "${routeKey}" is not "<METHOD> /<path>".`);
  }
  return [httpMethod, path];
};
