/**
 * The task-history index (GET /v1/tasks), asserted on the synthesized templates: it exists
 * as the contracts declare it, and it holds every tenant's tasks, so no role of the app may
 * query it but the list function's. Grants are evaluated as IAM would
 * (test/cdk/iam-policies.ts), over every role of every stack, not looked up by name.
 */
import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STATE_TABLE } from '../../shared/contracts.js';
import { allows, functionRoleId, type Resource, resolve, roleStatements } from './iam-policies.js';
import { type BuiltStage, SYNTH_TIMEOUT_MS, type Synthesized, synthStages } from './synth.js';

const { taskHistoryIndex, sweepIndex } = STATE_TABLE;

describe('the task-history index', { timeout: SYNTH_TIMEOUT_MS }, () => {
  let synthesized: Synthesized;
  let built: BuiltStage;

  beforeAll(() => {
    synthesized = synthStages(['dev'], 'task-history');
    built = synthesized.apps[0] as BuiltStage;
  }, SYNTH_TIMEOUT_MS);
  afterAll(() => synthesized?.dispose());

  /** Every role of every stack, by stack and logical id, with the index's ARN as that stack spells it. */
  const everyRole = () =>
    built.app.node
      .findAll()
      .filter(Stack.isStack)
      .flatMap((stack) => {
        const template = Template.fromStack(stack);
        const tableArn = resolve(stack.resolve(built.state.table.tableArn));
        return Object.entries(template.findResources('AWS::IAM::Role')).map(([roleId, role]) => ({
          name: `${stack.stackName}/${roleId}`,
          template,
          roleId,
          role: role as Resource,
          tableArn,
        }));
      });

  it('exists on the state table as the contracts declare it, with whole rows (no second read)', () => {
    Template.fromStack(built.state).hasResourceProperties('AWS::DynamoDB::Table', {
      AttributeDefinitions: Match.arrayWith([
        { AttributeName: taskHistoryIndex.partitionKey, AttributeType: 'S' },
        { AttributeName: taskHistoryIndex.sortKey, AttributeType: 'S' },
      ]),
      GlobalSecondaryIndexes: Match.arrayWith([
        {
          IndexName: taskHistoryIndex.name,
          KeySchema: [
            { AttributeName: taskHistoryIndex.partitionKey, KeyType: 'HASH' },
            { AttributeName: taskHistoryIndex.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ]),
    });
  });

  it('is on the task row itself, so it has no TTL or table of its own to outlive the task', () => {
    const tables = Template.fromStack(built.state).findResources('AWS::DynamoDB::Table');
    expect(Object.keys(tables)).toHaveLength(1);
  });

  it('only the list function may query it (one tenant’s history is one partition of everyone’s)', () => {
    const roles = everyRole();
    const querying = roles
      .filter((r) =>
        allows(
          roleStatements(r.template, r.roleId),
          'dynamodb:Query',
          `${r.tableArn}/index/${taskHistoryIndex.name}`,
        ),
      )
      .map((r) => r.name);
    const listRole = Object.entries(Template.fromStack(built.api).findResources('AWS::Lambda::Function'))
      .map(([, fn]) => fn as Resource)
      .find((fn) => fn.Properties.FunctionName === 'browserfleet-dev-http-list-tasks');
    if (listRole === undefined) throw new Error('No http-list-tasks function in the API stack');
    const listRoleId = functionRoleId(listRole);
    expect(querying).toEqual([`${built.api.stackName}/${listRoleId}`]);
    // Only Query: the function can't scan the index (every tenant's tasks) or write through it.
    const statements = roleStatements(Template.fromStack(built.api), listRoleId);
    const indexArn = `${resolve(built.api.resolve(built.state.table.tableArn))}/index/${taskHistoryIndex.name}`;
    for (const action of ['dynamodb:Scan', 'dynamodb:GetItem', 'dynamodb:PutItem']) {
      expect({ action, allowed: allows(statements, action, indexArn) }).toEqual({ action, allowed: false });
    }
  });

  it('the sweep index is still queryable by the functions that read the table (the sweeper among them)', () => {
    const sweeping = everyRole().filter((r) =>
      allows(
        roleStatements(r.template, r.roleId),
        'dynamodb:Query',
        `${r.tableArn}/index/${sweepIndex.name}`,
      ),
    );
    const names = sweeping.map((r) => r.name);
    expect(names.some((name) => /-engine\/Roleschedulesweep/.test(name))).toBe(true);
    expect(names.some((name) => /-fleet\/WorkerTask/.test(name))).toBe(true);
  });
});
