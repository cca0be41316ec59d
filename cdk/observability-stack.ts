/**
 * Observability: one CloudWatch dashboard and the alarms an operator needs, built only from
 * metric names in the contracts' registry (our EMF metrics, read by the stage dimension
 * alone: the emitters publish that per-stage total) and the AWS services' own metrics.
 */
import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
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
import type { FargateService } from 'aws-cdk-lib/aws-ecs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { METRIC_DIMENSIONS, METRICS, type MetricName } from '../shared/contracts.js';
import type { Stage } from './stage.js';

export interface ObservabilityStackProps extends StackProps {
  readonly stage: Stage;
  readonly fleetQueue: IQueue;
  readonly lambdaQueue: IQueue;
  readonly fleetDeadLetterQueue: IQueue;
  readonly lambdaDeadLetterQueue: IQueue;
  readonly fleetService: FargateService;
}

/** Oldest waiting task before someone should look: the fleet is not keeping up. */
const OLDEST_MESSAGE_ALARM_SECONDS = 300;
/** Failed share of ended tasks (5-minute windows) that pages someone. */
const ERROR_RATE_ALARM = 0.2;
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

  constructor(scope: Construct, id: string, props: ObservabilityStackProps) {
    super(scope, id, props);
    const { stage } = props;

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
      this.alarms.push(created);
      return created;
    };
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
  }
}
