/**
 * How the fleet scales and deploys, one test per decision: scaling sees work in flight,
 * scale-in stops only idle workers, and a protected worker holds a deployment for minutes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { FAIL_SYNTH_ON_VALIDATION_ERRORS_CONTEXT } from 'aws-cdk-lib/cx-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserfleetApp, buildApp } from '../../cdk/build-app.js';
import { FLEET_TARGET_UTILIZATION } from '../../cdk/fleet-stack.js';
import { SUPERSEDED_GRACE_MS } from '../../container/task-protection.js';
import { ENV, FLEET, METRIC_DIMENSIONS, METRICS } from '../../shared/contracts.js';
import { ACCOUNT, allows, REGION, type Resource, referencedId, roleStatements } from './iam-policies.js';

const SYNTH_TIMEOUT_MS = 120_000;

describe('fleet scaling and deployments', { timeout: SYNTH_TIMEOUT_MS }, () => {
  let built: BrowserfleetApp;
  let fleet: Template;
  let outdir: string;

  beforeAll(() => {
    outdir = mkdtempSync(join(tmpdir(), 'browserfleet-cdk-scaling-test-'));
    const context = { [FAIL_SYNTH_ON_VALIDATION_ERRORS_CONTEXT]: false, 'aws:cdk:bundling-stacks': [] };
    built = buildApp({ stage: 'dev' }, new App({ outdir, context }));
    fleet = Template.fromStack(built.fleet);
  }, SYNTH_TIMEOUT_MS);

  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  const taskDefinition = () => Object.values(fleet.findResources('AWS::ECS::TaskDefinition'))[0] as Resource;
  const workerStatements = () =>
    roleStatements(fleet, referencedId(taskDefinition().Properties.TaskRoleArn) ?? '');
  const workerEnv = () =>
    Object.fromEntries(
      (
        (
          taskDefinition().Properties.ContainerDefinitions as Array<{
            Environment?: { Name: string; Value: unknown }[];
          }>
        )[0]?.Environment ?? []
      ).map((e) => [e.Name, e.Value]),
    );

  it("the fleet scales with one policy, on the workers' share of slots at work, not on queue depth", () => {
    const policies = Object.values(
      fleet.findResources('AWS::ApplicationAutoScaling::ScalingPolicy'),
    ) as Resource[];
    // One policy: two (backlog in, session slots out) fought each other.
    expect(policies).toHaveLength(1);
    expect(policies[0]?.Properties.PolicyType).toBe('TargetTrackingScaling');
    const config = policies[0]?.Properties.TargetTrackingScalingPolicyConfiguration as {
      TargetValue: number;
      CustomizedMetricSpecification: {
        MetricName: string;
        Namespace: string;
        Statistic: string;
        Dimensions: unknown;
      };
    };
    expect(config.TargetValue).toBe(FLEET_TARGET_UTILIZATION);
    expect(config.CustomizedMetricSpecification).toEqual(
      expect.objectContaining({
        MetricName: METRICS.workerUtilization,
        Namespace: METRICS.namespace,
        Statistic: 'Average',
        Dimensions: [{ Name: METRIC_DIMENSIONS.stage, Value: 'dev' }],
      }),
    );
    // Messages are deleted at claim: an empty queue is no sign of idle workers, so no alarm
    // of this stack scales on the queue.
    const alarms = Object.values(fleet.findResources('AWS::CloudWatch::Alarm')) as Resource[];
    expect(JSON.stringify(alarms)).not.toContain('ApproximateNumberOf');
  });

  it('scale-in stops only idle workers: a busy worker may protect its own task', () => {
    const task = `arn:aws:ecs:${REGION}:${ACCOUNT}:task/${FLEET.clusterName('dev')}/0123456789abcdef`;
    expect(allows(workerStatements(), 'ecs:UpdateTaskProtection', task)).toBe(true);
    expect(allows(workerStatements(), 'ecs:UpdateTaskProtection', task.replace('-dev', '-prod'))).toBe(false);
  });

  it('a deployment waits minutes for a protected worker, not hours: it sees its own service and lets go', () => {
    const [service] = Object.values(fleet.findResources('AWS::ECS::Service')) as Resource[];
    expect(service?.Properties.ServiceName).toBe(FLEET.serviceName('dev'));
    expect(workerEnv()[ENV.workerServiceName]).toBe(FLEET.serviceName('dev'));
    expect(workerEnv()[ENV.workerClusterName]).toBe(FLEET.clusterName('dev'));
    const serviceArn = `arn:aws:ecs:${REGION}:${ACCOUNT}:service/${FLEET.clusterName('dev')}/${FLEET.serviceName('dev')}`;
    expect(allows(workerStatements(), 'ecs:DescribeServices', serviceArn)).toBe(true);
    expect(allows(workerStatements(), 'ecs:DescribeServices', `${serviceArn}-other`)).toBe(false);
    // New workers start beside the old (200%), the old leave as they let go; a rollout that
    // can't start its tasks is rolled back.
    expect(service?.Properties.DeploymentConfiguration).toEqual(
      expect.objectContaining({
        MinimumHealthyPercent: 100,
        MaximumPercent: 200,
        DeploymentCircuitBreaker: { Enable: true, Rollback: true },
      }),
    );
    // A superseded worker keeps protection at most this long, well inside CloudFormation's
    // wait for a service to stabilise (3 h) and far short of a session's 6 h.
    expect(SUPERSEDED_GRACE_MS).toBeLessThanOrEqual(30 * 60_000);
  });
});
