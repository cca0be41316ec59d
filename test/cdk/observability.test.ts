/**
 * The dashboard and the alarms read only metrics the code emits, every metric in the
 * registry is emitted somewhere and nothing outside it is, and the fleet alarm fires when
 * no fleet task runs.
 *
 * "Emitted" is read from the runtime code (shared/, functions/, container/), never from the
 * registry module: a metric name is a string where the type checker expects a MetricName —
 * a count()/timing() argument, either branch of a ternary passed there, a value of a
 * `Record<…, MetricName>` map.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { FAIL_SYNTH_ON_VALIDATION_ERRORS_CONTEXT } from 'aws-cdk-lib/cx-api';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../cdk/build-app.js';
import { DOCS_RENDERER, METRICS } from '../../shared/contracts.js';

const ROOT = resolve(import.meta.dirname, '../..');
const REGISTRY_MODULE = join(ROOT, 'shared/contracts.ts');
const RUNTIME_DIRS = ['shared', 'functions', 'container'];

const registry: string[] = Object.entries(METRICS)
  .filter(([key]) => key !== 'namespace')
  .map(([, name]) => name);

const sources = (dir: string): string[] =>
  readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });

/** Each metric name the runtime code emits, with the places (`file:line`) it is emitted from. */
const emittedMetricNames = (): Map<string, string[]> => {
  const files = RUNTIME_DIRS.flatMap((dir) => sources(join(ROOT, dir)));
  const config = ts.getParsedCommandLineOfConfigFile(
    join(ROOT, 'tsconfig.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  );
  if (config === undefined) throw new Error('tsconfig.json could not be read');
  const program = ts.createProgram(files, config.options);
  const checker = program.getTypeChecker();
  const contracts = program.getSourceFile(REGISTRY_MODULE);
  const alias = contracts?.statements.find(
    (s): s is ts.TypeAliasDeclaration => ts.isTypeAliasDeclaration(s) && s.name.text === 'MetricName',
  );
  if (alias === undefined) throw new Error(`${REGISTRY_MODULE} no longer declares the MetricName type`);
  const metricName = checker.getTypeAtLocation(alias.name);

  /** `'X' as never`, `('X')`, `'X'!`: the expression inside, so a cast can't hide a name. */
  const unwrap = (node: ts.Expression): ts.Expression =>
    ts.isAsExpression(node) ||
    ts.isTypeAssertionExpression(node) ||
    ts.isSatisfiesExpression(node) ||
    ts.isParenthesizedExpression(node) ||
    ts.isNonNullExpression(node)
      ? unwrap(node.expression)
      : node;

  const found = new Map<string, string[]>();
  for (const file of files) {
    if (file === REGISTRY_MODULE) continue;
    const source = program.getSourceFile(file);
    if (source === undefined) throw new Error(`${file} is not in the program`);
    const visit = (node: ts.Node): void => {
      const expected = ts.isExpression(node) ? checker.getContextualType(node) : undefined;
      if (expected !== undefined && checker.getNonNullableType(expected) === metricName) {
        // One literal where a MetricName goes: 'TasksFailed', METRICS.tasksFailed, a const.
        // (A variable typed MetricName is not one: its values are found where it is set.)
        const inner = unwrap(node as ts.Expression);
        const type = checker.getTypeAtLocation(inner);
        if (type.isStringLiteral()) {
          const line = source.getLineAndCharacterOfPosition(inner.getStart()).line + 1;
          const places = found.get(type.value) ?? [];
          const place = `${relative(ROOT, file)}:${line}`;
          if (!places.includes(place)) found.set(type.value, [...places, place]);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found;
};

let emitted: Map<string, string[]>;
let template: Template;
let fleet: Template;
let apiTemplate: Template;
let assembly: string;
beforeAll(() => {
  emitted = emittedMetricNames();
  const app = new App({ context: { [FAIL_SYNTH_ON_VALIDATION_ERRORS_CONTEXT]: false } });
  const built = buildApp({ stage: 'dev' }, app);
  template = Template.fromStack(built.observability);
  fleet = Template.fromStack(built.fleet);
  apiTemplate = Template.fromStack(built.api);
  assembly = app.outdir;
  // This app bundles every function with the local esbuild, as `cdk synth` does: the one
  // place in the tests that proves they all bundle. Some 25 bundles take over two minutes
  // when other test files share the two cores.
}, 300_000);

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

const notEmitted = (names: string[]): string[] => [...new Set(names)].filter((name) => !emitted.has(name));

describe('observability', () => {
  it('a browser crash is counted where the task pool and the session host detect it', () => {
    expect(emitted.get('BrowserCrashes')?.sort()).toEqual([
      expect.stringMatching(/^shared\/adapters\/puppeteer\/browser-pool\.ts:\d+$/),
      expect.stringMatching(/^shared\/session\/hosted-session\.ts:\d+$/),
    ]);
  });

  it('every registered metric is emitted by the runtime code', () => {
    expect(notEmitted(registry)).toEqual([]);
  });

  it('every metric the runtime code emits is registered', () => {
    const unregistered = [...emitted].filter(([name]) => !registry.includes(name));
    expect(unregistered).toEqual([]);
  });

  it('every alarm refers to a metric the code emits (or an AWS service metric)', () => {
    const alarms = template.findResources('AWS::CloudWatch::Alarm');
    expect(Object.keys(alarms).length).toBeGreaterThanOrEqual(5);
    expect(ourMetricNames(alarms).length).toBeGreaterThan(0);
    expect(notEmitted(ourMetricNames(alarms))).toEqual([]);
  });

  it('every dashboard widget refers to metrics the code emits', () => {
    const dashboards = template.findResources('AWS::CloudWatch::Dashboard');
    const body = JSON.stringify(Object.values(dashboards).map((d) => d.Properties.DashboardBody));
    const names = [...body.matchAll(/\\"(Browserfleet)\\",\\"(\w+)\\"/g)].map((m) => m[2] ?? '');
    expect(names.length).toBeGreaterThan(10);
    expect(names).toContain('BrowserCrashes');
    expect(notEmitted(names)).toEqual([]);
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

  it('fleet-unhealthy fires when no fleet task runs: Container Insights RunningTaskCount below 1, missing data breaching', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'browserfleet-dev-fleet-unhealthy',
      Namespace: 'ECS/ContainerInsights',
      MetricName: 'RunningTaskCount',
      Dimensions: Match.arrayWith([
        Match.objectLike({ Name: 'ClusterName' }),
        Match.objectLike({ Name: 'ServiceName' }),
      ]),
      Statistic: 'Minimum',
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
      TreatMissingData: 'breaching',
    });
    // The metric exists only where the cluster has Container Insights on.
    fleet.hasResourceProperties('AWS::ECS::Cluster', {
      ClusterSettings: Match.arrayWith([{ Name: 'containerInsights', Value: 'enabled' }]),
    });
  });
});

describe('the docs function', () => {
  it("carries the renderer it serves beside its bundle (no CDN, and node_modules isn't deployed)", () => {
    const functions = apiTemplate.findResources('AWS::Lambda::Function', {
      Properties: { FunctionName: 'browserfleet-dev-http-docs' },
    });
    const [docs] = Object.values(functions) as { Properties: { Code: { S3Key: string } } }[];
    const hash = docs?.Properties.Code.S3Key.replace(/\.zip$/, '');
    const bundle = join(assembly, `asset.${hash}`);
    expect(readdirSync(bundle)).toEqual(expect.arrayContaining(['index.mjs', DOCS_RENDERER.bundledFile]));
    expect(statSync(join(bundle, DOCS_RENDERER.bundledFile)).size).toBeGreaterThan(1_000_000);
  });
});
