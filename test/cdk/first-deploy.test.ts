/**
 * What only AWS checks, asserted on the synthesized templates: the rules a first
 * `cdk deploy` (or the first request after it) would be refused on, which no emulator
 * enforces. One test per rule, named after it. Grants are evaluated as IAM would
 * (test/cdk/iam-policies.ts), not looked up by action name.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { FAIL_SYNTH_ON_VALIDATION_ERRORS_CONTEXT } from 'aws-cdk-lib/cx-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserfleetApp, buildApp } from '../../cdk/build-app.js';
import { VPC_NETWORK_INTERFACE_ACTIONS } from '../../cdk/node-function.js';
import { allows, functionRoleId, type Resource, roleStatements } from './iam-policies.js';

const SYNTH_TIMEOUT_MS = 120_000;

const outdirs: string[] = [];
/** The app as `cdk synth` builds it, without bundling the functions (same templates, faster). */
const build = (stage: 'dev' | 'prod'): BrowserfleetApp => {
  const outdir = mkdtempSync(join(tmpdir(), 'browserfleet-cdk-deploy-test-'));
  outdirs.push(outdir);
  const context = { [FAIL_SYNTH_ON_VALIDATION_ERRORS_CONTEXT]: false, 'aws:cdk:bundling-stacks': [] };
  return buildApp({ stage }, new App({ outdir, context }));
};

describe('a first cdk deploy', { timeout: SYNTH_TIMEOUT_MS }, () => {
  let apps: BrowserfleetApp[];
  /** Every stack of every stage's app, as templates. */
  let templates: { stack: string; template: Template }[];

  beforeAll(() => {
    apps = [build('dev'), build('prod')];
    templates = apps.flatMap((built) =>
      built.app.node.children
        .filter(Stack.isStack)
        .map((stack) => ({ stack: stack.stackName, template: Template.fromStack(stack) })),
    );
  }, SYNTH_TIMEOUT_MS);

  afterAll(() => {
    for (const outdir of outdirs) rmSync(outdir, { recursive: true, force: true });
  });

  const resourcesOf = (template: Template, type: string): [string, Resource][] =>
    Object.entries(template.findResources(type)) as [string, Resource][];

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
});
