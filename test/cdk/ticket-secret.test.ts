import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserfleetApp } from '../../cdk/build-app.js';
import { ENV } from '../../shared/contracts.js';
import {
  allows,
  functionRoleId,
  type Resource,
  referencedId,
  resolve,
  roleStatements,
  type Statement,
} from './iam-policies.js';
import { SYNTH_TIMEOUT_MS, type Synthesized, synthStages } from './synth.js';

/** What handles tickets or inbox calls: these, the five ws-* functions and the worker. */
const TICKET_HTTP_FUNCTIONS = [
  'http-create-session',
  'http-list-sessions',
  'http-get-session',
  'http-close-session',
  'http-live-view',
  // MCP's session tools hand out cdpUrl and liveViewUrl, and sign inbox calls.
  'http-mcp',
];

const asList = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

describe('the session ticket secret', { timeout: SYNTH_TIMEOUT_MS }, () => {
  let synthesized: Synthesized;
  let built: BrowserfleetApp;
  let templates: Synthesized['templates'];

  beforeAll(() => {
    synthesized = synthStages(['dev'], 'secret-test');
    built = synthesized.apps[0] as BrowserfleetApp;
    templates = synthesized.templates;
  }, SYNTH_TIMEOUT_MS);

  afterAll(() => synthesized?.dispose());

  const functions = () =>
    templates.flatMap(({ stack, template }) =>
      Object.entries(template.findResources('AWS::Lambda::Function'))
        // This app's functions; CDK's own helpers (log retention and the like) hold no secret.
        .filter(([, fn]) =>
          String((fn as Resource).Properties.FunctionName ?? '').startsWith('browserfleet-'),
        )
        .map(([id, fn]) => ({
          name: String((fn as Resource).Properties.FunctionName ?? `${stack}/${id}`).replace(
            /^browserfleet-dev-/,
            '',
          ),
          env:
            ((fn as Resource).Properties.Environment as { Variables?: Record<string, unknown> } | undefined)
              ?.Variables ?? {},
          statements: roleStatements(template, functionRoleId(fn as Resource)),
        })),
    );

  const worker = () => {
    const template = Template.fromStack(built.fleet);
    const [taskDefinition] = Object.values(template.findResources('AWS::ECS::TaskDefinition')) as Resource[];
    const [container] = (taskDefinition?.Properties.ContainerDefinitions ?? []) as Array<{
      Environment?: Array<{ Name: string; Value: unknown }>;
      Secrets?: unknown[];
    }>;
    return {
      container,
      env: Object.fromEntries((container?.Environment ?? []).map((e) => [e.Name, e.Value])),
      statements: roleStatements(template, referencedId(taskDefinition?.Properties.TaskRoleArn) ?? ''),
    };
  };

  const secretActions = (statements: Statement[]) =>
    statements.flatMap((s) => asList(s.Action)).filter((a) => a.toLowerCase().startsWith('secretsmanager:'));

  it('no function environment holds a {{resolve:secretsmanager}} value, nor the key itself', () => {
    const all = functions();
    expect(all.length).toBeGreaterThan(15);
    for (const fn of all) {
      expect({ fn: fn.name, env: JSON.stringify(fn.env) }).not.toEqual(
        expect.objectContaining({ env: expect.stringContaining('resolve:secretsmanager') }),
      );
      expect(Object.keys(fn.env)).not.toContain(ENV.sessionTicketSecret);
    }
    // Nor the worker's task definition: no ECS secret injected at task start either (that
    // would be read once, and a rotation would not reach a running worker).
    const { container, env } = worker();
    expect(container?.Secrets).toBeUndefined();
    expect(Object.keys(env)).not.toContain(ENV.sessionTicketSecret);
    expect(JSON.stringify(env)).not.toContain('resolve:secretsmanager');
  });

  it('exactly the functions and the worker that handle tickets get its ARN and may GetSecretValue it, nothing more', () => {
    const readers: string[] = [];
    for (const fn of functions()) {
      const secretId = fn.env[ENV.sessionTicketSecretId];
      if (secretId === undefined) {
        expect({ fn: fn.name, actions: secretActions(fn.statements) }).toEqual({ fn: fn.name, actions: [] });
        continue;
      }
      readers.push(fn.name);
      const arn = resolve(secretId);
      expect({ fn: fn.name, allowed: allows(fn.statements, 'secretsmanager:GetSecretValue', arn) }).toEqual({
        fn: fn.name,
        allowed: true,
      });
      expect(secretActions(fn.statements)).toEqual(['secretsmanager:GetSecretValue']);
    }
    expect(readers.sort()).toEqual(
      [
        ...TICKET_HTTP_FUNCTIONS,
        'ws-attach',
        'ws-command',
        'ws-connect',
        'ws-default',
        'ws-disconnect',
      ].sort(),
    );

    const { env, statements } = worker();
    const arn = resolve(env[ENV.sessionTicketSecretId]);
    expect(allows(statements, 'secretsmanager:GetSecretValue', arn)).toBe(true);
    expect(secretActions(statements)).toEqual(['secretsmanager:GetSecretValue']);
  });

  // Secrets Manager: the ticket secret. SQS: the MCP function submits tasks and starts
  // sessions from inside the VPC (it calls the workers' inboxes).
  it.each(['secretsmanager', 'sqs'])(
    'functions in the VPC (no NAT) reach %s through an interface endpoint with private DNS',
    (service) => {
      const network = Template.fromStack(built.network);
      const endpoints = Object.values(network.findResources('AWS::EC2::VPCEndpoint')) as Resource[];
      const endpoint = endpoints.find((e) => resolve(e.Properties.ServiceName).endsWith(`.${service}`));
      expect(endpoint?.Properties).toEqual(
        expect.objectContaining({ VpcEndpointType: 'Interface', PrivateDnsEnabled: true }),
      );
      // HTTPS from inside the VPC, which holds the functions and the workers.
      const [groupRef] = asList(endpoint?.Properties.SecurityGroupIds as unknown[]);
      const group = network.toJSON().Resources[referencedId(groupRef) ?? ''] as Resource;
      expect(group.Properties.SecurityGroupIngress).toEqual([
        expect.objectContaining({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443 }),
      ]);
      // One endpoint network interface per subnet the functions run in.
      expect(asList(endpoint?.Properties.SubnetIds as unknown[]).length).toBe(2);
    },
  );
});
