/**
 * IAM in the local cloud. The emulators accept any credentials; AWS doesn't. Each runtime
 * part signs its calls with an access key id of its own (`accessKeyFor`), and the front
 * (local/fault-front.ts, which asks `admit` before anything else) judges every call as AWS
 * would: the action, the resource ARN and the condition keys the request carries, against
 * that part's role policies from the synthesized templates (local/iam-policies.ts), with a
 * maintained evaluator. A denied call is answered in the service's own wire shape, so the
 * SDK raises exactly the error it would on AWS and the platform's handling of it is tested.
 *
 * The local administrator's key (the emulators' placeholder, which test set-up and
 * provisioning use) is a principal with every permission, as a developer's own admin
 * credentials are; any other key no part owns is refused as an unknown key.
 *
 * Judged: identity policies. Not judged: resource policies (the bucket's and queues'
 * policies only refuse plain HTTP and other accounts, neither of which happens here), SCPs,
 * and the Lambda service's own calls (the SQS event source polls with the function's role
 * on AWS; here local/lambda-tier.ts polls the emulator directly).
 */
import { createHash, randomUUID } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import type { Answer, FaultService } from './fault-front.js';
import { LOCAL_ACCOUNT, LOCAL_REGION, type RolePolicySet } from './iam-policies.js';

/** The key s3rver knows (and every emulator accepts): the local administrator's. */
export const ADMIN_ACCESS_KEY_ID = 'S3RVER';

/** An `AKIA…` key id per part, alphanumeric as DynamoDB Local requires. */
export const accessKeyFor = (part: string): string =>
  `AKIA${createHash('sha256').update(part).digest('hex').slice(0, 16).toUpperCase()}`;

/** One call as IAM sees it: the action, on what, with which request context. */
export interface AuthorizationRequest {
  action: string;
  resource: string;
  context: Record<string, string | string[]>;
}

export interface Denial {
  part: string;
  service: FaultService;
  action: string;
  resource: string;
  explicit: boolean;
}

export interface IamFront {
  /** Whether to forward the request (undefined) or answer with this refusal. May rewrite the request's key. */
  admit(service: FaultService, req: IncomingMessage, body: Buffer): Promise<Answer | undefined>;
  /** The access key id the part `part` signs with. */
  accessKeyFor(part: string): string;
  /** Every call refused so far. */
  denials(): readonly Denial[];
}

const asList = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

// ---------------------------------------------------------------- who is calling

const CREDENTIAL_IN_HEADER = /Credential=([^/,\s]+)\//;

/** The access key id a SigV4 request is signed with: the Authorization header, or a presigned URL's query. */
const accessKeyOf = (req: IncomingMessage): { key: string | undefined; presigned: boolean } => {
  const authorization = req.headers.authorization;
  if (typeof authorization === 'string') {
    return { key: CREDENTIAL_IN_HEADER.exec(authorization)?.[1], presigned: false };
  }
  const credential = new URL(req.url ?? '/', 'http://front').searchParams.get('X-Amz-Credential');
  return { key: credential?.split('/')[0], presigned: credential !== null };
};

/**
 * s3rver refuses keys it doesn't know (the others accept any): once judged, the call goes
 * on as the administrator's. SigV4 doesn't sign the key id itself (only its scope), and
 * s3rver doesn't check SigV4 signatures, so the rewritten request is still well-formed.
 */
const signAsAdministrator = (req: IncomingMessage): void => {
  const authorization = req.headers.authorization;
  if (typeof authorization === 'string') {
    req.headers.authorization = authorization.replace(
      CREDENTIAL_IN_HEADER,
      `Credential=${ADMIN_ACCESS_KEY_ID}/`,
    );
    return;
  }
  req.url = (req.url ?? '/').replace(
    /([?&]X-Amz-Credential=)[^%&/]+/,
    (_, prefix: string) => `${prefix}${ADMIN_ACCESS_KEY_ID}`,
  );
};

// ---------------------------------------------------------------- what it asks for

const tableArn = (table: string, index?: string) =>
  `arn:aws:dynamodb:${LOCAL_REGION}:${LOCAL_ACCOUNT}:table/${table}${index === undefined ? '' : `/index/${index}`}`;

/** A table's items, and the (dynamodb) condition keys a request about them carries. */
const dynamoContext = (input: Record<string, unknown>): Record<string, string | string[]> => {
  const context: Record<string, string | string[]> = {};
  if (typeof input.ReturnValues === 'string') context['dynamodb:ReturnValues'] = input.ReturnValues;
  if (typeof input.Select === 'string') context['dynamodb:Select'] = input.Select;
  if (typeof input.ReturnConsumedCapacity === 'string')
    context['dynamodb:ReturnConsumedCapacity'] = input.ReturnConsumedCapacity;
  return context;
};

/** TransactWriteItems has no IAM action of its own: each item is judged as its single-item action. */
const TRANSACT_ACTIONS: Record<string, string> = {
  Put: 'PutItem',
  Update: 'UpdateItem',
  Delete: 'DeleteItem',
  ConditionCheck: 'ConditionCheckItem',
  Get: 'GetItem',
};

const dynamoRequests = (operation: string, body: Buffer): AuthorizationRequest[] => {
  const input = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
  if (operation === 'TransactWriteItems' || operation === 'TransactGetItems') {
    return asList(input.TransactItems as Record<string, Record<string, unknown>>[]).flatMap((item) =>
      Object.entries(item).map(([kind, detail]) => ({
        action: `dynamodb:${TRANSACT_ACTIONS[kind] ?? kind}`,
        resource: tableArn(String(detail.TableName)),
        context: dynamoContext(detail),
      })),
    );
  }
  if (operation === 'BatchGetItem' || operation === 'BatchWriteItem') {
    return Object.keys((input.RequestItems as object | undefined) ?? {}).map((table) => ({
      action: `dynamodb:${operation}`,
      resource: tableArn(table),
      context: dynamoContext(input),
    }));
  }
  if (typeof input.TableName === 'string') {
    return [
      {
        action: `dynamodb:${operation}`,
        resource: tableArn(
          input.TableName,
          typeof input.IndexName === 'string' ? input.IndexName : undefined,
        ),
        context: dynamoContext(input),
      },
    ];
  }
  return [{ action: `dynamodb:${operation}`, resource: '*', context: {} }];
};

/** SQS's batch operations are authorized as the single-message action. */
const SQS_ACTIONS: Record<string, string> = {
  SendMessageBatch: 'SendMessage',
  DeleteMessageBatch: 'DeleteMessage',
  ChangeMessageVisibilityBatch: 'ChangeMessageVisibility',
};

/**
 * A queue URL's ARN. The local cloud is one account, whichever id the emulator writes into
 * its queue URLs (local-aws-sqs: 123456789012, LocalStack: 000000000000).
 */
const queueArn = (queueUrl: string): string => {
  const name = new URL(queueUrl).pathname.split('/').filter(Boolean).at(-1);
  return `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${name}`;
};

const sqsRequests = (req: IncomingMessage, body: Buffer): AuthorizationRequest[] => {
  const target = req.headers['x-amz-target'];
  let operation: string;
  let input: Record<string, unknown>;
  if (typeof target === 'string') {
    operation = target.slice(target.lastIndexOf('.') + 1);
    input = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
  } else {
    // The query protocol (older SDKs, the AWS CLI v1): a form body.
    const form = new URLSearchParams(body.toString('utf8'));
    operation = form.get('Action') ?? 'Unknown';
    input = Object.fromEntries(form);
  }
  const action = `sqs:${SQS_ACTIONS[operation] ?? operation}`;
  if (typeof input.QueueUrl === 'string')
    return [{ action, resource: queueArn(input.QueueUrl), context: {} }];
  if (typeof input.QueueName === 'string') {
    return [
      { action, resource: `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${input.QueueName}`, context: {} },
    ];
  }
  return [{ action, resource: '*', context: {} }];
};

/** Bucket subresources and the action each names (GET / PUT / DELETE). */
const BUCKET_SUBRESOURCES: Record<string, [string, string, string]> = {
  policy: ['GetBucketPolicy', 'PutBucketPolicy', 'DeleteBucketPolicy'],
  cors: ['GetBucketCORS', 'PutBucketCORS', 'PutBucketCORS'],
  lifecycle: ['GetLifecycleConfiguration', 'PutLifecycleConfiguration', 'PutLifecycleConfiguration'],
  website: ['GetBucketWebsite', 'PutBucketWebsite', 'DeleteBucketWebsite'],
  tagging: ['GetBucketTagging', 'PutBucketTagging', 'PutBucketTagging'],
  acl: ['GetBucketAcl', 'PutBucketAcl', 'PutBucketAcl'],
  versioning: ['GetBucketVersioning', 'PutBucketVersioning', 'PutBucketVersioning'],
  location: ['GetBucketLocation', 'GetBucketLocation', 'GetBucketLocation'],
  uploads: ['ListBucketMultipartUploads', 'ListBucketMultipartUploads', 'ListBucketMultipartUploads'],
  versions: ['ListBucketVersions', 'ListBucketVersions', 'ListBucketVersions'],
};

const s3Requests = (req: IncomingMessage, body: Buffer, presigned: boolean): AuthorizationRequest[] => {
  const url = new URL(req.url ?? '/', 'http://front');
  const [bucket, ...keyParts] = url.pathname.slice(1).split('/');
  const key = keyParts.map(decodeURIComponent).join('/');
  const method = req.method ?? 'GET';
  const q = url.searchParams;
  const context: Record<string, string | string[]> = {
    's3:authType': presigned ? 'REST-QUERY-STRING' : 'REST-HEADER',
    's3:signatureversion': 'AWS4-HMAC-SHA256',
  };
  const header = (name: string) => {
    const value = req.headers[name];
    return typeof value === 'string' ? value : undefined;
  };
  for (const [name, contextKey] of [
    ['x-amz-acl', 's3:x-amz-acl'],
    ['x-amz-server-side-encryption', 's3:x-amz-server-side-encryption'],
    ['x-amz-storage-class', 's3:x-amz-storage-class'],
    ['x-amz-copy-source', 's3:x-amz-copy-source'],
    ['x-amz-metadata-directive', 's3:x-amz-metadata-directive'],
  ] as const) {
    const value = header(name);
    if (value !== undefined) context[contextKey] = value;
  }
  if (bucket === undefined || bucket === '')
    return [{ action: 's3:ListAllMyBuckets', resource: '*', context }];
  const bucketArn = `arn:aws:s3:::${bucket}`;
  if (key === '') {
    const sub = Object.keys(BUCKET_SUBRESOURCES).find((s) => q.has(s));
    if (method === 'POST' && q.has('delete')) {
      // DeleteObjects: each key is judged as s3:DeleteObject.
      const keys = [...body.toString('utf8').matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => m[1] ?? '');
      return keys.map((k) => ({ action: 's3:DeleteObject', resource: `${bucketArn}/${k}`, context }));
    }
    if (sub !== undefined) {
      const [get, put, del] = BUCKET_SUBRESOURCES[sub] as [string, string, string];
      const action = method === 'PUT' ? put : method === 'DELETE' ? del : get;
      return [{ action: `s3:${action}`, resource: bucketArn, context }];
    }
    if (method === 'PUT') return [{ action: 's3:CreateBucket', resource: bucketArn, context }];
    if (method === 'DELETE') return [{ action: 's3:DeleteBucket', resource: bucketArn, context }];
    // GET (ListObjects) and HEAD (HeadBucket) are both s3:ListBucket, with its condition keys.
    context['s3:prefix'] = q.get('prefix') ?? '';
    if (q.has('delimiter')) context['s3:delimiter'] = q.get('delimiter') ?? '';
    if (q.has('max-keys')) context['s3:max-keys'] = q.get('max-keys') ?? '';
    return [{ action: 's3:ListBucket', resource: bucketArn, context }];
  }
  const objectArn = `${bucketArn}/${key}`;
  const versioned = q.has('versionId');
  const one = (action: string): AuthorizationRequest[] => [
    { action: `s3:${action}`, resource: objectArn, context },
  ];
  if (q.has('tagging')) {
    return one(
      method === 'PUT'
        ? 'PutObjectTagging'
        : method === 'DELETE'
          ? 'DeleteObjectTagging'
          : 'GetObjectTagging',
    );
  }
  if (q.has('acl')) return one(method === 'PUT' ? 'PutObjectAcl' : 'GetObjectAcl');
  switch (method) {
    case 'GET':
      if (q.has('uploadId')) return one('ListMultipartUploadParts');
      return one(versioned ? 'GetObjectVersion' : 'GetObject');
    case 'HEAD':
      return one(versioned ? 'GetObjectVersion' : 'GetObject');
    case 'DELETE':
      if (q.has('uploadId')) return one('AbortMultipartUpload');
      return one(versioned ? 'DeleteObjectVersion' : 'DeleteObject');
    case 'PUT': {
      const source = header('x-amz-copy-source');
      const put = one('PutObject');
      // CopyObject also reads its source.
      if (source === undefined) return put;
      const path = decodeURIComponent(source.split('?')[0] ?? '').replace(/^\//, '');
      return [...put, { action: 's3:GetObject', resource: `arn:aws:s3:::${path}`, context }];
    }
    default:
      // POST ?uploads (CreateMultipartUpload) and ?uploadId (CompleteMultipartUpload).
      return one('PutObject');
  }
};

// ---------------------------------------------------------------- how AWS says no

const s3ErrorAnswer = (status: number, code: string, message: string, method: string | undefined): Answer => {
  const requestId = randomUUID().replace(/-/g, '').slice(0, 16).toUpperCase();
  const body =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${code}</Code><Message>${message.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</Message>` +
    `<RequestId>${requestId}</RequestId><HostId>${Buffer.from(requestId).toString('base64')}</HostId></Error>`;
  return {
    status,
    headers: { 'content-type': 'application/xml', 'x-amz-request-id': requestId },
    // A HEAD answer has no body; the SDK reads the status (403 → `Forbidden`).
    body: method === 'HEAD' ? '' : body,
  };
};

const AWS_JSON_1_0 = 'application/x-amz-json-1.0';

const jsonAnswer = (status: number, body: object, extra: Record<string, string> = {}): Answer => ({
  status,
  headers: { 'content-type': AWS_JSON_1_0, 'x-amzn-requestid': randomUUID(), ...extra },
  body: JSON.stringify(body),
});

/**
 * AWS's wording: "User: <principal> is not authorized to perform: <action> on resource:
 * <arn> because no identity-based policy allows the <action> action" (or "with an
 * explicit deny in an identity-based policy"). SQS spells its actions in lower case; S3
 * quotes the resource.
 */
const accessDenied = (
  service: FaultService,
  principal: string,
  request: AuthorizationRequest,
  explicit: boolean,
  method: string | undefined,
): Answer => {
  const action = service === 'sqs' ? request.action.toLowerCase() : request.action;
  const resource = service === 's3' ? `"${request.resource}"` : request.resource;
  const why = explicit
    ? 'with an explicit deny in an identity-based policy'
    : `because no identity-based policy allows the ${action} action`;
  const message = `User: ${principal} is not authorized to perform: ${action} on resource: ${resource} ${why}`;
  if (service === 'dynamodb') {
    return jsonAnswer(400, { __type: 'com.amazon.coral.service#AccessDeniedException', Message: message });
  }
  if (service === 'sqs') {
    // The JSON protocol is query-compatible: the query error code rides in a header.
    return jsonAnswer(
      403,
      { __type: 'com.amazon.coral.service#AccessDeniedException', message },
      { 'x-amzn-query-error': 'AccessDenied;Sender' },
    );
  }
  return s3ErrorAnswer(403, 'AccessDenied', message, method);
};

/** A key no part owns: what each service answers for an access key id it has never issued. */
const unknownKey = (service: FaultService, method: string | undefined): Answer => {
  if (service === 'dynamodb') {
    return jsonAnswer(400, {
      __type: 'com.amazon.coral.service#UnrecognizedClientException',
      message: 'The security token included in the request is invalid.',
    });
  }
  if (service === 'sqs') {
    return jsonAnswer(
      403,
      {
        __type: 'com.amazon.coral.service#InvalidClientTokenId',
        message: 'The security token included in the request is invalid.',
      },
      { 'x-amzn-query-error': 'InvalidClientTokenId;Sender' },
    );
  }
  return s3ErrorAnswer(
    403,
    'InvalidAccessKeyId',
    'The AWS Access Key Id you provided does not exist in our records.',
    method,
  );
};

// ---------------------------------------------------------------- the front

export interface IamFrontOptions {
  /** Part → role policies, already localized (local/iam-policies.ts). */
  policies: RolePolicySet;
  /** Append each denial here as a JSON line (to collect what a whole test run was refused). */
  denialLog?: string | undefined;
}

const MAX_REMEMBERED_VERDICTS = 10_000;

/** An IAM front over the role policies of every runtime part. */
export const createIamFront = ({ policies, denialLog }: IamFrontOptions): IamFront => {
  const partsByKey = new Map(Object.keys(policies).map((part) => [accessKeyFor(part), part]));
  const denials: Denial[] = [];
  // The same call is judged the same way every time: evaluate it once.
  const verdicts = new Map<string, Promise<'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied'>>();

  const evaluate = (part: string, principal: string, request: AuthorizationRequest) => {
    const cacheKey = JSON.stringify([part, request]);
    let verdict = verdicts.get(cacheKey);
    if (verdict === undefined) {
      const role = policies[part];
      verdict = runSimulation(
        {
          identityPolicies: (role?.policies ?? []).map((p) => ({
            name: p.name,
            policy: { Version: '2012-10-17', Statement: p.statements },
          })),
          serviceControlPolicies: [],
          resourceControlPolicies: [],
          resourcePolicy: undefined,
          request: {
            action: request.action,
            principal,
            resource: { resource: request.resource, accountId: LOCAL_ACCOUNT },
            contextVariables: {
              // The SDK calls AWS over TLS; only the loopback hop to the front is plain.
              'aws:SecureTransport': 'true',
              'aws:PrincipalArn': principal,
              'aws:PrincipalAccount': LOCAL_ACCOUNT,
              'aws:RequestedRegion': LOCAL_REGION,
              ...request.context,
            },
          },
        } as Parameters<typeof runSimulation>[0],
        {},
      ).then((response) => {
        if (response.resultType === 'error') {
          // An action the evaluator doesn't know is not one AWS would allow.
          return 'ImplicitlyDenied' as const;
        }
        return response.overallResult as 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';
      });
      // Object keys are per task: a long `npm start` would otherwise remember every one.
      if (verdicts.size >= MAX_REMEMBERED_VERDICTS) verdicts.clear();
      verdicts.set(cacheKey, verdict);
    }
    return verdict;
  };

  const admit: IamFront['admit'] = async (service, req, body) => {
    const { key, presigned } = accessKeyOf(req);
    if (key === ADMIN_ACCESS_KEY_ID) return undefined;
    const part = key === undefined ? undefined : partsByKey.get(key);
    if (part === undefined) return unknownKey(service, req.method);
    const role = policies[part];
    const principal = `arn:aws:sts::${LOCAL_ACCOUNT}:assumed-role/${role?.roleName ?? part}/${part}`;
    let requests: AuthorizationRequest[];
    try {
      requests =
        service === 'dynamodb'
          ? dynamoRequests(operationOf(req), body)
          : service === 'sqs'
            ? sqsRequests(req, body)
            : s3Requests(req, body, presigned);
    } catch {
      // A body the front can't read: the emulator answers it as malformed, as AWS would.
      requests = [];
    }
    for (const request of requests) {
      const verdict = await evaluate(part, principal, request);
      if (verdict === 'Allowed') continue;
      const denial: Denial = {
        part,
        service,
        action: request.action,
        resource: request.resource,
        explicit: verdict === 'ExplicitlyDenied',
      };
      denials.push(denial);
      if (denialLog !== undefined) appendFileSync(denialLog, `${JSON.stringify(denial)}\n`);
      return accessDenied(service, principal, request, denial.explicit, req.method);
    }
    if (service === 's3') signAsAdministrator(req);
    return undefined;
  };

  return { admit, accessKeyFor, denials: () => [...denials] };
};

const operationOf = (req: IncomingMessage): string => {
  const target = req.headers['x-amz-target'];
  return typeof target === 'string' ? target.slice(target.lastIndexOf('.') + 1) : 'Unknown';
};
