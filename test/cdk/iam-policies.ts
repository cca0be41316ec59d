/**
 * Reading a synthesized template's IAM as AWS would: the statements a role holds (inline in
 * the role, attached policies, AWS-managed policies by name) and whether they allow an
 * action on a resource. Intrinsics resolve to fixed stand-ins (partition `aws`, account
 * 123456789012, region us-east-1; a reference to a resource or an import as `<name>`), so a
 * grant and the ARN a test asks about resolve alike.
 */
import type { Template } from 'aws-cdk-lib/assertions';

export type Resource = {
  Type: string;
  Properties: Record<string, unknown>;
  DependsOn?: string | string[];
};

export interface Statement {
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: unknown;
}

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';

const PSEUDO: Record<string, string> = {
  'AWS::Partition': 'aws',
  'AWS::AccountId': ACCOUNT,
  'AWS::Region': REGION,
  'AWS::URLSuffix': 'amazonaws.com',
};

/** A template value as a string, intrinsics replaced by their stand-ins. */
export const resolve = (value: unknown): string => {
  if (typeof value === 'string') return value;
  if (value === null || typeof value !== 'object') return String(value);
  const record = value as Record<string, unknown>;
  if ('Ref' in record) return PSEUDO[String(record.Ref)] ?? `<${String(record.Ref)}>`;
  if ('Fn::GetAtt' in record) return `<${(record['Fn::GetAtt'] as string[]).join('.')}>`;
  if ('Fn::ImportValue' in record) return `<import:${resolve(record['Fn::ImportValue'])}>`;
  if ('Fn::Sub' in record && typeof record['Fn::Sub'] === 'string') {
    return record['Fn::Sub'].replace(/\$\{([^}]+)\}/g, (_, name: string) => PSEUDO[name] ?? `<${name}>`);
  }
  if ('Fn::Join' in record) {
    const [separator, parts] = record['Fn::Join'] as [string, unknown[]];
    return parts.map(resolve).join(separator);
  }
  return JSON.stringify(value);
};

const asList = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** IAM's wildcard match (`*` any run of characters, `?` one), case-sensitive as for ARNs. */
const wildcard = (pattern: string, value: string, ignoreCase = false): boolean => {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`, ignoreCase ? 'i' : '').test(value);
};

/**
 * The statements of the AWS-managed policies the tests need to read, as AWS publishes them
 * (a role that attaches one is judged by these).
 */
const MANAGED_POLICIES: Record<string, Statement[]> = {
  'service-role/AWSLambdaVPCAccessExecutionRole': [
    {
      Effect: 'Allow',
      Action: [
        'logs:CreateLogGroup',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'ec2:CreateNetworkInterface',
        'ec2:DescribeNetworkInterfaces',
        'ec2:DescribeSubnets',
        'ec2:DeleteNetworkInterface',
        'ec2:AssignPrivateIpAddresses',
        'ec2:UnassignPrivateIpAddresses',
      ],
      Resource: '*',
    },
  ],
  'service-role/AWSLambdaBasicExecutionRole': [
    {
      Effect: 'Allow',
      Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: '*',
    },
  ],
  'service-role/AmazonAPIGatewayPushToCloudWatchLogs': [
    {
      Effect: 'Allow',
      Action: [
        'logs:CreateLogGroup',
        'logs:CreateLogStream',
        'logs:DescribeLogGroups',
        'logs:DescribeLogStreams',
        'logs:PutLogEvents',
        'logs:GetLogEvents',
        'logs:FilterLogEvents',
      ],
      Resource: '*',
    },
  ],
};

/** The logical id a `{ Ref }` or `{ Fn::GetAtt }` to a role names. */
export const referencedId = (value: unknown): string | undefined => {
  const record = value as Record<string, unknown> | undefined;
  if (record === undefined || record === null || typeof record !== 'object') return undefined;
  if (typeof record.Ref === 'string') return record.Ref;
  const getAtt = record['Fn::GetAtt'] as string[] | undefined;
  return getAtt?.[0];
};

/** Every statement the role `roleId` of `template` holds, however it got it. */
export const roleStatements = (template: Template, roleId: string): Statement[] => {
  const resources = template.toJSON().Resources as Record<string, Resource>;
  const role = resources[roleId];
  if (role?.Type !== 'AWS::IAM::Role') throw new Error(`${roleId} is not a role in this template`);
  const inline = asList(
    role.Properties.Policies as { PolicyDocument: { Statement: Statement[] } }[] | undefined,
  ).flatMap((p) => p.PolicyDocument.Statement);
  const attached = Object.values(resources)
    .filter(
      (r) =>
        r.Type === 'AWS::IAM::Policy' &&
        asList(r.Properties.Roles as unknown[]).some((ref) => referencedId(ref) === roleId),
    )
    .flatMap((p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
  const managed = asList(role.Properties.ManagedPolicyArns as unknown[]).flatMap((arn) => {
    const name = resolve(arn).replace(/^arn:aws:iam::aws:policy\//, '');
    const statements = MANAGED_POLICIES[name];
    if (statements === undefined) throw new Error(`No statements known for the managed policy ${name}`);
    return statements;
  });
  return [...inline, ...attached, ...managed];
};

/**
 * Whether `statements` allow `action` on `resource` (no explicit deny, some allow).
 * Conditions, `NotAction` and `NotResource` are not read: no role of this app uses them
 * (resource policies do, and they are not judged here).
 */
export const allows = (statements: Statement[], action: string, resource: string): boolean => {
  const matching = statements.filter(
    (s) =>
      asList(s.Action).some((a) => wildcard(a, action, true)) &&
      asList(s.Resource).some((r) => wildcard(resolve(r), resource)),
  );
  return matching.some((s) => s.Effect === 'Allow') && !matching.some((s) => s.Effect === 'Deny');
};

/** The role a Lambda function of `template` runs with. */
export const functionRoleId = (fn: Resource): string => {
  const id = referencedId(fn.Properties.Role);
  if (id === undefined) throw new Error('The function names no role of its own stack');
  return id;
};
