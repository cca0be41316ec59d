import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIG_ENV_REQUIRED } from '../../shared/config.js';
import { HTTP_ROUTES, LAMBDA_RUNNER, SWEEPER, WEBHOOK_DELIVERER, WS_ROUTES } from '../../shared/contracts.js';
import { schemaProblems } from './cfn-schema.js';
import type { Resource } from './iam-policies.js';
import { type BuiltStage, SYNTH_TIMEOUT_MS, type Synthesized, synthStages } from './synth.js';

/** Which config each function's entry file loads (its composition root). */
const RUNTIME_OF: Record<string, keyof typeof CONFIG_ENV_REQUIRED> = {
  ...Object.fromEntries(HTTP_ROUTES.map((r) => [r.functionName, r.functionName])),
  ...Object.fromEntries(WS_ROUTES.map((r) => [r.functionName, 'ws' as const])),
  [SWEEPER.functionName]: 'sweeper',
  [LAMBDA_RUNNER.functionName]: 'lambdaRunner',
  [WEBHOOK_DELIVERER.functionName]: 'webhookDeliverer',
};

/** What a config needs that `env` lacks: required names, and oneOf groups with none set. */
const missingFor = (runtime: keyof typeof CONFIG_ENV_REQUIRED, env: Record<string, unknown>): string[] => {
  const { required, oneOf } = CONFIG_ENV_REQUIRED[runtime];
  return [
    ...required.filter((name) => !(name in env)),
    ...oneOf.filter((names) => !names.some((n) => n in env)).map((names) => names.join(' or ')),
  ];
};

describe('templates CloudFormation would accept', { timeout: SYNTH_TIMEOUT_MS }, () => {
  let synthesized: Synthesized;
  let apps: BuiltStage[];
  let templates: Synthesized['templates'];

  beforeAll(() => {
    synthesized = synthStages(['dev', 'prod'], 'schema-test');
    ({ apps, templates } = synthesized);
  }, SYNTH_TIMEOUT_MS);

  afterAll(() => synthesized?.dispose());

  it("every resource's properties fit CloudFormation's resource schema: known names, required ones, types", () => {
    expect(templates.length).toBeGreaterThanOrEqual(12);
    for (const { stack, template } of templates) {
      expect({ stack, problems: schemaProblems(template.toJSON()) }).toEqual({ stack, problems: [] });
    }
  });

  it('the schema check refuses a misspelt property, a wrong type, a missing required property and an unknown value', () => {
    const [{ template } = { template: undefined }] = templates.filter((t) => t.stack.endsWith('-api'));
    const json = template?.toJSON() as { Resources: Record<string, Resource> };
    const [id, fn] = Object.entries(json.Resources).find(([, r]) => r.Type === 'AWS::Lambda::Function') ?? [];
    if (id === undefined || fn === undefined) throw new Error('no function in the API stack');
    const variant = (properties: Record<string, unknown>) =>
      schemaProblems({ Resources: { [id]: { Type: fn.Type, Properties: properties } } });

    expect(variant(fn.Properties)).toEqual([]);
    expect(variant({ ...fn.Properties, Timeoutt: 10 })).toEqual([
      expect.stringContaining('.Timeoutt: no such property'),
    ]);
    expect(variant({ ...fn.Properties, MemorySize: 'plenty' })).toEqual([
      expect.stringContaining('.MemorySize: expected a number'),
    ]);
    expect(variant({ ...fn.Properties, Environment: { Variables: ['A=1'] } })).toEqual([
      expect.stringContaining('.Environment.Variables: expected a map'),
    ]);
    const { Role: _role, ...withoutRole } = fn.Properties;
    expect(variant(withoutRole)).toEqual([expect.stringContaining('.Role: is required')]);
    expect(schemaProblems({ Resources: { Q: { Type: 'AWS::SQS::Queuee', Properties: {} } } })).toEqual([
      'Q: AWS::SQS::Queuee is not a CloudFormation resource type',
    ]);
    // A value outside the schema's allowed values (where the schema lists them).
    expect(
      schemaProblems({
        Resources: {
          D: {
            Type: 'AWS::ApiGateway::DomainName',
            Properties: { DomainName: 'x.example', RoutingMode: 'NOPE' },
          },
        },
      }),
    ).toEqual([expect.stringMatching(/RoutingMode: "NOPE" is not one of/)]);
  });

  it('every function is given each env var its config requires (names from CONFIG_ENV_REQUIRED)', () => {
    let checked = 0;
    for (const built of apps) {
      for (const { template } of templates.filter((t) =>
        t.stack.startsWith(`browserfleet-${built.stage}-`),
      )) {
        for (const fn of Object.values(template.findResources('AWS::Lambda::Function')) as Resource[]) {
          const name = String(fn.Properties.FunctionName ?? '').replace(`browserfleet-${built.stage}-`, '');
          const runtime = RUNTIME_OF[name];
          if (runtime === undefined) continue;
          checked += 1;
          const env =
            (fn.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ??
            {};
          expect({ fn: name, missing: missingFor(runtime, env) }).toEqual({ fn: name, missing: [] });
        }
      }
    }
    // Every function of both stages: one per route, the ws-* ones, the sweeper and the runner.
    expect(checked).toBe(2 * Object.keys(RUNTIME_OF).length);

    for (const built of apps) {
      const fleet = Template.fromStack(built.fleet);
      const [taskDefinition] = Object.values(fleet.findResources('AWS::ECS::TaskDefinition')) as Resource[];
      const [container] = (taskDefinition?.Properties.ContainerDefinitions ?? []) as Array<{
        Environment?: Array<{ Name: string }>;
      }>;
      const env = Object.fromEntries((container?.Environment ?? []).map((e) => [e.Name, true]));
      expect({ worker: built.stage, missing: missingFor('worker', env) }).toEqual({
        worker: built.stage,
        missing: [],
      });
    }
  });
});
