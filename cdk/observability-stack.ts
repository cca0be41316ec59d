/**
 * Observability: one CloudWatch dashboard and the alarms an operator needs, built only from
 * metric names in the contracts' registry (our EMF metrics, read by the stage dimension
 * alone: the emitters publish that per-stage total) and the AWS services' own metrics.
 */

import { ArnFormat, CfnOutput, Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import type { IHttpStage } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { FargateService } from 'aws-cdk-lib/aws-ecs';
import type { ApplicationTargetGroup } from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { type ITopic, Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import {
  HTTP_ROUTES,
  LAMBDA_RUNNER,
  METRIC_DIMENSIONS,
  METRICS,
  type MetricName,
  SWEEPER,
  WEBHOOK_DELIVERER,
  WS_ROUTES,
} from '../shared/contracts.js';
import { deployedFunctionName } from './node-function.js';
import type { Stage } from './stage.js';

export interface ObservabilityStackProps extends StackProps {
  readonly stage: Stage;
  readonly fleetQueue: IQueue;
  readonly lambdaQueue: IQueue;
  readonly fleetDeadLetterQueue: IQueue;
  readonly lambdaDeadLetterQueue: IQueue;
  readonly webhookDeadLetterQueue: IQueue;
  readonly fleetService: FargateService;
  /** The HTTP API's stage: its 5xx responses are alarmed on. */
  readonly httpStage: IHttpStage;
  /** The workers behind the CDP load balancer: unhealthy ones are alarmed on. */
  readonly cdpTargetGroup: ApplicationTargetGroup;
  /**
   * Where alarms notify: an existing SNS topic (its policy must let CloudWatch publish).
   * Without one, this stack creates a topic for them.
   */
  readonly alarmTopicArn?: string | undefined;
  /** An address the created topic emails (it must confirm the subscription once). */
  readonly alarmEmail?: string | undefined;
}

/**
 * Every Lambda function of the app, by its name in `functions/`: each one's errors are
 * alarmed on. From the contracts, so a new route's function is covered when it is added.
 */
const FUNCTION_NAMES = [
  ...new Set<string>([
    ...HTTP_ROUTES.map((r) => r.functionName),
    ...WS_ROUTES.map((r) => r.functionName),
    SWEEPER.functionName,
    LAMBDA_RUNNER.functionName,
    WEBHOOK_DELIVERER.functionName,
  ]),
];

/** Oldest waiting task before someone should look: the fleet is not keeping up. */
const OLDEST_MESSAGE_ALARM_SECONDS = 300;
/** Failed share of ended tasks (5-minute windows) that pages someone. */
const ERROR_RATE_ALARM = 0.2;
/**
 * 5xx answers from the HTTP API in 5 minutes before someone is paged: a handful is a
 * deploy or a throttled dependency; more is an outage of some route.
 */
const HTTP_5XX_ALARM = 5;
/**
 * Minutes a CDP target may be unhealthy before someone is paged: a worker that is starting
 * is not unhealthy yet (it is `initial`), so three minutes is one that stopped answering.
 */
const UNHEALTHY_HOST_MINUTES = 3;
/**
 * Minutes with no running fleet task before someone is paged: a crashed task's replacement
 * pulls the image and starts Chromium in a minute or two, so a shorter gap is a restart.
 */
const FLEET_UNHEALTHY_MINUTES = 3;

/** One of our EMF metrics, as the stage's total (the emitters' `[Stage]` dimension set). */
export const appMetric = (
  stage: Stage,
  name: MetricName,
  statistic = 'Sum',
  period = Duration.minutes(1),
): Metric =>
  new Metric({
    namespace: METRICS.namespace,
    metricName: name,
    dimensionsMap: { [METRIC_DIMENSIONS.stage]: stage },
    statistic,
    period,
  });

export class ObservabilityStack extends Stack {
  readonly dashboard: Dashboard;
  readonly alarms: Alarm[] = [];

  /** The SNS topic every alarm notifies (created here, or the one given). */
  readonly alarmTopic: ITopic;

  constructor(scope: Construct, id: string, props: ObservabilityStackProps) {
    super(scope, id, props);
    const { stage } = props;
    this.alarmTopic = alarmTopic(this, stage, props.alarmTopicArn, props.alarmEmail);
    const notify = new SnsAction(this.alarmTopic);

    const failed = appMetric(stage, 'TasksFailed', 'Sum', Duration.minutes(5));
    const succeeded = appMetric(stage, 'TasksSucceeded', 'Sum', Duration.minutes(5));
    const errorRate = new MathExpression({
      expression: 'IF(failed + succeeded > 0, failed / (failed + succeeded), 0)',
      usingMetrics: { failed, succeeded },
      period: Duration.minutes(5),
      label: 'Failed share of ended tasks',
    });

    const alarm = (
      name: string,
      metric: IMetric,
      threshold: number,
      description: string,
      options: {
        operator?: ComparisonOperator;
        evaluationPeriods?: number;
        /** Most of our metrics have no data point when nothing happens: that is not a breach. */
        treatMissingData?: TreatMissingData;
      } = {},
    ) => {
      const created = new Alarm(this, name, {
        alarmName: `browserfleet-${stage}-${name}`,
        alarmDescription: description,
        metric,
        threshold,
        evaluationPeriods: options.evaluationPeriods ?? 1,
        comparisonOperator: options.operator ?? ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: options.treatMissingData ?? TreatMissingData.NOT_BREACHING,
      });
      // Someone hears of it going off, and of it clearing.
      created.addAlarmAction(notify);
      created.addOkAction(notify);
      this.alarms.push(created);
      return created;
    };
    alarm(
      'webhook-dlq-not-empty',
      props.webhookDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: 'Maximum',
      }),
      0,
      "A webhook event ran out of attempts: its receiver kept failing (see the task's webhook.deliveries).",
    );
    for (const [tier, dlq] of [
      ['fleet', props.fleetDeadLetterQueue],
      ['lambda', props.lambdaDeadLetterQueue],
    ] as const) {
      alarm(
        `${tier}-dlq-not-empty`,
        dlq.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
        0,
        `The ${tier} tier's dead-letter queue holds messages: inspect and redrive with npm run dlq.`,
      );
    }
    alarm(
      'fleet-oldest-message-age',
      props.fleetQueue.metricApproximateAgeOfOldestMessage({
        period: Duration.minutes(1),
        statistic: 'Maximum',
      }),
      OLDEST_MESSAGE_ALARM_SECONDS,
      'A fleet task has waited more than 5 minutes: the fleet is not keeping up (or not running).',
    );
    alarm(
      'task-error-rate',
      errorRate,
      ERROR_RATE_ALARM,
      'More than 20% of ended tasks failed in 5 minutes.',
    );
    // Running tasks as Container Insights counts them (enabled on the fleet's cluster). The
    // fleet never scales below one task, so fewer is an outage. With no task running there
    // may be no data point at all (per-task metrics such as CPU have none), so missing data
    // counts as breaching: otherwise the alarm would stay quiet in exactly its own case.
    const runningTasks = new Metric({
      namespace: 'ECS/ContainerInsights',
      metricName: 'RunningTaskCount',
      dimensionsMap: {
        ClusterName: props.fleetService.cluster.clusterName,
        ServiceName: props.fleetService.serviceName,
      },
      statistic: 'Minimum',
      period: Duration.minutes(1),
    });
    alarm(
      'fleet-unhealthy',
      runningTasks,
      1,
      `The fleet service has had no running task for ${FLEET_UNHEALTHY_MINUTES} minutes.`,
      {
        operator: ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: FLEET_UNHEALTHY_MINUTES,
        treatMissingData: TreatMissingData.BREACHING,
      },
    );

    // A function error is a crash or a timeout: handlers map every expected failure to an
    // answer (HTTP, WebSocket) or a partial batch response (the Lambda tier).
    for (const name of FUNCTION_NAMES) {
      alarm(
        `${name}-errors`,
        new Metric({
          namespace: 'AWS/Lambda',
          metricName: 'Errors',
          dimensionsMap: { FunctionName: deployedFunctionName(stage, name) },
          statistic: 'Sum',
          period: Duration.minutes(5),
        }),
        0,
        `${deployedFunctionName(stage, name)} failed (crashed or timed out) in the last 5 minutes: see its log group.`,
      );
    }
    alarm(
      'http-5xx',
      props.httpStage.metricServerError({ period: Duration.minutes(5), statistic: 'Sum' }),
      HTTP_5XX_ALARM,
      `The HTTP API answered more than ${HTTP_5XX_ALARM} requests with 5xx in 5 minutes: see the access logs.`,
    );
    alarm(
      'cdp-unhealthy-hosts',
      props.cdpTargetGroup.metrics.unhealthyHostCount({ period: Duration.minutes(1), statistic: 'Maximum' }),
      0,
      `A worker behind the CDP load balancer has failed its health check for ${UNHEALTHY_HOST_MINUTES} minutes.`,
      { evaluationPeriods: UNHEALTHY_HOST_MINUTES },
    );

    this.dashboard = new Dashboard(this, 'Dashboard', { dashboardName: `browserfleet-${stage}` });
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Queue depth and age',
        left: [
          props.fleetQueue.metricApproximateNumberOfMessagesVisible(),
          props.lambdaQueue.metricApproximateNumberOfMessagesVisible(),
        ],
        right: [props.fleetQueue.metricApproximateAgeOfOldestMessage()],
      }),
      new GraphWidget({
        title: 'Task outcomes',
        left: (
          ['TasksSubmitted', 'TasksSucceeded', 'TasksFailed', 'TasksRetried', 'TasksCancelled'] as const
        ).map((n) => appMetric(stage, n)),
        right: [errorRate],
      }),
      new GraphWidget({
        title: 'Latency (p50, p95)',
        left: (['RunMs', 'QueueWaitMs'] as const).flatMap((n) => [
          appMetric(stage, n, 'p50'),
          appMetric(stage, n, 'p95'),
        ]),
      }),
      new GraphWidget({
        title: 'Engine: lost leases, sweeper, hand-backs',
        left: (['LeaseLost', 'SweeperRequeued', 'SweeperResent', 'TasksHandedBack'] as const).map((n) =>
          appMetric(stage, n),
        ),
      }),
      new GraphWidget({
        title: 'Tenants and egress',
        left: (['RateLimited', 'QuotaExceeded', 'AuthFailures', 'DestinationsBlocked'] as const).map((n) =>
          appMetric(stage, n),
        ),
      }),
      new GraphWidget({
        title: 'Fleet',
        left: [props.fleetService.metricCpuUtilization(), props.fleetService.metricMemoryUtilization()],
        right: [appMetric(stage, 'TasksStarted'), appMetric(stage, 'BrowserMs', 'Sum')],
      }),
      new GraphWidget({
        title: 'Browser crashes (task pool and live sessions, by where in Logs Insights), running tasks',
        left: [appMetric(stage, 'BrowserCrashes')],
        right: [runningTasks.with({ label: 'Running fleet tasks' })],
      }),
      new GraphWidget({
        title: 'Live sessions: started, ended (by reason in Logs Insights), minutes',
        left: (['SessionsCreated', 'SessionsLive', 'SessionsEnded'] as const).map((n) => appMetric(stage, n)),
        right: [appMetric(stage, 'SessionMinutes', 'Sum')],
      }),
      new GraphWidget({
        title: 'Session commands: count, latency (p50, p95), screencast frames',
        left: [appMetric(stage, 'SessionCommands'), appMetric(stage, 'ScreencastFrames')],
        right: [appMetric(stage, 'SessionCommandMs', 'p50'), appMetric(stage, 'SessionCommandMs', 'p95')],
      }),
    );
    new CfnOutput(this, 'DashboardName', { value: this.dashboard.dashboardName });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarmTopic.topicArn });
  }
}

/**
 * The topic the alarms notify: the one given, or one of this stack's that only CloudWatch
 * alarms of this account may publish to (over TLS).
 */
const alarmTopic = (scope: Stack, stage: Stage, existingArn?: string, email?: string): ITopic => {
  if (existingArn !== undefined) return Topic.fromTopicArn(scope, 'AlarmTopic', existingArn);
  const topic = new Topic(scope, 'AlarmTopic', {
    topicName: `browserfleet-${stage}-alarms`,
    displayName: `browserfleet ${stage} alarms`,
    enforceSSL: true,
  });
  // A topic policy replaces SNS's default one, so CloudWatch is let in by name.
  topic.addToResourcePolicy(
    new PolicyStatement({
      principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['sns:Publish'],
      resources: [topic.topicArn],
      conditions: {
        StringEquals: { 'aws:SourceAccount': scope.account },
        ArnLike: {
          'aws:SourceArn': scope.formatArn({
            service: 'cloudwatch',
            resource: 'alarm',
            resourceName: '*',
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        },
      },
    }),
  );
  if (email !== undefined) topic.addSubscription(new EmailSubscription(email));
  Validations.of(topic).acknowledge({
    id: 'AwsSolutions-SNS2',
    reason:
      'Alarm notifications carry alarm names and states, no tenant data; CloudWatch cannot publish to a ' +
      "topic under the AWS-managed SNS key, and a customer key per stage isn't worth that.",
  });
  return topic;
};
