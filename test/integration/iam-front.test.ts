/**
 * The local cloud refuses what AWS would refuse: every part's AWS calls are judged by its
 * own role's policies from the synthesized app, and a denial reaches the SDK in the
 * service's own wire shape. And a grant deleted from cdk/ is a task that fails.
 */
import { DeleteTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessKeyFor } from '../../local/iam-front.js';
import { FLEET_WORKER, type RolePolicySet } from '../../local/iam-policies.js';
import { loadRolePolicies } from '../../local/synthesized-policies.js';
import { type AwsClients, createAwsClients, destroyAwsClients } from '../../shared/adapters/aws-clients.js';
import { LAMBDA_RUNNER } from '../../shared/contracts.js';
import { apiClient, type FixtureServer, startFixtureServer } from '../support/fixtures.js';
import { startTestCloud, TEST_API_KEY } from '../support/local-cloud.js';

type Cloud = Awaited<ReturnType<typeof startTestCloud>>;

const ACCOUNT = '000000000000';
const assumedRole = (policies: RolePolicySet, part: string) =>
  `arn:aws:sts::${ACCOUNT}:assumed-role/${policies[part]?.roleName}/${part}`;

/** The SDK's view of a refused call: its error name, status and message. */
const refusal = async (call: Promise<unknown>) => {
  const error = (await call.then(
    () => undefined,
    (e: unknown) => e,
  )) as (Error & { $metadata?: { httpStatusCode?: number }; Code?: string }) | undefined;
  if (error === undefined) throw new Error('the call was allowed');
  // Adapters' error translation may wrap the SDK's error; the wire answer is in the cause.
  const sdk = (error.cause as typeof error | undefined) ?? error;
  return { name: sdk.name, status: sdk.$metadata?.httpStatusCode, message: sdk.message };
};

describe('the IAM front', () => {
  let cloud: Cloud;
  let policies: RolePolicySet;
  const clients: AwsClients[] = [];
  /** SDK clients signing as `part`, through the front. */
  const as = (part: string): AwsClients => {
    const c = createAwsClients({
      region: 'us-east-1',
      endpoints: cloud.endpoints,
      localAccessKeyId: accessKeyFor(part),
    });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    policies = await loadRolePolicies();
    cloud = await startTestCloud({ worker: false, lambdaTier: false, sweeper: false });
  });
  afterAll(async () => {
    for (const c of clients) destroyAwsClients(c);
    await cloud?.dispose();
  });

  it('reads a role for every function and the fleet worker from the synthesized app', () => {
    expect(Object.keys(policies)).toEqual(
      expect.arrayContaining([
        'http-create-task',
        'http-get-task',
        'ws-connect',
        'sqs-run-task',
        'schedule-sweep',
        FLEET_WORKER,
      ]),
    );
  });

  it('answers a DynamoDB call the role does not allow with 400 AccessDeniedException, in AWS words', async () => {
    const table = `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/${cloud.names.stateTable}`;
    const denied = await refusal(
      as('http-get-task').dynamo.send(new DeleteTableCommand({ TableName: cloud.names.stateTable })),
    );
    expect(denied).toEqual({
      name: 'AccessDeniedException',
      status: 400,
      message:
        `User: ${assumedRole(policies, 'http-get-task')} is not authorized to perform: dynamodb:DeleteTable ` +
        `on resource: ${table} because no identity-based policy allows the dynamodb:DeleteTable action`,
    });
    // And the table is still there: a refused call never reaches the emulator.
    await as('http-health').dynamo.send(new DescribeTableCommand({ TableName: cloud.names.stateTable }));
  });

  it('answers an SQS call the role does not allow with 403 AccessDenied (query-compatible JSON)', async () => {
    const denied = await refusal(
      as('http-get-task').sqs.send(
        new SendMessageCommand({ QueueUrl: cloud.names.fleetQueueUrl, MessageBody: '{}' }),
      ),
    );
    expect(denied.name).toBe('AccessDenied');
    expect(denied.status).toBe(403);
    expect(denied.message).toMatch(
      new RegExp(
        `^User: ${assumedRole(policies, 'http-get-task')} is not authorized to perform: sqs:sendmessage on resource: ` +
          `arn:aws:sqs:us-east-1:${ACCOUNT}:browserfleet-tasks-fleet-local because no identity-based policy allows the sqs:sendmessage action$`,
      ),
    );
  });

  it('answers an S3 call outside the granted prefix with 403 AccessDenied XML, and allows the grant', async () => {
    const s3 = as(FLEET_WORKER).s3;
    const Bucket = cloud.names.artifactBucket;
    await s3.send(new PutObjectCommand({ Bucket, Key: 'tasks/t1/out.png', Body: 'png' }));
    const denied = await refusal(
      s3.send(new PutObjectCommand({ Bucket, Key: 'elsewhere/out.png', Body: 'png' })),
    );
    expect(denied).toEqual({
      name: 'AccessDenied',
      status: 403,
      message:
        `User: ${assumedRole(policies, FLEET_WORKER)} is not authorized to perform: s3:PutObject on resource: ` +
        `"arn:aws:s3:::${Bucket}/elsewhere/out.png" because no identity-based policy allows the s3:PutObject action`,
    });
  });

  it('judges a presigned GET as its signer: the get-task function may read task artifacts, the worker may not', async () => {
    const Bucket = cloud.names.artifactBucket;
    await as(FLEET_WORKER).s3.send(new PutObjectCommand({ Bucket, Key: 'tasks/t2/out.png', Body: 'png' }));
    const get = new GetObjectCommand({ Bucket, Key: 'tasks/t2/out.png' });
    const allowed = await fetch(await getSignedUrl(as('http-get-task').s3, get, { expiresIn: 60 }));
    expect(allowed.status).toBe(200);
    expect(await allowed.text()).toBe('png');
    const refused = await fetch(await getSignedUrl(as(FLEET_WORKER).s3, get, { expiresIn: 60 }));
    expect(refused.status).toBe(403);
    expect(await refused.text()).toMatch(
      /<Code>AccessDenied<\/Code><Message>User: .* s3:GetObject on resource: /,
    );
  });

  it('counts every call by part and operation, refused ones too', async () => {
    const before = cloud.iam?.calls() ?? [];
    const count = (part: string, operation: string, calls = cloud.iam?.calls() ?? []) =>
      calls.find((c) => c.part === part && c.operation === operation) ?? { calls: 0, items: 0 };
    const Bucket = cloud.names.artifactBucket;
    await as(FLEET_WORKER).s3.send(new PutObjectCommand({ Bucket, Key: 'tasks/t3/out.png', Body: 'png' }));
    await as('http-health').dynamo.send(new DescribeTableCommand({ TableName: cloud.names.stateTable }));
    await refusal(
      as('http-get-task').sqs.send(
        new SendMessageCommand({ QueueUrl: cloud.names.fleetQueueUrl, MessageBody: '{}' }),
      ),
    );
    const after = cloud.iam?.calls() ?? [];
    const delta = (part: string, operation: string) => ({
      calls: count(part, operation, after).calls - count(part, operation, before).calls,
      items: count(part, operation, after).items - count(part, operation, before).items,
    });
    expect(delta(FLEET_WORKER, 's3:PutObject')).toEqual({ calls: 1, items: 1 });
    expect(delta('http-health', 'DescribeTable')).toEqual({ calls: 1, items: 1 });
    expect(delta('http-get-task', 'SendMessage')).toEqual({ calls: 1, items: 1 });
  });

  it('refuses a key no part owns as AWS refuses an unknown access key', async () => {
    const stranger = createAwsClients({
      region: 'us-east-1',
      endpoints: cloud.endpoints,
      localAccessKeyId: 'AKIA0000000000STRANGER',
    });
    clients.push(stranger);
    const denied = await refusal(
      stranger.dynamo.send(new DescribeTableCommand({ TableName: cloud.names.stateTable })),
    );
    expect(denied).toMatchObject({ name: 'UnrecognizedClientException', status: 400 });
  });
});

describe('condition keys', () => {
  let cloud: Cloud;
  let clients: AwsClients;

  beforeAll(async () => {
    const synthesized = await loadRolePolicies();
    // A role whose only grant is conditional: list the bucket, but only under `tasks/`.
    const lister: RolePolicySet = {
      ...synthesized,
      lister: {
        logicalId: 'RoleLister',
        stack: 'test',
        roleName: 'test-RoleLister',
        policies: [
          {
            name: 'list-tasks',
            statements: [
              {
                Effect: 'Allow',
                Action: 's3:ListBucket',
                Resource: 'arn:aws:s3:::browserfleet-artifacts-dev-000000000000-us-east-1',
                Condition: { StringLike: { 's3:prefix': ['tasks/*'] } },
              },
            ],
          },
        ],
      },
    };
    cloud = await startTestCloud({ worker: false, lambdaTier: false, sweeper: false, iamPolicies: lister });
    clients = createAwsClients({
      region: 'us-east-1',
      endpoints: cloud.endpoints,
      localAccessKeyId: accessKeyFor('lister'),
    });
  });
  afterAll(async () => {
    destroyAwsClients(clients);
    await cloud?.dispose();
  });

  it('evaluates s3:prefix where the policy uses it', async () => {
    const Bucket = cloud.names.artifactBucket;
    await clients.s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'tasks/abc/' }));
    const denied = await refusal(clients.s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'sessions/' })));
    expect(denied).toMatchObject({ name: 'AccessDenied', status: 403 });
    expect(denied.message).toContain(`s3:ListBucket on resource: "arn:aws:s3:::${Bucket}"`);
  });
});

describe('a grant deleted from cdk/', () => {
  let cloud: Cloud;
  let site: FixtureServer;

  beforeAll(async () => {
    const synthesized = await loadRolePolicies();
    // As if `grantPut(worker, tasks/*)` were deleted from cdk/fleet-stack.ts: the worker's
    // statement allowing s3:PutObject on the task artifacts, removed from what synth made.
    const worker = synthesized[FLEET_WORKER];
    if (worker === undefined) throw new Error('no fleet worker role');
    const isTaskArtifactPut = (s: { Action?: string | string[]; Resource?: string | string[] }) =>
      [s.Action].flat().includes('s3:PutObject') && [s.Resource].flat().some((r) => r?.endsWith('/tasks/*'));
    const withoutGrant: RolePolicySet = {
      ...synthesized,
      [FLEET_WORKER]: {
        ...worker,
        policies: worker.policies.map((p) => ({
          ...p,
          statements: p.statements.filter((s) => !isTaskArtifactPut(s)),
        })),
      },
    };
    expect(JSON.stringify(withoutGrant)).not.toBe(JSON.stringify(synthesized));
    site = await startFixtureServer({ '/page': '<h1>hello</h1>' });
    cloud = await startTestCloud({
      lambdaTier: false,
      iamPolicies: withoutGrant,
      extraEnv: { RETRY_BASE_MS: '10', RETRY_CAP_MS: '50' },
    });
  });
  afterAll(async () => {
    await cloud?.dispose();
    await site?.close();
  });

  it('fails a screenshot task on the fleet with AccessDenied on its artifact upload', async () => {
    const api = apiClient(cloud.url, TEST_API_KEY);
    const done = await api.run({
      type: 'screenshot',
      url: `${site.url}/page`,
      tier: 'fleet',
      maxAttempts: 1,
    });
    expect(done.body.status).toBe('failed');
    // The API tells the tenant no more than that (details are for the logs); the front's
    // record is the AccessDenied the worker's upload was answered with.
    expect(done.body.error).toMatchObject({ code: 'INTERNAL' });
    expect(cloud.iam?.denials()).toContainEqual(
      expect.objectContaining({
        part: FLEET_WORKER,
        action: 's3:PutObject',
        resource: expect.stringMatching(/\/tasks\//),
      }),
    );
  });
});

describe("the Lambda tier's SQS event source", () => {
  let cloud: Cloud;

  beforeAll(async () => {
    const synthesized = await loadRolePolicies();
    // As if the SqsEventSource were removed from cdk/: its grant to the runner's role
    // (ReceiveMessage, DeleteMessage, …) goes with it.
    const runner = synthesized[LAMBDA_RUNNER.functionName];
    if (runner === undefined) throw new Error('no Lambda runner role');
    const withoutReceive: RolePolicySet = {
      ...synthesized,
      [LAMBDA_RUNNER.functionName]: {
        ...runner,
        policies: runner.policies.map((p) => ({
          ...p,
          statements: p.statements.filter((s) => ![s.Action].flat().includes('sqs:ReceiveMessage')),
        })),
      },
    };
    expect(JSON.stringify(withoutReceive)).not.toBe(JSON.stringify(synthesized));
    cloud = await startTestCloud({ worker: false, sweeper: false, iamPolicies: withoutReceive });
  });
  afterAll(async () => {
    await cloud?.dispose();
  });

  it("polls with the runner's own role, so a missing grant is an AccessDenied on ReceiveMessage", async () => {
    await expect
      .poll(
        () =>
          cloud.iam
            ?.denials()
            .some((d) => d.part === LAMBDA_RUNNER.functionName && d.action === 'sqs:ReceiveMessage'),
        {
          timeout: 20_000,
        },
      )
      .toBe(true);
  });
});
