/**
 * The dashboard and the alarms read only metrics the code emits, and every metric in the
 * registry is emitted somewhere (MetricName makes an unregistered name a type error).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { FAIL_SYNTH_ON_VALIDATION_ERRORS_CONTEXT } from 'aws-cdk-lib/cx-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../cdk/build-app.js';
import { METRICS } from '../../shared/contracts.js';

const registry = Object.entries(METRICS)
  .filter(([key]) => key !== 'namespace')
  .map(([, name]) => name);

const sources = (dir: string): string[] =>
  readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });

/** Metric names passed to count()/timing() or mapped from refusals, in runtime code. */
const emitted = new Set(
  ['shared', 'functions', 'container'].flatMap(sources).flatMap((file) => {
    const text = readFileSync(file, 'utf8');
    return [...text.matchAll(/(?:count|timing)\(\s*'(\w+)'|:\s*'(\w+)',?\s*$/gm)]
      .map((m) => m[1] ?? m[2] ?? '')
      .filter((name) => (registry as string[]).includes(name));
  }),
);

let template: Template;
beforeAll(() => {
  const app = new App({ context: { [FAIL_SYNTH_ON_VALIDATION_ERRORS_CONTEXT]: false } });
  template = Template.fromStack(buildApp({ stage: 'dev' }, app).observability);
}, 60_000);

const ourMetricNames = (node: unknown, out: string[] = []): string[] => {
  if (Array.isArray(node)) for (const n of node) ourMetricNames(n, out);
  else if (node !== null && typeof node === 'object') {
    const record = node as Record<string, unknown>;
    if (record.Namespace === METRICS.namespace && typeof record.MetricName === 'string')
      out.push(record.MetricName);
    for (const value of Object.values(record)) ourMetricNames(value, out);
  }
  return out;
};

describe('observability', () => {
  it('every registered metric is emitted by the runtime code', () => {
    expect(registry.filter((name) => !emitted.has(name))).toEqual([]);
  });

  it('every alarm refers to a metric the code emits (or an AWS service metric)', () => {
    const alarms = template.findResources('AWS::CloudWatch::Alarm');
    expect(Object.keys(alarms).length).toBeGreaterThanOrEqual(5);
    for (const name of ourMetricNames(alarms)) expect(emitted).toContain(name);
  });

  it('every dashboard widget refers to metrics the code emits', () => {
    const dashboards = template.findResources('AWS::CloudWatch::Dashboard');
    const body = JSON.stringify(Object.values(dashboards).map((d) => d.Properties.DashboardBody));
    const names = [...body.matchAll(/\\"(Browserfleet)\\",\\"(\w+)\\"/g)].map((m) => m[2] ?? '');
    expect(names.length).toBeGreaterThan(10);
    for (const name of names) expect(emitted).toContain(name);
  });

  it('alarms on a non-empty DLQ for both tiers, the oldest message age and the error rate', () => {
    for (const name of [
      'fleet-dlq-not-empty',
      'lambda-dlq-not-empty',
      'fleet-oldest-message-age',
      'task-error-rate',
      'fleet-unhealthy',
    ]) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: `browserfleet-dev-${name}` });
    }
  });
});
