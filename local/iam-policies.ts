/**
 * The IAM the local cloud's front judges calls by: each runtime part's role and its
 * identity policies, read from the synthesized CDK app, so the grants a deploy would give
 * are the grants the local cloud enforces — no second list to keep in step. This file reads
 * them out of the templates and maps their resource names to a local stage's; the synthesis
 * and its cache are in local/synthesized-policies.ts.
 */

/** The account and region the local cloud's ARNs carry (the emulators' own account id). */
export const LOCAL_ACCOUNT = '000000000000';
export const LOCAL_REGION = 'us-east-1';

/** The stage the app is synthesized for; its resource names are mapped to the local ones. */
export const SYNTH_STAGE = 'dev';

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

/** One runtime part's role: what AWS would call it, and every statement it holds. */
export interface RolePolicies {
  /** The role's logical id in its stack (`RolehttpcreatetaskEF0546FB`). */
  logicalId: string;
  stack: string;
  /** The role's name as the denial names it (CloudFormation makes up `<stack>-<id>-<suffix>`). */
  roleName: string;
  /** Inline and attached policies, intrinsics resolved, the synthesized stage's resource names. */
  policies: { name: string; statements: PolicyStatement[] }[];
}

/** Runtime part (a function's name, or `fleet-worker`) → its role. */
export type RolePolicySet = Record<string, RolePolicies>;

/** The fleet worker's name among the parts (functions go by their contracts name). */
export const FLEET_WORKER = 'fleet-worker';

/** AWS-managed policies a role may attach that grant nothing on DynamoDB, SQS or S3. */
const MANAGED_WITHOUT_DATA_ACCESS = new Set([
  'service-role/AWSLambdaBasicExecutionRole',
  'service-role/AWSLambdaVPCAccessExecutionRole',
  'service-role/AmazonECSTaskExecutionRolePolicy',
]);

export type Template = {
  Resources: Record<
    string,
    { Type: string; Properties?: Record<string, unknown>; Metadata?: Record<string, unknown> }
  >;
  Outputs?: Record<string, { Value: unknown; Export?: { Name: unknown } }>;
};

const asList = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/**
 * Resolves intrinsics as CloudFormation would at deploy, with the local account and
 * region: references and `Arn`s of tables, queues and buckets become their names and ARNs;
 * an import follows its export into the exporting stack. What can't be resolved becomes
 * `<unresolved:…>`, which no request ARN matches (a grant the front can't read denies).
 */
const resolver = (templates: Record<string, Template>) => {
  const exports = new Map<string, { stack: string; value: unknown }>();
  for (const [stack, t] of Object.entries(templates)) {
    for (const output of Object.values(t.Outputs ?? {})) {
      if (output.Export !== undefined)
        exports.set(String(output.Export.Name), { stack, value: output.Value });
    }
  }
  const pseudo: Record<string, string> = {
    'AWS::Partition': 'aws',
    'AWS::AccountId': LOCAL_ACCOUNT,
    'AWS::Region': LOCAL_REGION,
    'AWS::URLSuffix': 'amazonaws.com',
  };
  const resolve = (stack: string, value: unknown): string => {
    if (typeof value === 'string') return value;
    if (value === null || typeof value !== 'object') return String(value);
    const record = value as Record<string, unknown>;
    const resources = templates[stack]?.Resources ?? {};
    if ('Ref' in record) {
      const ref = String(record.Ref);
      if (pseudo[ref] !== undefined) return pseudo[ref];
      const r = resources[ref];
      const p = r?.Properties ?? {};
      if (r?.Type === 'AWS::DynamoDB::Table') return String(p.TableName);
      if (r?.Type === 'AWS::S3::Bucket') return resolve(stack, p.BucketName);
      if (r?.Type === 'AWS::SQS::Queue')
        return `https://sqs.${LOCAL_REGION}.amazonaws.com/${LOCAL_ACCOUNT}/${resolve(stack, p.QueueName)}`;
      return `<unresolved:${stack}/${ref}>`;
    }
    if ('Fn::GetAtt' in record) {
      const [id = '', attribute] = record['Fn::GetAtt'] as string[];
      const r = resources[id];
      const p = r?.Properties ?? {};
      if (attribute === 'Arn' && r?.Type === 'AWS::DynamoDB::Table')
        return `arn:aws:dynamodb:${LOCAL_REGION}:${LOCAL_ACCOUNT}:table/${resolve(stack, p.TableName)}`;
      if (attribute === 'Arn' && r?.Type === 'AWS::SQS::Queue')
        return `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${resolve(stack, p.QueueName)}`;
      if (attribute === 'Arn' && r?.Type === 'AWS::S3::Bucket')
        return `arn:aws:s3:::${resolve(stack, p.BucketName)}`;
      return `<unresolved:${stack}/${id}.${attribute}>`;
    }
    if ('Fn::ImportValue' in record) {
      const name = resolve(stack, record['Fn::ImportValue']);
      const exported = exports.get(name);
      return exported === undefined ? `<unresolved:import ${name}>` : resolve(exported.stack, exported.value);
    }
    if ('Fn::Join' in record) {
      const [separator, parts] = record['Fn::Join'] as [string, unknown[]];
      return parts.map((part) => resolve(stack, part)).join(separator);
    }
    if ('Fn::Sub' in record && typeof record['Fn::Sub'] === 'string') {
      return record['Fn::Sub'].replace(/\$\{([^}]+)\}/g, (_, name: string) => resolve(stack, { Ref: name }));
    }
    return `<unresolved:${JSON.stringify(value)}>`;
  };
  return resolve;
};

const resolveStatement = (resolve: (v: unknown) => string, s: Record<string, unknown>): PolicyStatement => {
  const out: Record<string, unknown> = { Effect: s.Effect };
  for (const key of ['Sid', 'Action', 'NotAction'] as const) if (s[key] !== undefined) out[key] = s[key];
  for (const key of ['Resource', 'NotResource'] as const) {
    if (s[key] !== undefined) out[key] = asList(s[key]).map(resolve);
  }
  if (s.Condition !== undefined) {
    out.Condition = Object.fromEntries(
      Object.entries(s.Condition as Record<string, Record<string, unknown>>).map(([op, keys]) => [
        op,
        Object.fromEntries(
          Object.entries(keys).map(([k, v]) => [k, Array.isArray(v) ? v.map(resolve) : resolve(v)]),
        ),
      ]),
    );
  }
  return out as unknown as PolicyStatement;
};

/** The roles of every runtime part in a synthesized app's templates (stack name → template). */
export const rolePoliciesFromTemplates = (templates: Record<string, Template>): RolePolicySet => {
  const resolveIn = resolver(templates);
  const parts: { part: string; stack: string; roleId: string }[] = [];
  for (const [stack, t] of Object.entries(templates)) {
    for (const r of Object.values(t.Resources)) {
      const path = String(r.Metadata?.['aws:cdk:path'] ?? '');
      if (r.Type === 'AWS::Lambda::Function') {
        // Functions are `Fn-<name>` constructs (cdk/node-function.ts): the contracts' names.
        const name = /\/Fn-([\w-]+)\/Resource$/.exec(path)?.[1];
        const roleId = (r.Properties?.Role as { 'Fn::GetAtt'?: string[] } | undefined)?.['Fn::GetAtt']?.[0];
        if (name !== undefined && roleId !== undefined) parts.push({ part: name, stack, roleId });
      }
      if (r.Type === 'AWS::ECS::TaskDefinition') {
        const roleId = (r.Properties?.TaskRoleArn as { 'Fn::GetAtt'?: string[] } | undefined)?.[
          'Fn::GetAtt'
        ]?.[0];
        if (roleId !== undefined) parts.push({ part: FLEET_WORKER, stack, roleId });
      }
    }
  }
  const set: RolePolicySet = {};
  for (const { part, stack, roleId } of parts) {
    const resources = templates[stack]?.Resources ?? {};
    const role = resources[roleId];
    if (role?.Type !== 'AWS::IAM::Role')
      throw new Error(`${stack}/${roleId} (the role of ${part}) is not a role`);
    const resolve = (v: unknown) => resolveIn(stack, v);
    const props = role.Properties ?? {};
    const policies: RolePolicies['policies'] = [];
    for (const p of asList(
      props.Policies as { PolicyName: string; PolicyDocument: { Statement: unknown[] } }[],
    )) {
      policies.push({
        name: `${roleId}/${p.PolicyName}`,
        statements: p.PolicyDocument.Statement.map((s) =>
          resolveStatement(resolve, s as Record<string, unknown>),
        ),
      });
    }
    for (const [id, r] of Object.entries(resources)) {
      if (r.Type !== 'AWS::IAM::Policy' && r.Type !== 'AWS::IAM::ManagedPolicy') continue;
      const roles = asList(r.Properties?.Roles as unknown[]).map((ref) => (ref as { Ref?: string }).Ref);
      if (!roles.includes(roleId)) continue;
      const doc = r.Properties?.PolicyDocument as { Statement: unknown[] };
      policies.push({
        name: id,
        statements: asList(doc.Statement).map((s) => resolveStatement(resolve, s as Record<string, unknown>)),
      });
    }
    for (const arn of asList(props.ManagedPolicyArns as unknown[])) {
      const name = resolve(arn).replace(/^arn:aws:iam::aws:policy\//, '');
      // Its statements aren't in the template; one that could grant data access can't be judged.
      if (!MANAGED_WITHOUT_DATA_ACCESS.has(name)) {
        throw new Error(`${part}'s role attaches ${name}: the local IAM front doesn't know its statements`);
      }
    }
    set[part] = { logicalId: roleId, stack, roleName: `${stack}-${roleId}`.slice(0, 64), policies };
  }
  return set;
};

/**
 * The synthesized stage's physical names → the local cloud's, for `stage`: the table, the
 * queues and the bucket (whose deployed name also carries account and region).
 */
const nameMapping = async (localStage: string): Promise<[string, string][]> => {
  const { ARTIFACT_BUCKET, QUEUES, resourceName, STATE_TABLE } = await import('../shared/contracts.js');
  const bases = [
    STATE_TABLE.baseName,
    ...[QUEUES.fleet, QUEUES.lambda, QUEUES.webhooks].flatMap((q) => [q.baseName, q.dlqBaseName]),
  ];
  return [
    [
      `${resourceName(ARTIFACT_BUCKET.baseName, SYNTH_STAGE)}-${LOCAL_ACCOUNT}-${LOCAL_REGION}`,
      resourceName(ARTIFACT_BUCKET.baseName, localStage),
    ],
    ...bases.map((b): [string, string] => [resourceName(b, SYNTH_STAGE), resourceName(b, localStage)]),
  ];
};

/** The policy set with the synthesized stage's resource names replaced by `localStage`'s. */
export const localizePolicies = async (set: RolePolicySet, localStage: string): Promise<RolePolicySet> => {
  const mapping = await nameMapping(localStage);
  // Whole name segments only (`…:table/<name>`, `…:<queue>`, `:::<bucket>/…`), longest first,
  // so one name that prefixes another isn't half-replaced.
  const ordered = [...mapping].sort(([a], [b]) => b.length - a.length);
  const localize = (arn: string) =>
    ordered.reduce(
      (value, [from, to]) =>
        value.replace(new RegExp(`(?<=[:/])${from.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?=$|/)`, 'g'), to),
      arn,
    );
  const text = JSON.stringify(set, (_key, value: unknown) =>
    typeof value === 'string' ? localize(value) : value,
  );
  return JSON.parse(text) as RolePolicySet;
};
